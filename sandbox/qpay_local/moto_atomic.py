"""Make moto's DynamoDB apply one request at a time, as DynamoDB applies writes to an item.

moto checks a condition and then writes without a lock, and a failed transaction restores whole-table
copies taken before it ran; under a threaded server two requests interleave and one write is lost
(seen here: a late ``payment_capture_pending`` overwriting ``Captured``). DynamoDB serialises
conditional writes per item, so the local stack serialises moto's DynamoDB backend with one lock.
DynamoDB Local needs none of this.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_METHODS = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "query",
    "scan",
    "batch_write_item",
    "batch_get_item",
    "transact_write_items",
    "transact_get_items",
)


def install() -> None:
    """Idempotent: wrap moto's DynamoDB backend methods with one re-entrant lock."""
    from moto.dynamodb.models import DynamoDBBackend  # noqa: PLC0415

    for name in _METHODS:
        method = getattr(DynamoDBBackend, name, None)
        if method is None or getattr(method, "_qpay_atomic", False):
            continue

        def wrap(fn: Any) -> Any:
            @functools.wraps(fn)
            def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
                with _LOCK:
                    return fn(self, *args, **kwargs)

            locked._qpay_atomic = True  # type: ignore[attr-defined]
            return locked

        setattr(DynamoDBBackend, name, wrap(method))
    _keep_stream_on_rollback(DynamoDBBackend)


def _keep_stream_on_rollback(backend_cls: Any) -> None:
    """A cancelled transaction makes moto put back deep copies of its tables, stream shard included:
    every stream reader's iterator then points at an orphaned shard and sees no record again. Put the
    live shard back on the restored table (without the records of the cancelled writes), as DynamoDB
    has one stream whatever a transaction does."""
    method = backend_cls.transact_write_items
    if getattr(method, "_qpay_stream_kept", False):
        return

    @functools.wraps(method)
    def kept(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            shards = {
                name: (table.stream_shard, len(table.stream_shard.items))
                for name, table in self.tables.items()
                if getattr(table, "stream_shard", None) is not None
            }
            try:
                return method(self, *args, **kwargs)
            finally:
                for name, (shard, count) in shards.items():
                    table = self.tables.get(name)
                    if table is not None and table.stream_shard is not shard:
                        del shard.items[count:]
                        shard.table = table
                        table.stream_shard = shard

    kept._qpay_atomic = True  # type: ignore[attr-defined]
    kept._qpay_stream_kept = True  # type: ignore[attr-defined]
    backend_cls.transact_write_items = kept

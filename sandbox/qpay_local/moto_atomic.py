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

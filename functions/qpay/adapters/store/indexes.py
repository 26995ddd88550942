"""The sparse indexes, read shard by shard (see :mod:`.keys`), and the reconciliation reports.

Every index's partition key is spread over ``SHARDS`` values; a reader queries each shard (in parallel,
a few at a time) and merges. Reads return keys only; the caller reads each item it acts on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qpay.adapters.dynamo import from_ddb, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.keys import (
    CHANGED_INDEX,
    OPEN_REFUNDS_INDEX,
    PENDING_INDEX,
    TTL_ATTRIBUTE,
    changed_keys_of_day,
    open_refund_keys,
    pending_keys,
)

READERS = 8  # shards queried at once
INDEX_PAGE = 100
_POOL: list[ThreadPoolExecutor] = []


def _readers() -> ThreadPoolExecutor:
    """One pool per container, made on first use (threads outlive an invocation; none at import)."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="shard"))
    return _POOL[0]


class IndexesMixin(StoreBase):
    def due_pending(self, *, now: int, limit: int) -> list[str]:
        """Ids of open payments whose deadline has passed, oldest first, at most ``limit`` (all shards)."""
        rows = self._across_shards(PENDING_INDEX, "pending_pk", pending_keys(), "pending_sk <= :b", now, limit)
        rows.sort(key=lambda r: (r.get("pending_sk", 0), r["pk"]))
        return [str(r["pk"]).removeprefix("PAYMENT#") for r in rows[:limit]]

    def open_refunds_due(self, *, requested_before: int, limit: int) -> list[tuple[str, str]]:
        """(payment id, refund id) of refunds still Requested or Pending, requested before the given time,
        oldest first: what the refund sweeper restarts or settles."""
        rows = self._across_shards(
            OPEN_REFUNDS_INDEX,
            "open_refund_pk",
            open_refund_keys(),
            "open_refund_sk <= :b",
            requested_before,
            limit,
        )
        rows.sort(key=lambda r: (r.get("open_refund_sk", 0), r["sk"]))
        return [(str(r["pk"]).removeprefix("PAYMENT#"), str(r["sk"]).removeprefix("REFUND#")) for r in rows[:limit]]

    def changed_payments(
        self,
        *,
        day: str,
        limit: int,
        shards: Sequence[int] | None = None,
        pk_between: tuple[str, str] | None = None,
    ) -> Iterator[str]:
        """Ids of payments whose last change was on ``day`` (UTC), every shard (or only ``shards``, and only
        table keys in ``pk_between``: one invocation of a fanned-out reconciliation), at most ``limit``."""
        seen = 0
        keys = changed_keys_of_day(day)
        for key in keys if shards is None else [keys[n] for n in shards]:
            start: dict[str, Any] | None = None
            while seen < limit:
                kwargs: dict[str, Any] = {
                    "TableName": self._table,
                    "IndexName": CHANGED_INDEX,
                    "KeyConditionExpression": "changed_day = :a",
                    "ExpressionAttributeValues": {":a": val(key)},
                    "Limit": min(INDEX_PAGE, limit - seen),
                }
                if pk_between is not None:
                    kwargs["KeyConditionExpression"] += " AND pk BETWEEN :lo AND :hi"
                    kwargs["ExpressionAttributeValues"] |= {":lo": val(pk_between[0]), ":hi": val(pk_between[1])}
                if start:
                    kwargs["ExclusiveStartKey"] = start
                response = self._db.query(**kwargs)
                for raw in response.get("Items", []):
                    seen += 1
                    yield str((from_ddb(raw) or {})["pk"]).removeprefix("PAYMENT#")
                start = response.get("LastEvaluatedKey")
                if not start:
                    break

    def _across_shards(
        self, index: str, pk_name: str, keys: list[str], condition: str, b: int, limit: int
    ) -> list[dict[str, Any]]:
        def one(key: str) -> list[dict[str, Any]]:
            response = self._db.query(
                TableName=self._table,
                IndexName=index,
                KeyConditionExpression=f"{pk_name} = :a AND {condition}",
                ExpressionAttributeValues={":a": val(key), ":b": val(b)},
                Limit=limit,
            )
            return [from_ddb(i) or {} for i in response.get("Items", [])]

        return [row for rows in _readers().map(one, keys) for row in rows]

    def get_report(self, day: str) -> dict[str, Any] | None:
        """The reconciliation report of ``day``, or ``None``."""
        response = self._db.get_item(
            TableName=self._table, Key={"pk": val(f"REPORT#{day}"), "sk": val("REPORT")}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_ddb(item) if item else None

    def put_report(self, day: str, report: dict[str, Any], *, now: int, retain_until: int) -> None:
        """The reconciliation report of ``day`` (one item per day; a re-run overwrites it)."""
        item = {"pk": f"REPORT#{day}", "sk": "REPORT", "kind": "report", "written_at": now, **report}
        item[TTL_ATTRIBUTE] = retain_until
        self._db.put_item(TableName=self._table, Item=to_ddb(item))

"""Sparse indexes (pending by deadline, changed by day) and reconciliation reports."""

from __future__ import annotations

from typing import Any

from qpay.adapters.dynamo import from_ddb, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.keys import (
    CHANGED_INDEX,
    PENDING_INDEX,
    PENDING_PK,
    TTL_ATTRIBUTE,
)


class IndexesMixin(StoreBase):
    def due_pending(
        self, *, now: int, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Ids of open payments whose deadline has passed, oldest first, from the sparse pending index."""
        return self._index_page(
            PENDING_INDEX, "pending_pk = :a AND pending_sk <= :b", PENDING_PK, now, limit, start_key
        )

    def changed_payments(
        self, *, day: str, since: int, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Ids of payments last changed on ``day`` (UTC) at or after ``since``, from the sparse
        changed-by-day index (never a table scan). Paginated by the caller."""
        return self._index_page(CHANGED_INDEX, "changed_day = :a AND updated_at >= :b", day, since, limit, start_key)

    def _index_page(
        self, index: str, condition: str, a: str, b: int, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """One page of payment ids from a sparse index (keys only; read each payment as needed)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {":a": val(a), ":b": val(b)},
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        response = self._db.query(**kwargs)
        ids = [str((from_ddb(i) or {})["pk"]).removeprefix("PAYMENT#") for i in response.get("Items", [])]
        return ids, response.get("LastEvaluatedKey")

    def put_report(self, day: str, report: dict[str, Any], *, now: int, retain_until: int) -> None:
        """The reconciliation report of ``day`` (one item per day; a re-run overwrites it)."""
        item = {"pk": f"REPORT#{day}", "sk": "REPORT", "kind": "report", "written_at": now, **report}
        item[TTL_ATTRIBUTE] = retain_until
        self._db.put_item(TableName=self._table, Item=to_ddb(item))

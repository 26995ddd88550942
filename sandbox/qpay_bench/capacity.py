"""DynamoDB request units, index writes and stream records of the requests a handler really sent.

The bench records every request a measured process sends (:class:`qpay_bench.world.Call`). Here those
requests are replayed, in order, into moto's DynamoDB holding the scenario's items, on a table created
from ``template.yaml``'s own definition (keys, every GSI and its projection). Each write's item is read
before and after, and billed as DynamoDB bills it (on-demand, us-east-1 rules as documented):

- a write costs one write request unit per started KB of the larger of the item before and after
  (a failed conditional write too); in ``TransactWriteItems`` two per KB per item (``ConditionCheck``
  included);
- each GSI: an item entering or leaving a sparse index costs one index write, a change of an index key
  costs two (delete + put), a change of a projected non-key attribute one, anything else none; each
  index write is billed per started KB of the index entry (table keys + index keys + projection);
- reads: one read request unit per started 4 KB (half for eventually consistent reads), a query
  summed over the items it returns; ``TransactGetItems`` double;
- stream records: one per item change; which of them pass each consumer's ``FilterCriteria`` is decided
  with the local stack's implementation of Lambda's filter rules. Lambda reads streams for free.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from qpay_bench.world import Call, Item

KB = 1024


def number_size(raw: str) -> int:
    """DynamoDB's number size: one byte per two significant digits, plus one."""
    digits = raw.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return number_size(str(raw))
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Item | None) -> int:
    """Bytes DynamoDB counts for an item: attribute names plus values."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units) if consistent else units / 2


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # KEYS_ONLY | INCLUDE | ALL
    non_key: tuple[str, ...] = ()

    def entry(self, item: Item | None, table_keys: tuple[str, ...]) -> Item | None:
        """The index's copy of ``item``, or None when the item is not in this (sparse) index."""
        if not item or any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        names = set(table_keys) | set(self.keys) | set(self.non_key)
        return {k: v for k, v in item.items() if k in names}


@dataclass(frozen=True)
class Table:
    name: str
    definition: dict[str, Any]  # CreateTable arguments (without TableName)
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    @classmethod
    def from_template(cls, properties: dict[str, Any], name: str) -> Table:
        keys = tuple(k["AttributeName"] for k in properties["KeySchema"])
        indexes = []
        gsis = []
        for gsi in properties.get("GlobalSecondaryIndexes") or []:
            projection = gsi.get("Projection") or {}
            indexes.append(
                Index(
                    gsi["IndexName"],
                    tuple(k["AttributeName"] for k in gsi["KeySchema"]),
                    str(projection.get("ProjectionType", "ALL")),
                    tuple(projection.get("NonKeyAttributes") or ()),
                )
            )
            gsis.append({"IndexName": gsi["IndexName"], "KeySchema": gsi["KeySchema"], "Projection": projection})
        definition: dict[str, Any] = {
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if gsis:
            definition["GlobalSecondaryIndexes"] = gsis
        return cls(name, definition, keys, tuple(indexes))


@dataclass
class StreamRecord:
    event_name: str  # INSERT | MODIFY | REMOVE
    keys: Item
    old: Item | None
    new: Item | None


@dataclass
class Usage:
    """What one sequence of requests cost (per invocation when the sequence is one invocation)."""

    wru: float = 0.0  # table write request units
    rru: float = 0.0
    index_wru: float = 0.0
    index_writes: dict[str, int] = field(default_factory=dict)  # index name -> writes
    largest_item: int = 0  # bytes, the largest item written
    items_over_1kb: int = 0
    records: list[StreamRecord] = field(default_factory=list)
    failed_conditions: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_wru(self) -> float:
        return self.wru + self.index_wru


def _key(item_or_key: Item, keys: tuple[str, ...]) -> Item:
    return {k: item_or_key[k] for k in keys}


class Replayer:
    """moto's DynamoDB with ``table`` created and ``items`` loaded; ``replay(calls)`` bills them."""

    def __init__(self, client: Any, table: Table) -> None:
        self.db = client
        self.table = table

    def load(self, items: list[Item]) -> None:
        for item in items:
            self.db.put_item(TableName=self.table.name, Item=item)

    def _get(self, key: Item) -> Item | None:
        got: Item | None = self.db.get_item(TableName=self.table.name, Key=key, ConsistentRead=True).get("Item")
        return got

    def _bill_write(self, usage: Usage, old: Item | None, new: Item | None, factor: int, failed: bool) -> None:
        size = max(item_size(old), item_size(new))
        usage.wru += factor * write_units(size)
        usage.largest_item = max(usage.largest_item, item_size(new))
        usage.items_over_1kb += int(item_size(new) > KB)
        if failed:
            usage.failed_conditions += 1
            return
        for index in self.table.indexes:
            before, after = index.entry(old, self.table.keys), index.entry(new, self.table.keys)
            writes = 0.0
            if before is None and after is not None:
                n, units = 1, write_units(item_size(after))
            elif before is not None and after is None:
                n, units = 1, write_units(item_size(before))
            elif before is not None and after is not None:
                if any(before.get(k) != after.get(k) for k in index.keys):
                    n, units = 2, write_units(item_size(before)) + write_units(item_size(after))
                elif before != after:
                    n, units = 1, write_units(item_size(after))
                else:
                    n, units = 0, 0
            else:
                n, units = 0, 0
            writes += units
            if n:
                usage.index_writes[index.name] = usage.index_writes.get(index.name, 0) + n
                usage.index_wru += writes
        if old != new:
            name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
            keys = _key(new or old or {}, self.table.keys)
            usage.records.append(StreamRecord(name, keys, old, new))

    def replay(self, calls: list[Call]) -> Usage:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        usage = Usage()
        for call in calls:
            if call.service != "dynamodb":
                continue
            params = _retable(call.params, self.table.name)
            op = call.operation
            if op in ("PutItem", "UpdateItem", "DeleteItem"):
                key = _key(params["Item"] if op == "PutItem" else params["Key"], self.table.keys)
                old = self._get(key)
                failed = False
                try:
                    getattr(self.db, _snake(op))(**params)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
                    failed = True
                self._bill_write(usage, old, self._get(key), 1, failed)
            elif op == "TransactWriteItems":
                parts = []
                for entry in params["TransactItems"]:
                    ((kind, body),) = entry.items()
                    key = _key(body["Item"] if kind == "Put" else body["Key"], self.table.keys)
                    parts.append((kind, key, self._get(key)))
                failed = False
                try:
                    self.db.transact_write_items(**params)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "TransactionCanceledException":
                        raise
                    failed = True
                    usage.notes.append("a transaction was canceled in the replay")
                for kind, key, old in parts:
                    new = old if kind == "ConditionCheck" or failed else self._get(key)
                    self._bill_write(usage, old, new, 2, failed)
            elif op == "GetItem":
                item = self.db.get_item(**params).get("Item")
                usage.rru += read_units(item_size(item), bool(params.get("ConsistentRead")))
            elif op in ("Query", "Scan"):
                got = self.db.query(**params) if op == "Query" else self.db.scan(**params)
                size = sum(item_size(i) for i in got.get("Items", []))
                usage.rru += read_units(size, bool(params.get("ConsistentRead")))
            elif op == "TransactGetItems":
                got = self.db.transact_get_items(**params)
                for response in got.get("Responses", []):
                    usage.rru += 2 * read_units(item_size(response.get("Item")), True)
            else:
                usage.notes.append(f"{op} not billed by the model")
        return usage


def _retable(params: dict[str, Any], table: str) -> dict[str, Any]:
    """The same request addressed to the replay table (the bench's table name is synthetic)."""
    out = {k: v for k, v in params.items() if k != "ReturnConsumedCapacity"}
    if "TableName" in out:
        out["TableName"] = table
    if "TransactItems" in out:
        items = []
        for entry in out["TransactItems"]:
            ((kind, body),) = entry.items()
            items.append({kind: {**body, "TableName": table}})
        out["TransactItems"] = items
    return out


def _snake(op: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")


@contextmanager
def replayer(table: Table) -> Iterator[Replayer]:
    """A moto DynamoDB with ``table`` created (in this process only, nothing leaves it)."""
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="replay",
            aws_secret_access_key="replay",  # noqa: S106 - moto, in process
        )
        client.create_table(TableName=table.name, **table.definition)
        yield Replayer(client, table)
        client.delete_table(TableName=table.name)

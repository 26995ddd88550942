"""TTL for moto (which never expires items): a sweeper that deletes expired items like DynamoDB does,
and the marks that let the stream poller shape exactly those removals as TTL deletions.

DynamoDB deletes an item whose TTL attribute is a Number (epoch seconds) ≤ now, ignoring values more
than five years in the past; the stream's REMOVE record then carries
``userIdentity {"type": "Service", "principalId": "dynamodb.amazonaws.com"}``. User deletes carry none.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("qpay_local.ttl")

FIVE_YEARS_S = 5 * 365 * 24 * 3600


def _key(keys: dict[str, Any]) -> str:
    return json.dumps(keys, sort_keys=True)


class TtlMarks:
    """Items the sweeper deleted, matched to REMOVE stream records by key and TTL value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._marks: dict[tuple[str, str | None], int] = {}
        self._readers: list[TtlMarks] = []

    def reader(self) -> TtlMarks:
        """Marks for one more stream reader: like DynamoDB, every reader of the stream sees a TTL
        deletion's identity (each reader claims it once). Marks added here reach every reader."""
        child = TtlMarks()
        with self._lock:
            self._readers.append(child)
        return child

    def add(self, keys: dict[str, Any], ttl_value: str | None) -> None:
        if self._readers:
            for r in self._readers:
                r.add(keys, ttl_value)
            return
        with self._lock:
            k = (_key(keys), ttl_value)
            self._marks[k] = self._marks.get(k, 0) + 1

    def discard(self, keys: dict[str, Any], ttl_value: str | None) -> None:
        if self._readers:
            for r in self._readers:
                r.discard(keys, ttl_value)
            return
        with self._lock:
            k = (_key(keys), ttl_value)
            if self._marks.get(k, 0) <= 1:
                self._marks.pop(k, None)
            else:
                self._marks[k] -= 1

    def claim(self, keys: dict[str, Any], ttl_value: str | None) -> bool:
        """True (once) if the sweeper deleted this item: the REMOVE is a TTL deletion."""
        with self._lock:
            for k in ((_key(keys), ttl_value), (_key(keys), None)):
                if self._marks.get(k):
                    self._marks[k] -= 1
                    if not self._marks[k]:
                        del self._marks[k]
                    return True
            return False

    def __len__(self) -> int:
        with self._lock:
            return sum(self._marks.values())


class TtlSweeper:
    """Every ``interval_s``, delete items whose ``attribute`` is ≤ now (a conditional delete each)."""

    def __init__(
        self,
        ddb: Any,
        table_name: str,
        attribute: str,
        key_names: list[str],
        marks: TtlMarks,
        *,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        keys_only_stream: bool = False,
    ) -> None:
        self.ddb = ddb
        self.table_name = table_name
        self.attribute = attribute
        self.key_names = key_names
        self.marks = marks
        self.interval_s = interval_s
        self.clock = clock
        self.keys_only_stream = keys_only_stream
        self.deleted = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sweep_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="qpay-local-ttl", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sweep_once()
            except Exception:
                if not self._stop.is_set():
                    log.exception("TTL sweep failed")

    def expired(self) -> list[dict[str, Any]]:
        now = int(self.clock())
        names = {"#t": self.attribute}
        projection = ["#t"]
        for i, k in enumerate(self.key_names):
            names[f"#k{i}"] = k
            projection.append(f"#k{i}")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "#t <= :now AND #t >= :floor",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":now": {"N": str(now)}, ":floor": {"N": str(now - FIVE_YEARS_S)}},
            "ProjectionExpression": ", ".join(projection),
            "ConsistentRead": True,
        }
        while True:
            page = self.ddb.scan(**kwargs)
            items.extend(i for i in page.get("Items", []) if "N" in i.get(self.attribute, {}))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def sweep_once(self) -> int:
        """Delete what has expired now; returns how many items were deleted."""
        with self._sweep_lock:
            count = 0
            for item in self.expired():
                keys = {k: item[k] for k in self.key_names}
                ttl_value = None if self.keys_only_stream else item[self.attribute]["N"]
                self.marks.add(keys, ttl_value)
                try:
                    self.ddb.delete_item(
                        TableName=self.table_name,
                        Key=keys,
                        ConditionExpression="#t = :v",
                        ExpressionAttributeNames={"#t": self.attribute},
                        ExpressionAttributeValues={":v": item[self.attribute]},
                    )
                except self.ddb.exceptions.ConditionalCheckFailedException:
                    self.marks.discard(keys, ttl_value)  # changed meanwhile: not expired any more
                    continue
                except Exception:
                    self.marks.discard(keys, ttl_value)
                    raise
                count += 1
            self.deleted += count
            if count:
                log.info("TTL deleted %d item(s)", count)
            return count

"""A stateless fake of AWS and Checkout.com for the bench: canned answers by operation and key.

Answered over HTTPS by :mod:`qpay_bench.stub` (AWS JSON protocol on ``POST /`` with ``X-Amz-Target``;
Checkout.com's REST paths otherwise). Stateless, so the 15th cold start meets exactly what the first
one met. Every request is logged (service, operation, parameters) so a calibration run tells the floor
what to replay and the cost model what was written.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request a measured process made. ``service`` is ``dynamodb``, ``secretsmanager``,
    ``stepfunctions``, ``events`` or ``checkout``; for Checkout.com ``operation`` is ``"GET /path"``."""

    service: str
    operation: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """Items keyed by (pk, sk) in DynamoDB wire format, the secret's JSON and Checkout's answers."""

    items: dict[tuple[str, str], Item] = field(default_factory=dict)
    index_items: list[Item] = field(default_factory=list)
    template: Item | None = None  # answer for ALL_NEW on a key the world does not hold (new payments)
    secret: str = "{}"  # noqa: S105 - the stub secret document, filled by scenarios
    checkout_routes: list[list[Any]] = field(default_factory=list)  # [method, path regex, status, body]
    counts: Counter[str] = field(default_factory=Counter)
    log: list[Call] = field(default_factory=list)
    at: int = 0  # the epoch its items were made at (a replay rebuilds the same items: same change day)

    def mark(self) -> int:
        """A position in the log: ``calls_since(mark)`` is what one run did (runs are sequential)."""
        return len(self.log)

    def calls_since(self, mark: int) -> list[Call]:
        return [c for c in self.log[mark:] if c.service != "mark"]

    def mark_label(self, label: str) -> None:
        self.log.append(Call("mark", label, {}))

    def between(self, start: str, end: str) -> list[Call]:
        """The calls between the last marks ``start`` and ``end`` (one marked invocation)."""
        labels = [i for i, c in enumerate(self.log) if c.service == "mark"]
        hi = max(i for i in labels if self.log[i].operation == end)
        lo = max(i for i in labels if self.log[i].operation == start and i < hi)
        return [c for c in self.log[lo + 1 : hi] if c.service != "mark"]

    def answer(
        self, service: str, operation: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        self.counts[f"{service}.{operation}"] += 1
        self.log.append(Call(service, operation, params, dict(headers or {})))
        if service == "secretsmanager":
            return {"ARN": "arn:aws:secretsmanager:me-central-1:123456789012:secret:k", "Name": "k",
                    "SecretString": self.secret, "VersionId": "v1", "VersionStages": ["AWSCURRENT"],
                    "CreatedDate": 1795600000}  # fmt: skip
        if service == "stepfunctions":
            if operation == "StartExecution":
                return {"executionArn": "arn:aws:states:me-central-1:123456789012:execution:x:y", "startDate": 0}
            return {}
        if service == "events":
            n = len(params.get("Entries") or [])
            return {"FailedEntryCount": 0, "Entries": [{"EventId": f"bench-{i}"} for i in range(n)]}
        if service == "dynamodb":
            return self._dynamodb(operation, params)
        return {}

    def checkout(self, method: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        try:
            doc: Any = json.loads(body) if body else None
        except ValueError:
            doc = None
        self.counts["checkout"] += 1
        self.log.append(Call("checkout", f"{method} {path}", {"body": doc}, dict(headers or {})))
        for want_method, pattern, status, answer in self.checkout_routes:
            if want_method == method and re.fullmatch(pattern, path):
                return int(status), json.dumps(answer).encode()
        return 404, b'{"error_type":"not_found"}'

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetItem":
            got = self.items.get(_key(params.get("Key", {})))
            return {"Item": got} if got else {}
        if operation == "Query":
            if params.get("IndexName"):
                found = [i for i in self.index_items if _in_partition(i, params)]
                return {"Items": found, "Count": len(found), "ScannedCount": len(found)}
            values: dict[str, Any] = params.get("ExpressionAttributeValues", {})
            first: dict[str, Any] = next(iter(values.values()), {})
            pk = first.get("S")
            found = [v for (p, _), v in sorted(self.items.items()) if p == pk]
            return {"Items": found, "Count": len(found), "ScannedCount": len(found)}
        if operation == "UpdateItem" and params.get("ReturnValues") in ("ALL_NEW", "ALL_OLD"):
            key = params.get("Key", {})
            item = self.items.get(_key(key)) or {**(self.template or {}), **key}
            return {"Attributes": item}
        return {}


def _in_partition(item: Item, params: dict[str, Any]) -> bool:
    """Does ``item`` carry the partition key value the query names (``name = :value``, first term)?
    A query of shard 7 of a sharded index must not find the item that lives in shard 3."""
    m = re.match(r"\s*(#?\w+)\s*=\s*(:\w+)", str(params.get("KeyConditionExpression", "")))
    if not m:
        return True
    name = params.get("ExpressionAttributeNames", {}).get(m.group(1), m.group(1))
    return bool(item.get(name) == params.get("ExpressionAttributeValues", {}).get(m.group(2)))


def _key(key: dict[str, Any]) -> tuple[str, str]:
    return (str(key.get("pk", {}).get("S")), str(key.get("sk", {}).get("S")))


#: ``X-Amz-Target`` prefixes → the service names the bench uses (botocore's signing names)
TARGET_PREFIXES = {
    "DynamoDB": "dynamodb",
    "AWSStepFunctions": "stepfunctions",
    "AWSEvents": "events",
    "secretsmanager": "secretsmanager",
}


def service_of(target: str) -> tuple[str, str]:
    """``X-Amz-Target`` → (service, operation)."""
    prefix, _, operation = target.partition(".")
    for known, service in TARGET_PREFIXES.items():
        if prefix.startswith(known):
            return service, operation
    return prefix.lower(), operation


def decode(body: bytes) -> dict[str, Any]:
    doc = json.loads(body or b"{}")
    return doc if isinstance(doc, dict) else {}

"""A stateless fake of the AWS calls the product makes: canned answers by operation and key.

Shared by the stub HTTP endpoint (cold start: the child's real botocore clients talk to it) and the
in-process ``before-call`` short-circuit (warm path: the hook botocore's Stubber uses). Stateless, so
the 15th cold start sees exactly what the first one saw.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]


@dataclass
class World:
    """Items keyed by (pk, sk) in DynamoDB wire format, plus the secret's JSON."""

    items: dict[tuple[str, str], Item] = field(default_factory=dict)
    index_items: list[Item] = field(default_factory=list)
    template: Item | None = None  # answer for ALL_NEW on a key the world does not hold (new payments)
    secret: str = "{}"  # noqa: S105 - the stub secret document, filled by scenarios
    counts: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def answer(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.counts[f"{service}.{operation}"] += 1
        self.log.append((service, operation, params))
        if service == "secretsmanager":
            return {"ARN": "arn:aws:secretsmanager:me-central-1:123456789012:secret:k", "Name": "k",
                    "SecretString": self.secret, "VersionId": "v1"}  # fmt: skip
        if service == "stepfunctions":
            if operation == "StartExecution":
                return {"executionArn": "arn:aws:states:me-central-1:123456789012:execution:x:y", "startDate": 0}
            return {}
        return self._dynamodb(operation, params)

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetItem":
            got = self.items.get(_key(params.get("Key", {})))
            return {"Item": got} if got else {}
        if operation == "Query":
            if params.get("IndexName"):
                return {"Items": self.index_items, "Count": len(self.index_items), "ScannedCount": 1}
            values: dict[str, Any] = params.get("ExpressionAttributeValues", {})
            first: dict[str, Any] = next(iter(values.values()), {})
            pk = first.get("S")
            found = [v for (p, _), v in sorted(self.items.items()) if p == pk]
            return {"Items": found, "Count": len(found), "ScannedCount": len(found)}
        if operation == "UpdateItem" and params.get("ReturnValues") == "ALL_NEW":
            key = params.get("Key", {})
            item = self.items.get(_key(key)) or {**(self.template or {}), **key}
            return {"Attributes": item}
        return {}


def _key(key: dict[str, Any]) -> tuple[str, str]:
    return (str(key.get("pk", {}).get("S")), str(key.get("sk", {}).get("S")))


def service_of(target: str) -> tuple[str, str]:
    """``X-Amz-Target`` → (service, operation)."""
    prefix, _, operation = target.partition(".")
    if prefix.startswith("DynamoDB"):
        return "dynamodb", operation
    if prefix.startswith("AWSStepFunctions"):
        return "stepfunctions", operation
    return prefix.lower(), operation


def decode(body: bytes) -> dict[str, Any]:
    doc = json.loads(body or b"{}")
    return doc if isinstance(doc, dict) else {}

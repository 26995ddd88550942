"""DynamoDB stream records shaped as Lambda delivers them (lowercase userIdentity keys)."""

from __future__ import annotations

import itertools
from typing import Any

from boto3.dynamodb.types import TypeSerializer

_seq = itertools.count(1)
_ser = TypeSerializer()
STREAM_ARN = "arn:aws:dynamodb:me-central-1:123456789012:table/qpay-test-payments/stream/2026-11-25T00:00:00.000"


def remove_record(old_image: dict[str, Any], *, ttl: bool = True) -> dict[str, Any]:
    n = next(_seq)
    image = {k: _ser.serialize(v) for k, v in old_image.items()}
    record: dict[str, Any] = {
        "eventID": f"{n:032x}",
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "me-central-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795600800,
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "OldImage": image,
            "SequenceNumber": str(5_000_000_000_000_000_000 + n),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])

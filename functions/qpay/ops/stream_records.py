"""DynamoDB Streams ``GetRecords`` records (as boto3 returns them) → records as Lambda delivers them.

Differences that matter: Lambda gives ``ApproximateCreationDateTime`` as a number, base64 for binary
attributes, and ``userIdentity`` with lowercase keys (``principalId``/``type``) where boto3 has
``PrincipalId``/``Type``. The expiry consumer relies on that identity to tell TTL deletions apart.
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime
from typing import Any

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _attr(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _attr(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_attr(v) for v in value]
    if isinstance(value, set):
        return [_attr(v) for v in sorted(value)]
    return value


def to_lambda_record(raw: dict[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    src = raw.get("dynamodb", {})
    created = src.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        created = int(created.timestamp())
    elif isinstance(created, int | float):
        created = int(created)
    else:
        created = int(time.time())
    out: dict[str, Any] = {"ApproximateCreationDateTime": created}
    for key in ("Keys", "NewImage", "OldImage"):
        if key in src:  # not a secret: a stream record's field name
            out[key] = _attr(src[key])
    out["SequenceNumber"] = str(src.get("SequenceNumber", ""))
    out["SizeBytes"] = int(src.get("SizeBytes", 0))
    out["StreamViewType"] = src.get("StreamViewType", "")
    record: dict[str, Any] = {
        "eventID": raw.get("eventID") or uuid.uuid4().hex,
        "eventName": raw.get("eventName"),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion", region),
        "dynamodb": out,
        "eventSourceARN": stream_arn,
    }
    identity = raw.get("userIdentity")
    if identity:
        record["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return record

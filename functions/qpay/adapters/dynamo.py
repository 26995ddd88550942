"""A low-level DynamoDB client and attribute-value conversion, shared by the store modules.

Built on botocore alone: boto3's resource layer and its type (de)serialiser cost cold-start time for
nothing the store needs (its items hold strings, whole numbers, booleans, maps and lists). The endpoint
comes from the standard AWS configuration (``AWS_ENDPOINT_URL_DYNAMODB``), so the same code talks to
DynamoDB, DynamoDB Local or moto. Timeouts and retries are bounded.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from typing import Any

# The client settings every AWS call uses (the bench's floor uses the very same): bounded timeouts and
# retries; requests are built by this code, never from input, and the services validate them again, so
# client-side parameter validation (~40 µs per call) is switched off.
CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 1,
    "read_timeout": 3,
    "retries": {"mode": "standard", "total_max_attempts": 3},
    "tcp_keepalive": True,
    "parameter_validation": False,
}


@cache
def _session() -> Any:
    import botocore.session  # noqa: PLC0415

    return botocore.session.get_session()


def make_client(service: str = "dynamodb") -> Any:
    """A botocore client with bounded timeouts and retries, from the one session of this container."""
    from botocore.config import Config  # noqa: PLC0415

    return _session().create_client(service, config=Config(**CLIENT_CONFIG))


def val(value: Any) -> dict[str, Any]:
    """One Python value → a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("DynamoDB numbers must be finite")
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, dict):
        return {"M": {str(k): val(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [val(v) for v in value]}
    if isinstance(value, set | frozenset):
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return {"NS": [str(v) for v in sorted(value)]}
    raise TypeError(f"unsupported type for DynamoDB: {type(value).__name__}")


def to_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: val(v) for k, v in item.items() if v is not None}


def plain(attr: dict[str, Any]) -> Any:
    """One DynamoDB attribute value → a Python value (numbers: int when whole, else float)."""
    ((kind, raw),) = attr.items()
    if kind == "S":
        return raw
    if kind == "N":
        return _number(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: plain(v) for k, v in raw.items()}
    if kind == "L":
        return [plain(v) for v in raw]
    if kind == "SS":
        return list(raw)
    if kind == "NS":
        return [_number(v) for v in raw]
    if kind in ("B", "BS"):
        return raw
    raise TypeError(f"unsupported DynamoDB type {kind}")


def _number(raw: str) -> int | float:
    try:
        return int(raw)
    except ValueError:
        number = Decimal(raw)
        return int(number) if number == number.to_integral_value() else float(number)


def from_ddb(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: plain(v) for k, v in item.items()}


def cancellation_reasons(error: Any) -> list[dict[str, Any]]:
    """The per-item reasons of a TransactionCanceledException (botocore ClientError)."""
    response = getattr(error, "response", {}) or {}
    reasons = response.get("CancellationReasons")
    return list(reasons) if isinstance(reasons, list) else []


def error_code(error: Any) -> str:
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))

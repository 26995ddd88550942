"""A low-level DynamoDB client and attribute-value conversion, shared by the store modules.

The endpoint comes from the standard AWS configuration (``AWS_ENDPOINT_URL_DYNAMODB``), so the same
code talks to DynamoDB, DynamoDB Local or moto. Timeouts and retries are bounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()


def make_client() -> Any:
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=1,
        read_timeout=3,
        retries={"mode": "standard", "total_max_attempts": 3},
        tcp_keepalive=True,
    )
    return boto3.client("dynamodb", config=config)


def to_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def val(value: Any) -> dict[str, Any]:
    serialized: dict[str, Any] = _ser.serialize(value)
    return serialized


def from_ddb(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _plain(_de.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def cancellation_reasons(error: Any) -> list[dict[str, Any]]:
    """The per-item reasons of a TransactionCanceledException (botocore ClientError)."""
    response = getattr(error, "response", {}) or {}
    reasons = response.get("CancellationReasons")
    return list(reasons) if isinstance(reasons, list) else []


def error_code(error: Any) -> str:
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))

"""Request validation for QPay payment and refund requests, returning Checkout's error codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_AMOUNT = 9_999_999_999
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PROCESSING_CHANNEL_RE = re.compile(r"^pc_[a-z2-7]{26}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


@dataclass
class PaymentRequest:
    amount: int
    currency: str
    description: str
    language: str
    quantity: int | None
    national_id: str | None
    reference: str | None
    success_url: str | None
    failure_url: str | None
    customer: dict[str, Any]
    metadata: dict[str, Any]
    processing_channel_id: str | None


@dataclass
class RefundRequest:
    amount: int | None
    reference: str | None
    metadata: dict[str, Any] | None


def is_http_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 1024:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_AMOUNT


def _quantity(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 99 else None
    if isinstance(value, str) and value.isdigit():
        return _quantity(int(value))
    return None


def _validate_amount_currency(body: dict[str, Any], codes: list[str]) -> None:
    amount = body.get("amount")
    if amount is None:
        codes.append("amount_required")
    elif not _is_amount(amount):
        codes.append("amount_invalid")
    currency = body.get("currency")
    if currency is None or currency == "":
        codes.append("currency_required")
    elif not isinstance(currency, str) or not _CURRENCY_RE.fullmatch(currency) or currency != "QAR":
        codes.append("currency_invalid")


@dataclass
class _Source:
    description: str = ""
    language: str = "en"
    quantity: int | None = None
    national_id: str | None = None


def _validate_source(source: Any, codes: list[str]) -> _Source:
    parsed = _Source()
    if not isinstance(source, dict) or not source:
        codes.append("payment_source_required")
        return parsed
    if source.get("type") is None:
        codes.append("payment_source_type_required")
        return parsed
    if source.get("type") != "qpay":
        codes.append("payment_source_type_invalid")
        return parsed
    description = source.get("description")
    if description is None or description == "":
        codes.append("description_required")
    elif not isinstance(description, str) or len(description) > 255:
        codes.append("description_invalid")
    else:
        parsed.description = description
    language = source.get("language")
    if language is not None:
        if language in ("en", "ar"):
            parsed.language = str(language)
        else:
            codes.append("language_invalid")
    quantity = source.get("quantity")
    if quantity is not None:
        parsed.quantity = _quantity(quantity)
        if parsed.quantity is None:
            codes.append("quantity_invalid")
    national_id = source.get("national_id")
    if national_id is not None:
        if isinstance(national_id, str) and 0 < len(national_id) <= 32:
            parsed.national_id = national_id
        else:
            codes.append("national_id_invalid")
    return parsed


def _validate_optional_fields(body: dict[str, Any], codes: list[str]) -> None:
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 80):
        codes.append("reference_invalid")
    success_url = body.get("success_url")
    if success_url is not None and not is_http_url(success_url):
        codes.append("success_url_invalid")
    failure_url = body.get("failure_url")
    if failure_url is not None and not is_http_url(failure_url):
        codes.append("fail_url_invalid")
    payment_type = body.get("payment_type")
    if payment_type is not None and payment_type != "Regular":
        codes.append("payment_type_invalid")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        codes.append("metadata_invalid")
    customer = body.get("customer")
    if customer is not None:
        if not isinstance(customer, dict):
            codes.append("customer_invalid")
        else:
            email = customer.get("email")
            if email is not None and (not isinstance(email, str) or not _EMAIL_RE.fullmatch(email)):
                codes.append("customer_email_invalid")


def _validate_channel(body: dict[str, Any], codes: list[str], required: bool) -> str | None:
    channel = body.get("processing_channel_id")
    if channel is None or channel == "":
        if required:
            codes.append("processing_channel_id_required")
        return None
    if not isinstance(channel, str) or not _PROCESSING_CHANNEL_RE.fullmatch(channel):
        codes.append("processing_channel_id_invalid")
        return None
    return channel


def validate_payment(body: Any, *, require_processing_channel: bool) -> tuple[PaymentRequest | None, list[str]]:
    """Return the parsed request, or ``None`` and the list of error codes."""
    if not isinstance(body, dict):
        return None, ["request_json_invalid"]
    codes: list[str] = []
    _validate_amount_currency(body, codes)
    source = _validate_source(body.get("source"), codes)
    _validate_optional_fields(body, codes)
    channel = _validate_channel(body, codes, require_processing_channel)
    if codes:
        return None, codes
    return (
        PaymentRequest(
            amount=int(body["amount"]),
            currency="QAR",
            description=source.description,
            language=source.language,
            quantity=source.quantity,
            national_id=source.national_id,
            reference=body.get("reference"),
            success_url=body.get("success_url"),
            failure_url=body.get("failure_url"),
            customer=dict(body.get("customer") or {}),
            metadata=dict(body.get("metadata") or {}),
            processing_channel_id=channel,
        ),
        [],
    )


def validate_refund(body: Any) -> tuple[RefundRequest | None, list[str]]:
    if body is None:
        return RefundRequest(amount=None, reference=None, metadata=None), []
    if not isinstance(body, dict):
        return None, ["request_json_invalid"]
    codes: list[str] = []
    amount = body.get("amount")
    if amount is not None and not _is_amount(amount):
        codes.append("amount_invalid")
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 80):
        codes.append("reference_invalid")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        codes.append("metadata_invalid")
    if codes:
        return None, codes
    return RefundRequest(amount=amount, reference=reference, metadata=metadata), []

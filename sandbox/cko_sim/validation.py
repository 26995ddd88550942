"""Request validation for QPay payment and refund requests, with Checkout's error codes.

Limits follow Checkout's published OpenAPI (``checkout/checkout-api-reference``):

- ``nas_spec/components/schemas/Payments/PaymentRequest.yaml``: ``reference`` ≤ 50, ``description``
  ≤ 100, ``success_url``/``failure_url`` URIs ≤ 255, ``payment_type`` enum, ``metadata`` one level deep
  ("cannot accept non-primitive data types such as objects or arrays");
- ``abc_spec/.../PaymentRequestQPaySource.yaml``: ``source.description`` required, at most 255
  characters *after UTF-8 URL encoding*; ``quantity`` an integer ≥ 1 (Checkout's QPay page sends the
  string ``"1"``, so a digit string is accepted too); ``language`` "En, Ar" (the page sends ``"en"``);
  ``national_id`` ≤ 32;
- ``CustomerRequest``: ``id`` ``cus_`` + 26, ``email`` and ``name`` ≤ 255;
- ``RefundRequest.yaml``: ``amount`` integer, ``reference`` ≤ 50, ``metadata`` one level deep.

Error codes from Checkout's published list for ``/payments``
(https://www.checkout.com/docs/resources/codes/error-codes) where it has one: ``amount_invalid``,
``currency_required``, ``currency_invalid``, ``payment_source_required``, ``source_type_required``,
``payment_type_invalid``, ``success_url_invalid``, ``fail_url_invalid``, ``customer_email_invalid``,
``customer_id_invalid``, ``request_json_invalid``; ``processing_channel_id_required`` (API keys page).
The others (``description_required``, ``description_invalid``, ``quantity_invalid``, ``language_invalid``,
``national_id_invalid``, ``reference_invalid``, ``metadata_invalid``, ``amount_required``,
``customer_name_invalid``, ``processing_channel_id_invalid``, ``payment_method_not_supported``) are not
in that list; they name the field in Checkout's style.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

MAX_AMOUNT = 9_999_999_999
MAX_QPAY_DESCRIPTION_ENCODED = 255
MAX_DESCRIPTION = 100
MAX_REFERENCE = 50
MAX_URL = 255
MAX_NATIONAL_ID = 32
MAX_CUSTOMER_FIELD = 255
PAYMENT_TYPES = ("Regular",)  # QPay is one-off: Recurring/MOTO/Installment are refused
LANGUAGES = ("en", "ar")

#: Stands for a field that is absent from the request (``null`` is a value, and never a valid one:
#: no field of Checkout's published payment request schema is nullable).
_ABSENT: Any = object()

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PROCESSING_CHANNEL_RE = re.compile(r"^pc_[a-z2-7]{26}$")
_CUSTOMER_ID_RE = re.compile(r"^cus_\w{26}$")
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


def url_encoded_length(text: str) -> int:
    """Length of ``text`` after UTF-8 URL encoding (how Checkout measures a QPay description)."""
    return len(quote(text, safe=""))


def is_http_url(value: object) -> bool:
    """An absolute http(s) URI (``format: uri``: ASCII, no spaces) of at most 255 characters."""
    if not isinstance(value, str) or len(value) > MAX_URL or not value.isascii():
        return False
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_amount(value: object) -> bool:
    return _is_int(value) and 0 < value <= MAX_AMOUNT  # type: ignore[operator]


def _quantity(value: object) -> int | None:
    """An integer ≥ 1, or its decimal string form; ``None`` when invalid. No upper bound is published."""
    if _is_int(value):
        return value if value >= 1 else None  # type: ignore[operator,return-value]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
        return number if number >= 1 else None
    return None


def _is_flat_metadata(value: object) -> bool:
    """An object whose values are all primitives (Checkout: "only one level of depth")."""
    if not isinstance(value, dict):
        return False
    return all(isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool)) for k, v in value.items())


def _is_short_string(value: object, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _validate_amount_currency(body: dict[str, Any], codes: list[str]) -> None:
    amount = body.get("amount", _ABSENT)
    if amount is _ABSENT or amount is None:
        codes.append("amount_required")
    elif not _is_amount(amount):
        codes.append("amount_invalid")
    currency = body.get("currency", _ABSENT)
    if currency is _ABSENT or currency is None or currency == "":
        codes.append("currency_required")
    elif not isinstance(currency, str) or not _CURRENCY_RE.fullmatch(currency) or currency != "QAR":
        codes.append("currency_invalid")


@dataclass
class _Source:
    description: str = ""
    language: str = "en"
    quantity: int | None = None
    national_id: str | None = None


def _valid_qpay_description(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return url_encoded_length(value) <= MAX_QPAY_DESCRIPTION_ENCODED
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8 encoded
        return False


def _validate_source(source: Any, codes: list[str]) -> _Source:
    parsed = _Source()
    if not isinstance(source, dict) or not source:
        codes.append("payment_source_required")
        return parsed
    if source.get("type") is None:
        codes.append("source_type_required")
        return parsed
    if source.get("type") != "qpay":
        codes.append("payment_method_not_supported")
        return parsed
    description = source.get("description")
    if description is None or description == "":
        codes.append("description_required")
    elif not _valid_qpay_description(description):
        codes.append("description_invalid")
    else:
        parsed.description = description
    language = source.get("language", _ABSENT)
    if language is not _ABSENT:
        if isinstance(language, str) and language.lower() in LANGUAGES:
            parsed.language = language.lower()
        else:
            codes.append("language_invalid")
    quantity = source.get("quantity", _ABSENT)
    if quantity is not _ABSENT:
        parsed.quantity = _quantity(quantity)
        if parsed.quantity is None:
            codes.append("quantity_invalid")
    national_id = source.get("national_id", _ABSENT)
    if national_id is not _ABSENT:
        if isinstance(national_id, str) and 0 < len(national_id) <= MAX_NATIONAL_ID:
            parsed.national_id = national_id
        else:
            codes.append("national_id_invalid")
    return parsed


def _validate_customer(customer: Any, codes: list[str]) -> None:
    if not isinstance(customer, dict):
        codes.append("customer_invalid")
        return
    cus_id = customer.get("id", _ABSENT)
    if cus_id is not _ABSENT and (not isinstance(cus_id, str) or not _CUSTOMER_ID_RE.fullmatch(cus_id)):
        codes.append("customer_id_invalid")
    email = customer.get("email", _ABSENT)
    if email is not _ABSENT and (
        not _is_short_string(email, MAX_CUSTOMER_FIELD) or not _EMAIL_RE.fullmatch(str(email))
    ):
        codes.append("customer_email_invalid")
    name = customer.get("name", _ABSENT)
    if name is not _ABSENT and not _is_short_string(name, MAX_CUSTOMER_FIELD):
        codes.append("customer_name_invalid")


def _validate_optional_fields(body: dict[str, Any], codes: list[str]) -> None:
    checks: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
        ("reference", lambda v: _is_short_string(v, MAX_REFERENCE), "reference_invalid"),
        ("description", lambda v: _is_short_string(v, MAX_DESCRIPTION), "description_invalid"),
        ("success_url", is_http_url, "success_url_invalid"),
        ("failure_url", is_http_url, "fail_url_invalid"),
        ("payment_type", lambda v: isinstance(v, str) and v in PAYMENT_TYPES, "payment_type_invalid"),
        ("metadata", _is_flat_metadata, "metadata_invalid"),
    )
    for name, valid, code in checks:
        value = body.get(name, _ABSENT)
        if value is not _ABSENT and not valid(value):
            codes.append(code)
    customer = body.get("customer", _ABSENT)
    if customer is not _ABSENT:
        _validate_customer(customer, codes)


def _validate_channel(body: dict[str, Any], codes: list[str], required: bool) -> str | None:
    channel = body.get("processing_channel_id", _ABSENT)
    if channel is _ABSENT or channel == "":
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
    amount = body.get("amount", _ABSENT)
    if amount is not _ABSENT and not _is_amount(amount):
        codes.append("amount_invalid")
    reference = body.get("reference", _ABSENT)
    if reference is not _ABSENT and not _is_short_string(reference, MAX_REFERENCE):
        codes.append("reference_invalid")
    metadata = body.get("metadata", _ABSENT)
    if metadata is not _ABSENT and not _is_flat_metadata(metadata):
        codes.append("metadata_invalid")
    if codes:
        return None, codes
    return (
        RefundRequest(
            amount=None if amount is _ABSENT else amount,
            reference=None if reference is _ABSENT else reference,
            metadata=None if metadata is _ABSENT else metadata,
        ),
        [],
    )

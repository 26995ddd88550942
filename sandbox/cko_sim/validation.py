"""Request validation for QPay payment and refund requests, with Checkout's error codes.

Two layers, one source for each rule:

1. **The published schema**, derived from Checkout's OpenAPI at build time (``cko_sim.spec_schemas``,
   ``spec/*.json``): ``PaymentRequest.yaml`` with the QPay source and ``RefundRequest.yaml`` of
   ``checkout/checkout-api-reference`` at ``2fc946c``: types, ``required``, ``reference`` ≤ 50,
   ``description`` ≤ 100, ``success_url``/``failure_url`` URIs ≤ 255, the ``payment_type`` enum,
   ``source.type``/``source.description`` required, ``quantity`` integer ≥ 1, ``national_id`` ≤ 32,
   the ``customer`` fields (``CustomerRequest``). Whatever it refuses is answered 422.
2. **What Checkout documents in prose** and the schema cannot say, for the fields the schema accepted:
   QAR only; ``amount`` at least 1 (a QPay payment is never a card verification); ``source.description``
   at most 255 characters *after UTF-8 URL encoding* (``PaymentRequestQPaySource.yaml``'s description)
   and not empty; ``language`` En or Ar in any case (the QPay page sends ``"en"``); ``metadata`` one level
   deep ("cannot accept non-primitive data types such as objects or arrays"); absolute http(s) return
   URLs; a ``pc_`` processing channel, required when ``SimConfig.require_processing_channel`` (the API
   keys page); ``payment_type`` narrowed to ``Regular`` (QPay is one-off); a ``source.type`` other than
   ``qpay`` is ``payment_method_not_supported`` (the QPay source schema applies to QPay sources only).

One published leniency: ``source.quantity`` may be a digit string (Checkout's QPay page sends ``"1"``);
it is read as the integer before the schema sees it.

Error codes from Checkout's published list for ``/payments``
(https://www.checkout.com/docs/resources/codes/error-codes) where it has one: ``amount_invalid``,
``currency_required``, ``currency_invalid``, ``payment_source_required``, ``source_type_required``,
``payment_type_invalid``, ``success_url_invalid``, ``fail_url_invalid``, ``customer_email_invalid``,
``customer_id_invalid``, ``request_json_invalid``; ``processing_channel_id_required`` (API keys page).
The others (``description_required``, ``description_invalid``, ``quantity_invalid``, ``language_invalid``,
``national_id_invalid``, ``reference_invalid``, ``metadata_invalid``, ``amount_required``,
``customer_name_invalid``, ``processing_channel_id_invalid``, ``payment_method_not_supported``) are not
in that list; they name the field in Checkout's style, and so does the fallback ``<path>_invalid`` /
``<path>_required`` for a field the table below does not name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from cko_sim.spec_schemas import PAYMENT_VALIDATOR, REFUND_VALIDATOR, Violation, violations

MAX_AMOUNT = 9_999_999_999
MAX_QPAY_DESCRIPTION_ENCODED = 255
MAX_URL = 255
PAYMENT_TYPES = ("Regular",)  # QPay is one-off: Recurring/MOTO/Installment are refused
LANGUAGES = ("en", "ar")

#: Stands for a field that is absent from the request (``null`` is a value, and never a valid one:
#: no field of Checkout's published payment request schema is nullable).
_ABSENT: Any = object()

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
class _Source:
    description: str = ""
    language: str = "en"
    quantity: int | None = None
    national_id: str | None = None


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


def _is_flat_metadata(value: object) -> bool:
    """An object whose values are all primitives (Checkout: "only one level of depth")."""
    if not isinstance(value, dict):
        return False
    return all(isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool)) for k, v in value.items())


def _valid_qpay_description(value: str) -> bool:
    try:
        return url_encoded_length(value) <= MAX_QPAY_DESCRIPTION_ENCODED
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8 encoded
        return False


#: Error code per field path: (when missing, when invalid).
_CODES: dict[tuple[str | int, ...], tuple[str, str]] = {
    ("amount",): ("amount_required", "amount_invalid"),
    ("currency",): ("currency_required", "currency_invalid"),
    ("source",): ("payment_source_required", "payment_source_required"),
    ("source", "type"): ("source_type_required", "source_type_invalid"),
    ("source", "description"): ("description_required", "description_invalid"),
    ("source", "quantity"): ("quantity_required", "quantity_invalid"),
    ("source", "language"): ("language_required", "language_invalid"),
    ("source", "national_id"): ("national_id_required", "national_id_invalid"),
    ("failure_url",): ("fail_url_required", "fail_url_invalid"),
}


def code_for(violation: Violation) -> str:
    """Checkout's code for a field the schema refuses (``<field>_invalid`` / ``<field>_required``)."""
    named = _CODES.get(violation.path)
    if named is not None:
        return named[0] if violation.missing else named[1]
    stem = "_".join(str(p) for p in violation.path) or "request"
    return f"{stem}_required" if violation.missing else f"{stem}_invalid"


def _lenient(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a digit-string ``source.quantity`` read as its integer (the published leniency)."""
    source = body.get("source")
    if isinstance(source, dict):
        quantity = source.get("quantity")
        if isinstance(quantity, str) and quantity.isascii() and quantity.isdigit():
            return {**body, "source": {**source, "quantity": int(quantity)}}
    return body


class _Codes:
    """Codes in the order found, each once; remembers which top-level fields already failed."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.failed: set[tuple[str | int, ...]] = set()

    def add(self, code: str, path: tuple[str | int, ...] = ()) -> None:
        if code not in self.codes:
            self.codes.append(code)
        for n in range(1, len(path) + 1):
            self.failed.add(path[:n])

    def ok(self, *path: str) -> bool:
        return path not in self.failed


def _source_gate(source: Any, codes: _Codes) -> bool:
    """Whether the QPay source schema applies: a non-empty object whose ``type`` is ``qpay``."""
    if not isinstance(source, dict) or not source:
        codes.add("payment_source_required", ("source",))
        return False
    kind = source.get("type")
    if isinstance(kind, str) and kind != "qpay":
        codes.add("payment_method_not_supported", ("source",))
        return False
    return True


def _schema_layer(body: dict[str, Any], codes: _Codes) -> None:
    qpay_source = _source_gate(body.get("source", _ABSENT), codes)
    for violation in violations(PAYMENT_VALIDATOR, body):
        if violation.path[:1] == ("source",) and not qpay_source:
            continue
        codes.add(code_for(violation), violation.path)


def _prose_amount_currency(body: dict[str, Any], codes: _Codes) -> None:
    amount = body.get("amount", _ABSENT)
    if amount is _ABSENT:
        codes.add("amount_required", ("amount",))
    elif codes.ok("amount") and not _is_amount(amount):
        codes.add("amount_invalid", ("amount",))
    currency = body.get("currency", _ABSENT)
    if codes.ok("currency") and (not _CURRENCY_RE.fullmatch(str(currency)) or currency != "QAR"):
        codes.add("currency_invalid", ("currency",))


def _prose_source(source: dict[str, Any], codes: _Codes) -> _Source:
    parsed = _Source()
    description = source.get("description", "")
    if codes.ok("source", "description"):
        if description == "":
            codes.add("description_required", ("source", "description"))
        elif not _valid_qpay_description(description):
            codes.add("description_invalid", ("source", "description"))
        else:
            parsed.description = description
    language = source.get("language", _ABSENT)
    if language is not _ABSENT and codes.ok("source", "language"):
        if str(language).lower() in LANGUAGES:
            parsed.language = str(language).lower()
        else:
            codes.add("language_invalid", ("source", "language"))
    quantity = source.get("quantity", _ABSENT)
    if quantity is not _ABSENT and codes.ok("source", "quantity"):
        parsed.quantity = int(quantity)
    national_id = source.get("national_id", _ABSENT)
    if national_id is not _ABSENT and codes.ok("source", "national_id"):
        if national_id == "":
            codes.add("national_id_invalid", ("source", "national_id"))
        else:
            parsed.national_id = national_id
    return parsed


def _prose_optional_fields(body: dict[str, Any], codes: _Codes, require_channel: bool) -> str | None:
    checks: tuple[tuple[str, Any, str], ...] = (
        ("success_url", is_http_url, "success_url_invalid"),
        ("failure_url", is_http_url, "fail_url_invalid"),
        ("payment_type", lambda v: v in PAYMENT_TYPES, "payment_type_invalid"),
        ("metadata", _is_flat_metadata, "metadata_invalid"),
    )
    for name, valid, code in checks:
        value = body.get(name, _ABSENT)
        if value is not _ABSENT and codes.ok(name) and not valid(value):
            codes.add(code, (name,))
    customer = body.get("customer", _ABSENT)
    email = customer.get("email", _ABSENT) if isinstance(customer, dict) else _ABSENT
    if email is not _ABSENT and codes.ok("customer", "email") and not _EMAIL_RE.fullmatch(str(email)):
        codes.add("customer_email_invalid", ("customer", "email"))
    channel = body.get("processing_channel_id", _ABSENT)
    if channel is _ABSENT or channel == "":
        if require_channel:
            codes.add("processing_channel_id_required", ("processing_channel_id",))
        return None
    if codes.ok("processing_channel_id") and not _PROCESSING_CHANNEL_RE.fullmatch(str(channel)):
        codes.add("processing_channel_id_invalid", ("processing_channel_id",))
    return channel if isinstance(channel, str) else None


def validate_payment(body: Any, *, require_processing_channel: bool) -> tuple[PaymentRequest | None, list[str]]:
    """Return the parsed request, or ``None`` and the list of error codes."""
    if not isinstance(body, dict):
        return None, ["request_json_invalid"]
    body = _lenient(body)
    codes = _Codes()
    _schema_layer(body, codes)
    _prose_amount_currency(body, codes)
    source = body.get("source")
    parsed_source = _prose_source(source, codes) if codes.ok("source") and isinstance(source, dict) else _Source()
    channel = _prose_optional_fields(body, codes, require_processing_channel)
    if codes.codes:
        return None, codes.codes
    return (
        PaymentRequest(
            amount=int(body["amount"]),
            currency="QAR",
            description=parsed_source.description,
            language=parsed_source.language,
            quantity=parsed_source.quantity,
            national_id=parsed_source.national_id,
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
    codes = _Codes()
    for violation in violations(REFUND_VALIDATOR, body):
        codes.add(code_for(violation), violation.path)
    amount = body.get("amount", _ABSENT)
    if amount is not _ABSENT and codes.ok("amount") and not _is_amount(amount):
        codes.add("amount_invalid", ("amount",))
    metadata = body.get("metadata", _ABSENT)
    if metadata is not _ABSENT and codes.ok("metadata") and not _is_flat_metadata(metadata):
        codes.add("metadata_invalid", ("metadata",))
    if codes.codes:
        return None, codes.codes
    reference = body.get("reference", _ABSENT)
    return (
        RefundRequest(
            amount=None if amount is _ABSENT else amount,
            reference=None if reference is _ABSENT else reference,
            metadata=None if metadata is _ABSENT else metadata,
        ),
        [],
    )

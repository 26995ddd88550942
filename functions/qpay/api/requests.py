"""Request bodies, validated on the hot path with the standard library.

The rules are those of the pydantic models in :mod:`qpay.api.models`, which stay the specification: the
OpenAPI document is generated from them, and a property test (tests/unit/test_requests.py) checks that
these parsers accept exactly what the models accept and name the same fields. Why not validate with
pydantic at run time: importing it and building the models costs ~200 ms of every create and refund
cold start (``make bench``: create 1.48x its floor with pydantic, the target is 1.3x), for two small
bodies. Every problem is reported at once, one ``{field, issue}`` each, never echoing the input (it may be
personal data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from qpay.domain.errors import ValidationFailed
from qpay.domain.money import MAX_AMOUNT

DESCRIPTION_MAX_ENCODED = 255  # Checkout.com: "max 255 characters after UTF-8 URL encoding"
REFERENCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*")
EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
CREATE_FIELDS = frozenset(
    {"reference", "amount", "currency", "description", "language", "quantity", "national_id", "customer", "metadata"}
)
CUSTOMER_FIELDS = frozenset({"email", "name"})
REFUND_FIELDS = frozenset({"amount", "reference", "reason"})
LANGUAGES = ("en", "ar")
METADATA_MAX_KEYS = 10
METADATA_KEY_MAX = 40
METADATA_TEXT_MAX = 200
#: DynamoDB numbers: at most 38 significant digits (anything larger cannot be stored: correctness F3)
METADATA_INT_MAX = 10**38 - 1


@dataclass(frozen=True)
class CreatePayment:
    """A valid ``POST /payments`` body."""

    reference: str
    amount: int
    currency: str
    description: str
    language: str
    quantity: int
    national_id: str = field(repr=False)  # to Checkout.com only: never stored, logged or echoed
    customer: dict[str, str] | None = field(default=None, repr=False)
    metadata: dict[str, str | int | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundBody:
    """A valid ``POST /payments/{id}/refunds`` body."""

    amount: int | None = None
    reference: str | None = None
    reason: str | None = None


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, name: str, issue: str) -> None:
        self.items.append({"field": name, "issue": issue})

    def raise_if_any(self, message: str) -> None:
        if self.items:
            raise ValidationFailed(message, details=self.items)


def _is_int(value: object) -> bool:
    return type(value) is int  # JSON true/false and 12.5 are not amounts


def storable(text: str) -> bool:
    """Text DynamoDB (and Checkout.com) can hold: valid Unicode, so no lone UTF-16 surrogate (F3)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


NOT_UNICODE = "must be valid Unicode text"


def _text(doc: dict[str, Any], name: str, p: _Problems, *, low: int, high: int, required: bool) -> str | None:
    if name not in doc or (doc[name] is None and not required):
        if required:
            p.add(name, "required")
        return None
    value = doc[name]
    if not isinstance(value, str):
        p.add(name, "must be a string")
        return None
    if not storable(value):
        p.add(name, NOT_UNICODE)
        return None
    if len(value) < low:
        p.add(name, f"at least {low} character{'s' if low > 1 else ''}")
        return None
    if len(value) > high:
        p.add(name, f"at most {high} characters")
        return None
    return value


def _integer(value: Any, name: str, p: _Problems, *, low: int, high: int) -> int | None:
    if not _is_int(value):
        p.add(name, "must be a whole number (minor units)" if name == "amount" else "must be a whole number")
        return None
    if not low <= value <= high:
        p.add(name, f"between {low} and {high}")
        return None
    return int(value)


def _unknown(doc: dict[str, Any], allowed: frozenset[str], p: _Problems, prefix: str = "") -> None:
    for name in sorted(set(doc) - allowed):
        p.add(prefix + name, "not a field of this request")


def parse_create(doc: Any) -> CreatePayment:
    p = _Problems()
    if not isinstance(doc, dict):
        raise ValidationFailed("invalid payment request", details=[{"field": "body", "issue": "must be an object"}])
    _unknown(doc, CREATE_FIELDS, p)
    reference = _text(doc, "reference", p, low=1, high=50, required=True)
    if reference is not None and not REFERENCE_RE.fullmatch(reference):
        p.add("reference", "letters, digits and . _ : - only, starting with a letter or digit")
    amount = None
    if "amount" in doc:
        amount = _integer(doc["amount"], "amount", p, low=1, high=MAX_AMOUNT)
    else:
        p.add("amount", "required")
    if "currency" not in doc:
        p.add("currency", "required")
    elif doc["currency"] != "QAR":
        p.add("currency", "must be QAR")
    description = _text(doc, "description", p, low=1, high=DESCRIPTION_MAX_ENCODED, required=True)
    if description is not None:
        encoded = len(quote(description, safe=""))
        if encoded > DESCRIPTION_MAX_ENCODED:
            p.add(
                "description",
                f"at most {DESCRIPTION_MAX_ENCODED} characters once URL-encoded (this one takes {encoded}); "
                "Arabic letters take 6 each",
            )
        elif not description.strip() or not description.isprintable():
            p.add("description", "must be printable text")
    language = doc.get("language", "en")
    if language not in LANGUAGES or not isinstance(language, str):
        p.add("language", "must be en or ar")
    quantity = _integer(doc["quantity"], "quantity", p, low=1, high=999) if "quantity" in doc else 1
    national_id = _national_id(doc, p)
    customer = _customer(doc.get("customer"), p)
    metadata = _metadata(doc.get("metadata", {}), p)
    p.raise_if_any("invalid payment request")
    # no problem recorded: every field was read
    assert reference is not None
    assert amount is not None
    assert description is not None
    assert quantity is not None
    assert national_id is not None
    return CreatePayment(
        reference=reference,
        amount=amount,
        currency="QAR",
        description=description,
        language=str(language),
        quantity=quantity,
        national_id=national_id,
        customer=customer,
        metadata=metadata,
    )


def _national_id(doc: dict[str, Any], p: _Problems) -> str | None:
    if "national_id" not in doc:
        p.add("national_id", "required")
        return None
    value = doc["national_id"]
    if not isinstance(value, str):
        p.add("national_id", "must be a string")
        return None
    if not (1 <= len(value) <= 32 and value.isascii() and value.isalnum()):
        p.add("national_id", "must be 1-32 letters or digits")
        return None
    return value


def _customer(value: Any, p: _Problems) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        p.add("customer", "must be an object")
        return None
    _unknown(value, CUSTOMER_FIELDS, p, prefix="customer.")
    out: dict[str, str] = {}
    email = value.get("email")
    if email is not None:
        if not isinstance(email, str):
            p.add("customer.email", "must be a string")
        elif not storable(email):
            p.add("customer.email", NOT_UNICODE)
        elif len(email) > 254 or not EMAIL_RE.fullmatch(email):
            p.add("customer.email", "must be an e-mail address")
        else:
            out["email"] = email
    name = value.get("name")
    if name is not None:
        if not isinstance(name, str):
            p.add("customer.name", "must be a string")
        elif not storable(name):
            p.add("customer.name", NOT_UNICODE)
        elif not 1 <= len(name) <= 100:
            p.add("customer.name", "1-100 characters")
        else:
            out["name"] = name
    return out


def _metadata(value: Any, p: _Problems) -> dict[str, str | int | bool]:
    if not isinstance(value, dict):
        p.add("metadata", "must be an object")
        return {}
    if len(value) > METADATA_MAX_KEYS:
        p.add("metadata", f"at most {METADATA_MAX_KEYS} keys")
        return {}
    out: dict[str, str | int | bool] = {}
    for key, item in value.items():
        if not 1 <= len(key) <= METADATA_KEY_MAX or not storable(key):
            p.add("metadata", f"keys: 1-{METADATA_KEY_MAX} characters of valid Unicode text")
        elif key.startswith("qpay_"):
            p.add("metadata", "keys starting with qpay_ are reserved")
        elif not isinstance(item, str | bool) and not _is_int(item):
            p.add(f"metadata.{key}", "must be text, a whole number or true/false")
        elif _is_int(item) and abs(item) > METADATA_INT_MAX:
            p.add(f"metadata.{key}", "whole numbers: at most 38 digits")
        elif isinstance(item, str) and len(item) > METADATA_TEXT_MAX:
            p.add(f"metadata.{key}", f"at most {METADATA_TEXT_MAX} characters")
        elif isinstance(item, str) and not storable(item):
            p.add(f"metadata.{key}", NOT_UNICODE)
        else:
            out[key] = item
    return out


def parse_refund(doc: Any) -> RefundBody:
    p = _Problems()
    if not isinstance(doc, dict):
        raise ValidationFailed("invalid refund request", details=[{"field": "body", "issue": "must be an object"}])
    _unknown(doc, REFUND_FIELDS, p)
    amount = None
    if doc.get("amount") is not None:
        amount = _integer(doc["amount"], "amount", p, low=1, high=MAX_AMOUNT)
    reference = _text(doc, "reference", p, low=1, high=80, required=False)
    reason = _text(doc, "reason", p, low=1, high=200, required=False)
    p.raise_if_any("invalid refund request")
    return RefundBody(amount=amount, reference=reference, reason=reason)


def fingerprint_document(req: CreatePayment) -> dict[str, Any]:
    """The request as the idempotency fingerprint covers it (every field, defaults included)."""
    customer = None if req.customer is None else {"email": req.customer.get("email"), "name": req.customer.get("name")}
    return {
        "reference": req.reference,
        "amount": req.amount,
        "currency": req.currency,
        "description": req.description,
        "language": req.language,
        "quantity": req.quantity,
        "customer": customer,
        "metadata": dict(req.metadata),
        "national_id": req.national_id,
    }

"""Identifiers: ours and Checkout.com's. Pure, no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

PAYMENT_PREFIX = "qpp_"
REFUND_PREFIX = "qrf_"

PAYMENT_ID_RE = re.compile(r"^qpp_[a-z2-7]{26}\Z")
REFUND_ID_RE = re.compile(r"^qrf_[a-z2-7]{26}\Z")
# Checkout.com's published pattern for GET /payments/{id}: ^(pay|sid)_(\w{26})$ (ASCII word characters)
CKO_PAYMENT_ID_RE = re.compile(r"^pay_\w{26}\Z", re.ASCII)
CKO_SESSION_ID_RE = re.compile(r"^sid_\w{26}\Z", re.ASCII)
CLIENT_SECRET_MARK = "_secret_"  # noqa: S105 - a separator, not a secret


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").lower().rstrip("=")[:26]


def new_payment_id() -> str:
    return PAYMENT_PREFIX + _b32(secrets.token_bytes(20))


def payment_id_for_key(server_key: str, scope: str, idempotency_key: str) -> str:
    """A payment id derived from the caller's idempotency key: the same key always names the same payment,
    so a retried create finds (and replays) the first one, and Checkout sees the same idempotency key.
    Keyed with the server's secret: nobody can derive a payment's id from an order number."""
    message = f"payment\x00{scope}\x00{idempotency_key}".encode()
    return PAYMENT_PREFIX + _b32(hmac.new(server_key.encode(), message, hashlib.sha256).digest())


def client_secret_for(server_key: str, payment_id: str) -> str:
    """The per-payment read secret the storefront hands to the browser (derived, never stored)."""
    mac = hmac.new(server_key.encode(), f"client-secret\x00{payment_id}".encode(), hashlib.sha256).digest()
    return payment_id + CLIENT_SECRET_MARK + base64.b32encode(mac).decode("ascii").lower().rstrip("=")


def new_refund_id() -> str:
    return REFUND_PREFIX + _b32(secrets.token_bytes(20))


def refund_id_for_key(payment_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{payment_id}\x00refund\x00{idempotency_key}".encode()).digest()
    return REFUND_PREFIX + _b32(digest)


def is_payment_id(value: str) -> bool:
    return bool(PAYMENT_ID_RE.match(value))


def is_refund_id(value: str | None) -> bool:
    return bool(value and REFUND_ID_RE.match(value))

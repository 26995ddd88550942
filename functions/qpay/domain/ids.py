"""Identifiers: ours and Checkout.com's. Pure, no I/O."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

PAYMENT_PREFIX = "qpp_"
REFUND_PREFIX = "qrf_"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"

PAYMENT_ID_RE = re.compile(r"^qpp_[a-z2-7]{26}$")
REFUND_ID_RE = re.compile(r"^qrf_[a-z2-7]{26}$")
CKO_PAYMENT_ID_RE = re.compile(r"^pay_[a-z2-7]{26}$")
CKO_SESSION_ID_RE = re.compile(r"^sid_[a-z2-7]{26}$")


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").lower().rstrip("=")[:26]


def new_payment_id() -> str:
    return PAYMENT_PREFIX + _b32(secrets.token_bytes(20))


def payment_id_for_key(scope: str, idempotency_key: str) -> str:
    """A payment id derived from the caller's idempotency key: the same key always names the same payment,
    so a retried create finds (and replays) the first one, and Checkout sees the same idempotency key."""
    digest = hashlib.sha256(f"{scope}\x00{idempotency_key}".encode()).digest()
    return PAYMENT_PREFIX + _b32(digest)


def new_refund_id() -> str:
    return REFUND_PREFIX + _b32(secrets.token_bytes(20))


def refund_id_for_key(payment_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{payment_id}\x00refund\x00{idempotency_key}".encode()).digest()
    return REFUND_PREFIX + _b32(digest)


def is_payment_id(value: str) -> bool:
    return bool(PAYMENT_ID_RE.match(value))


def is_refund_id(value: str | None) -> bool:
    return bool(value and REFUND_ID_RE.match(value))

"""Checkout.com webhook signatures: lowercase hex HMAC-SHA256 of the raw request body. Pure.

Verify the bytes received: re-serialising the JSON first changes them and breaks the signature.
Several keys are accepted so the signing key can be rotated without dropping webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, keys: Iterable[str]) -> bool:
    if not signature:
        return False
    presented = signature.strip().lower()
    if not presented.isascii():  # hmac.compare_digest raises on non-ASCII str: an attacker's 500
        return False
    raw = presented.encode("ascii")
    ok = False
    for key in keys:
        # compare against every key (no early exit) so timing says nothing about which key matched
        ok |= hmac.compare_digest(sign(body, key).encode("ascii"), raw)
    return ok

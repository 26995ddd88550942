"""Who may create a payment, and for how much.

Two ways in, both keyed by secrets in Secrets Manager:
- server to server: ``Authorization: Bearer <merchant API key>``; the merchant's server sets the amount.
- from the shopper's browser: ``X-Order-Token``, minted by the merchant's server over the order
  (reference, amount, currency, expiry) with an HMAC key. The body must match the token, so the shopper
  cannot change the amount. Format: ``v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from qpay.domain.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Caller:
    kind: str  # "merchant" | "order-token"
    scope: str  # idempotency keys are scoped by caller


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_order_token(key: str, *, reference: str, amount: int, currency: str, expires_at: int) -> str:
    """For the merchant's server (and the demo storefront): sign what the shopper is allowed to pay."""
    claims = {"reference": reference, "amount": amount, "currency": currency, "exp": expires_at}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{_b64(mac)}"


def verify_order_token(token: str, keys: tuple[str, ...], *, now: int, leeway_s: int) -> dict[str, Any]:
    try:
        version, payload, mac = token.split(".")
        presented = _unb64(mac)
    except ValueError:
        raise Forbidden("order token is malformed") from None
    if version != "v1":
        raise Forbidden("order token version is not supported")
    signed = f"v1.{payload}".encode()
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(hmac.new(key.encode(), signed, hashlib.sha256).digest(), presented)
    if not ok:
        raise Forbidden("order token signature is invalid")
    try:
        claims = json.loads(_unb64(payload))
    except ValueError:
        raise Forbidden("order token is malformed") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise Forbidden("order token is malformed")
    if claims["exp"] + leeway_s < now:
        raise Forbidden("order token has expired")
    return claims


def authenticate(
    *,
    authorization: str | None,
    order_token: str | None,
    body: Any,
    api_keys: tuple[str, ...],
    token_keys: tuple[str, ...],
    now: int,
    leeway_s: int,
) -> Caller:
    if authorization:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("use Authorization: Bearer <merchant API key>")
        ok = False
        for key in api_keys:
            ok |= hmac.compare_digest(key.encode(), presented.strip().encode())
        if not ok:
            raise Unauthorized("merchant API key is not valid")
        return Caller("merchant", "key:" + hashlib.sha256(presented.encode()).hexdigest()[:16])
    if order_token:
        claims = verify_order_token(order_token, token_keys, now=now, leeway_s=leeway_s)
        doc = body if isinstance(body, dict) else {}
        for field in ("reference", "amount", "currency"):
            if doc.get(field) != claims.get(field):
                raise Forbidden(
                    f"{field} does not match the order token",
                    details=[{"field": field, "issue": "does not match the order token"}],
                )
        return Caller("order-token", "ref:" + str(claims["reference"]))
    raise Unauthorized("a merchant API key or an order token is required")

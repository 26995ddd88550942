"""The order token: a standard JWT (HS256, ``kid``, ``aud`` "qpay-payments", a fresh ``jti`` per order
attempt) the browser sends as ``X-Order-Token`` to create this one payment without changing the price."""

from __future__ import annotations

import secrets
import time

import jwt

ORDER_TOKEN_AUDIENCE = "qpay-payments"  # noqa: S105 - an audience, not a secret


def mint_order_token(
    *,
    reference: str,
    amount: int,
    key: str,
    kid: str,
    currency: str = "QAR",
    expires_in_s: int = 900,
    jti: str | None = None,
    now: int | None = None,
) -> str:
    """``amount`` is an integer in minor units (dirhams): 12500 is QAR 125.00."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer in minor units")
    issued = int(time.time()) if now is None else now
    claims = {
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "exp": issued + expires_in_s,
        "aud": ORDER_TOKEN_AUDIENCE,
        "jti": jti or secrets.token_urlsafe(18),
    }
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})

"""Who may create or read a payment, and for how much.

Ways in, all keyed by secrets in Secrets Manager:
- server to server: ``Authorization: Bearer <merchant API key>``; the merchant's server sets the amount.
  Every merchant key of this stack is one merchant, so idempotency keys are scoped to "merchant" and a
  key rotation changes no payment id (a rotated key keeps replaying the same payments).
- from the shopper's browser: ``X-Order-Token``, a standard JWT (HS256, ``kid`` in the header naming
  one of ``order_token_keys``) minted by the merchant's server over the order: claims ``reference``,
  ``amount`` (minor units), ``currency``, ``exp``, ``aud`` = ``qpay-payments`` and ``jti``. The body
  must match the claims, so the shopper cannot change the amount; the payment id derives from the
  ``jti``, so a token names exactly one payment (a replay replays it, never creates a second one).
- reading a payment: the merchant key, or the payment's client secret (returned by the create call;
  the storefront hands it to the browser, as Stripe's ``client_secret``) in ``X-Client-Secret``.

Verified with PyJWT (imported only when a token is presented: server-to-server calls never pay for it).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qpay.domain.errors import Forbidden, NotFound, Unauthorized

AUDIENCE = "qpay-payments"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "aud", "jti", "reference", "amount", "currency")
BOUND_CLAIMS = ("reference", "amount", "currency")
#: A browser token outliving a day is a leaked credential waiting to be used (F6): mint one per checkout
MAX_LIFETIME_S = 24 * 3600


@dataclass(frozen=True)
class Caller:
    kind: str  # "merchant" | "order-token"
    scope: str  # what idempotency keys are scoped by: "merchant", or "token:<jti>"


def bearer(authorization: str) -> str:
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("use Authorization: Bearer <merchant API key>")
    return presented.strip()


def is_merchant_key(presented: str, api_keys: tuple[str, ...]) -> bool:
    ok = False
    for key in api_keys:  # every key compared: timing says nothing about which one matched
        ok |= hmac.compare_digest(key.encode(), presented.encode())
    return ok


def authenticate_merchant(authorization: str, api_keys: tuple[str, ...]) -> Caller:
    if not is_merchant_key(bearer(authorization), api_keys):
        raise Unauthorized("merchant API key is not valid")
    return Caller("merchant", "merchant")


def mint_order_token(
    key: str,
    *,
    kid: str,
    reference: str,
    amount: int,
    currency: str,
    expires_at: int,
    jti: str | None = None,
) -> str:
    """What the merchant's server does (any language's JWT library does the same): the reference
    implementation the demo storefront and the tests use. A fresh ``jti`` per order attempt."""
    import secrets  # noqa: PLC0415

    import jwt  # noqa: PLC0415

    claims = {
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "exp": expires_at,
        "aud": AUDIENCE,
        "jti": jti or secrets.token_urlsafe(18),
    }
    return str(jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid}))


def verify_order_token(
    token: str, token_key: Callable[[str], str | None], *, now: int, leeway_s: int
) -> dict[str, Any]:
    """The token's claims, or :class:`Forbidden` saying what is wrong with it."""
    import jwt  # noqa: PLC0415 - only browser checkouts pay for it

    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise Forbidden("order token is not a JWT (expected <header>.<claims>.<signature>, HS256)") from None
    except jwt.InvalidTokenError:  # a kid that is not a string, a crit header: PyJWT refuses the header (F2)
        raise Forbidden("order token header is malformed") from None
    if header.get("alg") != ALGORITHM:
        raise Forbidden(f"order token must be signed with {ALGORITHM}")
    kid = header.get("kid")
    key = token_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise Forbidden("order token names no known key (kid)")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=leeway_s,
            # expiry is checked below against the one clock of this package (qpay.clock)
            # strict_aud: aud must be exactly the string, not a list that contains it (F6)
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False, "strict_aud": True},
        )
    except jwt.InvalidAudienceError:
        raise Forbidden(f"order token audience must be {AUDIENCE}") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Forbidden(f"order token lacks the {exc.claim} claim") from None
    except jwt.InvalidSignatureError:
        raise Forbidden("order token signature is invalid") from None
    except jwt.InvalidTokenError:
        raise Forbidden("order token is malformed") from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 16 <= len(jti) <= 128 or not jti.isprintable():
        raise Forbidden("order token jti must be 16-128 printable characters")
    if type(claims.get("amount")) is not int or not isinstance(claims.get("reference"), str):
        raise Forbidden("order token amount must be an integer and reference a string")
    exp = claims.get("exp")
    if type(exp) is not int:
        raise Forbidden("order token exp must be epoch seconds")
    if exp + leeway_s < now:
        raise Forbidden("order token has expired")
    if exp - now > MAX_LIFETIME_S:
        raise Forbidden(f"order token must expire within {MAX_LIFETIME_S // 3600} hours (exp)")
    return claims


def authenticate(
    *,
    authorization: str | None,
    order_token: str | None,
    body: Any,
    api_keys: tuple[str, ...],
    token_key: Callable[[str], str | None],
    now: int,
    leeway_s: int,
) -> Caller:
    if authorization:
        return authenticate_merchant(authorization, api_keys)
    if order_token:
        claims = verify_order_token(order_token, token_key, now=now, leeway_s=leeway_s)
        doc = body if isinstance(body, dict) else {}
        for field in BOUND_CLAIMS:
            if doc.get(field) != claims.get(field):
                raise Forbidden(
                    f"{field} does not match the order token",
                    details=[{"field": field, "issue": "does not match the order token"}],
                )
        return Caller("order-token", "token:" + str(claims["jti"]))
    raise Unauthorized("a merchant API key or an order token is required")


def authorize_read(
    *,
    authorization: str | None,
    client_secret: str | None,
    expected_secret: Callable[[], str],
    api_keys: Callable[[], tuple[str, ...]],
) -> str:
    """Who reads a payment: ``"merchant"`` or ``"client"``. No credentials → 401; a client secret that
    is not this payment's → 404 (as if the payment did not exist: an id alone reveals nothing)."""
    if authorization:
        authenticate_merchant(authorization, api_keys())
        return "merchant"
    if client_secret:
        if not hmac.compare_digest(client_secret.encode(), expected_secret().encode()):
            raise NotFound("no such payment")
        return "client"
    raise Unauthorized("use Authorization: Bearer <merchant API key>, or X-Client-Secret from the create call")

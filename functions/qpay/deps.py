"""Adapters built once per cold start from settings. Tests reset them with ``reset()``.

Nothing here knows whether it talks to AWS and Checkout.com or to local doubles: endpoints come from
configuration (AWS_ENDPOINT_URL_*, CHECKOUT_BASE_URL). Every AWS client comes from one botocore session
(one load of the endpoint data and credentials per container).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from qpay.settings import get_settings

if TYPE_CHECKING:
    from qpay.adapters.checkout import CheckoutClient
    from qpay.adapters.secrets import Keys, SecretReader
    from qpay.adapters.store import PaymentStore
    from qpay.api.origin import OriginCheck
    from qpay.service.returns import RecentChecks


@cache
def _client(service: str) -> Any:
    from qpay.adapters.dynamo import make_client  # noqa: PLC0415

    return make_client(service)


def dynamodb() -> Any:
    return _client("dynamodb")


def stepfunctions() -> Any:
    return _client("stepfunctions")


def events() -> Any:
    """EventBridge (order events from the outbox consumer)."""
    return _client("events")


def secretsmanager() -> Any:
    return _client("secretsmanager")


@cache
def secret_reader() -> SecretReader:
    from qpay.adapters.secrets import SecretReader  # noqa: PLC0415

    s = get_settings()
    return SecretReader(secretsmanager, s.secret_id, s.secret_max_age_s)


def keys() -> Keys:
    return secret_reader().keys()


@cache
def origin_check() -> OriginCheck:
    """The public routes' x-origin-verify check: on when ORIGIN_VERIFY_SECRET_ID names a secret."""
    from qpay.adapters.origin_secret import OriginSecret  # noqa: PLC0415
    from qpay.api.origin import OriginCheck  # noqa: PLC0415

    s = get_settings()
    if not s.origin_verify_secret_id:
        return OriginCheck(None)
    secret = OriginSecret(
        secretsmanager,
        s.origin_verify_secret_id,
        s.secret_max_age_s,
        min_refresh_s=s.origin_verify_min_refresh_s,
    )
    return OriginCheck(secret.values)


@cache
def store() -> PaymentStore:
    from qpay.adapters.store import PaymentStore  # noqa: PLC0415

    return PaymentStore(dynamodb(), get_settings().table_name)


@cache
def checkout() -> CheckoutClient:
    from qpay.adapters.checkout import CheckoutClient  # noqa: PLC0415

    s = get_settings()

    def secret_key() -> str:
        current = keys()
        current.require("checkout_secret_key")
        return current.checkout_secret_key

    return CheckoutClient(
        s.checkout_base_url,
        secret_key,
        connect_timeout_s=s.checkout_connect_timeout_s,
        timeout_s=s.checkout_timeout_s,
        max_attempts=s.checkout_max_attempts,
        deadline_s=s.checkout_deadline_s,
    )


@cache
def recent_returns() -> RecentChecks:
    """Payments this container asked Checkout about on a return, in the last few seconds."""
    from qpay.service.returns import RecentChecks  # noqa: PLC0415

    return RecentChecks()


def reset() -> None:
    """Forget every cached adapter and setting (tests and the local stack after changing env),
    the botocore session too: it holds the credentials it first resolved."""
    from qpay.adapters.dynamo import forget_session  # noqa: PLC0415

    forget_session()
    get_settings.cache_clear()
    for fn in (_client, secret_reader, origin_check, store, checkout, recent_returns):
        fn.cache_clear()

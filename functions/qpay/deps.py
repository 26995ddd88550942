"""Adapters built once per cold start from settings. Tests reset them with ``reset()``.

Nothing here knows whether it talks to AWS and Checkout.com or to local doubles: endpoints come from
configuration (AWS_ENDPOINT_URL_*, CHECKOUT_BASE_URL).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from qpay.settings import get_settings

if TYPE_CHECKING:
    from qpay.adapters.checkout import CheckoutClient
    from qpay.adapters.secrets import Keys
    from qpay.adapters.store import PaymentStore


def keys() -> Keys:
    from qpay.adapters.secrets import load_keys  # noqa: PLC0415

    s = get_settings()
    return load_keys(s.secret_id, s.secret_max_age_s)


@cache
def dynamodb() -> Any:
    from qpay.adapters.dynamo import make_client  # noqa: PLC0415

    return make_client()


@cache
def store() -> PaymentStore:
    from qpay.adapters.store import PaymentStore  # noqa: PLC0415

    return PaymentStore(dynamodb(), get_settings().table_name)


@cache
def checkout() -> CheckoutClient:
    from qpay.adapters.checkout import CheckoutClient  # noqa: PLC0415

    s = get_settings()
    return CheckoutClient(
        s.checkout_base_url,
        lambda: keys().checkout_secret_key,
        connect_timeout_s=s.checkout_connect_timeout_s,
        timeout_s=s.checkout_timeout_s,
        max_attempts=s.checkout_max_attempts,
        deadline_s=s.checkout_deadline_s,
    )


@cache
def stepfunctions() -> Any:
    from qpay.adapters.dynamo import make_client  # noqa: PLC0415

    return make_client("stepfunctions")


@cache
def events() -> Any:
    """EventBridge (order events from the outbox consumer)."""
    from qpay.adapters.dynamo import make_client  # noqa: PLC0415

    return make_client("events")


def reset() -> None:
    """Forget every cached adapter and setting (tests and the local stack after changing env)."""
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    get_settings.cache_clear()
    for fn in (dynamodb, store, checkout, stepfunctions, events):
        fn.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]

"""qpay-client: the QPay on AWS API for a Python storefront. The calls are generated from openapi.json
by openapi-python-client (``qpay_client.generated``); beside them the three helpers a storefront needs."""

from __future__ import annotations

import httpx

from qpay_client.config import Config, config_from_env
from qpay_client.events import WebhookVerificationError, verify_order_event
from qpay_client.generated import AuthenticatedClient, Client
from qpay_client.refunds import RefundAnswer, refund, sign_refund
from qpay_client.tokens import ORDER_TOKEN_AUDIENCE, mint_order_token
from qpay_client.transport import RetryTransport

API_VERSION = "1.0.0"  # openapi.json info.version

__all__ = [
    "API_VERSION",
    "ORDER_TOKEN_AUDIENCE",
    "AuthenticatedClient",
    "Client",
    "Config",
    "RefundAnswer",
    "RetryTransport",
    "WebhookVerificationError",
    "browser_client",
    "config_from_env",
    "merchant_client",
    "mint_order_token",
    "refund",
    "sign_refund",
    "verify_order_event",
]


def merchant_client(
    base_url: str, merchant_key: str, *, timeout_s: float = 10.0, max_attempts: int = 3
) -> AuthenticatedClient:
    """Server side: ``Authorization: Bearer <merchant API key>``; a timeout per attempt, and GETs and calls
    with an ``Idempotency-Key`` retried (bounded, with jitter) on 429/502/503/504 and network errors."""
    return AuthenticatedClient(
        base_url=base_url.rstrip("/"),
        token=merchant_key,
        timeout=httpx.Timeout(timeout_s),
        httpx_args={"transport": RetryTransport(max_attempts=max_attempts)},
    )


def browser_client(base_url: str, *, timeout_s: float = 10.0, max_attempts: int = 3) -> Client:
    """No merchant key: for calls with ``X-Order-Token`` or ``X-Client-Secret``."""
    return Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout_s),
        httpx_args={"transport": RetryTransport(max_attempts=max_attempts)},
    )

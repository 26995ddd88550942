"""The configuration from the environment, under the names ``make run`` writes to
``.local-state/env.local`` (AWS credentials prefixed ``QPAY_AWS_`` so your own AWS calls keep theirs)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.credentials import Credentials


@dataclass(frozen=True)
class Config:
    base_url: str
    merchant_key: str
    order_token_key: str
    order_token_kid: str
    region: str
    credentials: Credentials
    event_secret: str


def config_from_env(env: Mapping[str, str] | None = None) -> Config:
    e = os.environ if env is None else env
    return Config(
        base_url=e.get("QPAY_API_URL", ""),
        merchant_key=e.get("QPAY_MERCHANT_API_KEY", ""),
        order_token_key=e.get("QPAY_ORDER_TOKEN_KEY", ""),
        order_token_kid=e.get("QPAY_ORDER_TOKEN_KID", ""),
        region=e.get("QPAY_AWS_REGION", ""),
        credentials=Credentials(
            e.get("QPAY_AWS_ACCESS_KEY_ID", ""),
            e.get("QPAY_AWS_SECRET_ACCESS_KEY", ""),
            e.get("QPAY_AWS_SESSION_TOKEN"),
        ),
        event_secret=e.get("QPAY_EVENT_FORWARDING_SECRET", ""),
    )

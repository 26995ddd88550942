"""All configuration, read from the environment once per cold start and validated by one pydantic model.

Endpoints are configuration: the same code talks to AWS and Checkout.com in production and to moto,
DynamoDB Local and the Checkout.com simulator locally (AWS_ENDPOINT_URL_* and CHECKOUT_BASE_URL).
Secrets are never here: only the Secrets Manager id they are read from.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(min_length=3)
    secret_id: str = Field(min_length=1, description="Secrets Manager id of the JSON secret with all keys")
    secret_max_age_s: int = Field(default=300, ge=0)

    checkout_base_url: str = "https://api.sandbox.checkout.com"
    checkout_connect_timeout_s: float = Field(default=1.5, gt=0, le=5)
    checkout_timeout_s: float = Field(default=4.0, gt=0, le=10)
    checkout_max_attempts: int = Field(default=3, ge=1, le=5)
    checkout_deadline_s: float = Field(default=12.0, gt=0, le=25)
    processing_channel_id: str | None = None

    public_base_url: str | None = Field(default=None, description="Base URL of this API for return URLs")
    storefront_success_url: str = "http://127.0.0.1:3000/shop/result"
    storefront_failure_url: str = "http://127.0.0.1:3000/shop/result"

    expiry_window_s: int = Field(default=20 * 60, ge=1, description="session's 15 min + grace")
    expiry_rearm_base_s: int = Field(default=5 * 60, ge=1)
    expiry_rearm_cap_s: int = Field(default=60 * 60, ge=1)
    expiry_max_age_s: int = Field(default=48 * 3600, ge=1, description="Checkout retries for ~30 h")
    create_lease_s: int = Field(default=30, ge=1)
    order_token_leeway_s: int = Field(default=30, ge=0)
    event_retention_days: int = Field(default=90, ge=1)
    customer_data_retention_days: int = Field(default=30, ge=1)

    refund_state_machine_arn: str | None = None

    order_events_bus_name: str | None = Field(default=None, description="EventBridge bus for order events")
    order_events_source: str = "qpay.payments"
    reconcile_window_days: int = Field(default=3, ge=1, le=35, description="payments changed in the last N days")
    reconcile_max_payments: int = Field(default=2000, ge=1, description="bound per run; the report says if cut")
    reconcile_open_refund_grace_s: int = Field(
        default=6 * 3600, ge=0, description="leave younger open refunds to their workflow"
    )

    @field_validator("checkout_base_url", "public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("storefront_success_url", "storefront_failure_url", "checkout_base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value


@cache
def get_settings() -> Settings:
    return Settings.model_validate({k.lower(): v for k, v in os.environ.items()})

"""Response models of the storefront-facing API: the OpenAPI document is generated from them and the tests
check every answer against them. Handlers build their answers as plain dicts (``qpay.api.views``), so
no handler pays for building these classes at cold start."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RefundView(BaseModel):
    id: str
    amount: int
    status: Literal["Requested", "Pending", "Refunded", "Declined", "Failed"]
    reference: str | None = None
    created_at: str
    updated_at: str


class Decline(BaseModel):
    response_code: str = Field(description="Checkout.com's response code, e.g. 20006")
    response_summary: str | None = Field(default=None, description="Checkout.com's words for it")


class PaymentView(BaseModel):
    id: str
    reference: str
    status: Literal[
        "Pending",
        "Capture Pending",
        "Captured",
        "Partially Refunded",
        "Refunded",
        "Declined",
        "Canceled",
        "Expired",
    ]
    amount: int
    currency: str
    refunded_amount: int = 0
    awaiting_confirmation: bool = Field(
        default=False, description="Past its deadline and still open: Checkout.com has not decided yet"
    )
    created_at: str
    updated_at: str
    expires_at: str
    redirect_url: str | None = None
    refunds: list[RefundView] = Field(default_factory=list)
    cko_payment_id: str | None = Field(default=None, description="Checkout.com's pay_… id (merchant reads only)")
    attention: bool | None = Field(default=None, description="Flagged for a human (merchant reads only)")
    attention_reason: str | None = Field(default=None, description="Why it is flagged (merchant reads only)")
    decline: Decline | None = Field(
        default=None,
        description="Declined: why, as Checkout.com's notification said it (merchant reads only; absent when "
        "Checkout gave no reason)",
    )


class CreatePaymentResponse(BaseModel):
    id: str
    client_secret: str = Field(
        description="Hand it to the shopper's browser: it reads this payment (header X-Client-Secret), nothing else"
    )
    reference: str
    status: Literal["Pending", "Capture Pending", "Captured", "Declined", "Canceled", "Expired"]
    amount: int
    currency: str
    redirect_url: str
    expires_at: str


class RefundResponse(BaseModel):
    id: str
    payment_id: str
    amount: int
    status: Literal["Requested", "Pending", "Refunded", "Declined", "Failed"]


class FieldError(BaseModel):
    field: str
    issue: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = Field(default_factory=list)
    request_id: str | None = None

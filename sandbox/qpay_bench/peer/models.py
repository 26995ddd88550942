"""Request and notification models (pydantic), as a typical team declares them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Customer(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=100)


class CreatePaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=50)
    amount: int = Field(gt=0, le=100_000_000)
    currency: Literal["QAR"]
    description: str = Field(min_length=1, max_length=255)
    language: Literal["en", "ar"] = "en"
    quantity: int = Field(default=1, ge=1)
    national_id: str = Field(pattern=r"^[0-9]{11}$", repr=False)
    customer: Customer | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class CreatePaymentResponse(BaseModel):
    id: str
    reference: str
    status: str
    amount: int
    currency: str
    redirect_url: str


class WebhookData(BaseModel):
    id: str
    action_id: str | None = None
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class WebhookEvent(BaseModel):
    id: str
    type: str
    created_on: str
    data: WebhookData

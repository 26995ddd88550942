"""Request models of the storefront-facing API: the specification of the request bodies (pydantic).

The OpenAPI document is generated from them, and they are the oracle the run-time parsers in
:mod:`qpay.api.requests` are tested against (accept exactly the same bodies, name the same fields). The
handlers do not import them: pydantic costs ~200 ms of a cold start (``make bench``). The response models
are in :mod:`qpay.api.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, StrictInt, field_validator

from qpay.api.requests import storable
from qpay.domain.money import MAX_AMOUNT

DESCRIPTION_MAX_ENCODED = 255  # Checkout.com: "max 255 characters after UTF-8 URL encoding"
Reference = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
# 1.0 is neither a whole number nor true here; whole numbers within DynamoDB's 38 digits (F3)
MetaValue = str | Annotated[StrictInt, Field(ge=-(10**38 - 1), le=10**38 - 1)] | StrictBool


def _unicode(value: str | None) -> str | None:
    if value is not None and not storable(value):
        raise ValueError("must be valid Unicode text")
    return value


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", repr=False)
    name: str | None = Field(default=None, min_length=1, max_length=100, repr=False)

    _storable = field_validator("email", "name")(_unicode)


class CreatePaymentRequest(BaseModel):
    """What the storefront sends. The shopper can never set the amount: see order tokens."""

    model_config = ConfigDict(extra="forbid")
    reference: Reference = Field(description="The merchant's order id; one live payment per reference")
    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)] = Field(description="Minor units (dirhams)")
    currency: Literal["QAR"]
    description: str = Field(
        min_length=1,
        max_length=255,
        description="Shown on the QPay page; at most 255 characters once UTF-8 URL-encoded (Checkout.com's "
        "limit: about 43 Arabic letters)",
    )
    language: Literal["en", "ar"] = "en"
    quantity: Annotated[StrictInt, Field(ge=1, le=999)] = 1
    national_id: SecretStr = Field(
        description="Shopper's Qatar national ID; sent to Checkout.com only, never stored or logged"
    )
    customer: Customer | None = None
    metadata: dict[Annotated[str, Field(min_length=1, max_length=40)], MetaValue] = Field(
        default_factory=dict, max_length=10
    )

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        encoded = len(quote(value, safe=""))
        if encoded > DESCRIPTION_MAX_ENCODED:
            raise ValueError(
                f"at most {DESCRIPTION_MAX_ENCODED} characters once URL-encoded (this one takes {encoded}); "
                "Arabic letters take 6 each"
            )
        if not value.strip() or not value.isprintable():
            raise ValueError("must be printable text")
        return value

    @field_validator("national_id")
    @classmethod
    def _national_id(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if not (1 <= len(raw) <= 32 and raw.isascii() and raw.isalnum()):
            raise ValueError("must be 1-32 letters or digits")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, MetaValue]) -> dict[str, MetaValue]:
        for key, item in value.items():
            if key.startswith("qpay_"):
                raise ValueError("keys starting with qpay_ are reserved")
            if isinstance(item, str) and len(item) > 200:
                raise ValueError(f"{key}: at most 200 characters")
            if not storable(key) or (isinstance(item, str) and not storable(item)):
                raise ValueError("must be valid Unicode text")
        return value


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        default=None, description="Minor units; default: the rest of the refundable balance"
    )
    reference: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    _storable = field_validator("reference", "reason")(_unicode)


def validation_details(errors: list[Any]) -> list[dict[str, str]]:
    """pydantic errors as ``{field, issue}``, never echoing the input (it may be personal data)."""
    out = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__") or "body"
        out.append({"field": loc, "issue": str(err.get("msg", "invalid"))})
    return out

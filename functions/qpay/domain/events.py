"""Checkout.com webhook notifications, parsed into what the state machine needs. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qpay.domain.ids import CKO_PAYMENT_ID_RE, is_payment_id

# Our payment id travels to Checkout.com in the payment's metadata and comes back on every webhook,
# so a webhook finds its payment with one key lookup, even before the create call has finished.
METADATA_PAYMENT_ID = "qpay_payment_id"


class MalformedEvent(ValueError):
    """The body is signed but not a notification we can read (missing id/type/data)."""


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    type: str
    cko_payment_id: str
    payment_id: str | None
    action_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    reference: str | None = None
    response_code: str | None = None
    response_summary: str | None = None
    created_on: str | None = None
    balances: dict[str, int] = field(default_factory=dict)

    def created_epoch(self) -> int | None:
        """When Checkout.com created the notification (epoch seconds), if it says so readably."""
        if not self.created_on:
            return None
        try:
            return int(datetime.fromisoformat(self.created_on.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return None


def parse_event(doc: Any) -> WebhookEvent:
    if not isinstance(doc, dict):
        raise MalformedEvent("body is not a JSON object")
    event_id, event_type, data = doc.get("id"), doc.get("type"), doc.get("data")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("id and type are required")
    if not isinstance(data, dict):
        raise MalformedEvent("data is required")
    cko_id = data.get("id")
    if not isinstance(cko_id, str) or not CKO_PAYMENT_ID_RE.match(cko_id):
        raise MalformedEvent("data.id must be a Checkout.com payment id")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    ours = metadata.get(METADATA_PAYMENT_ID) if metadata else None
    amount = data.get("amount")
    balances = data.get("balances") if isinstance(data.get("balances"), dict) else {}
    return WebhookEvent(
        event_id=event_id,
        type=event_type,
        cko_payment_id=cko_id,
        payment_id=ours if isinstance(ours, str) and is_payment_id(ours) else None,
        action_id=_str_or_none(data.get("action_id")),
        amount=amount if type(amount) is int else None,
        currency=_str_or_none(data.get("currency")),
        reference=_str_or_none(data.get("reference")),
        response_code=_str_or_none(data.get("response_code")),
        response_summary=_str_or_none(data.get("response_summary")),
        created_on=_str_or_none(doc.get("created_on")),
        balances={k: v for k, v in (balances or {}).items() if type(v) is int},
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

"""Checkout.com webhook notifications, parsed into what the state machine needs. Pure.

Not every notification carries every field (Checkout's published examples): ``payment_canceled`` and
``payment_refund_pending`` come without ``metadata``, and ``payment_refund_pending`` without
``reference``. So ``payment_id`` (ours, from the metadata) may be None: the caller then finds the payment
by Checkout's ``data.id``. Fields of the wrong type are dropped (None), never passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qpay.domain.ids import CKO_PAYMENT_ID_RE, is_payment_id

# Our payment id travels to Checkout.com in the payment's metadata and comes back on most webhooks,
# so such a webhook finds its payment with one key lookup, even before the create call has finished.
METADATA_PAYMENT_ID = "qpay_payment_id"
MAX_EVENT_ID = 128


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
    created_on: str | None = None
    response_code: str | None = None  # Checkout's, e.g. "20006" on a declined QPay payment
    response_summary: str | None = None

    def decline(self) -> dict[str, str] | None:
        """Why Checkout.com declined the payment, if this notification says so."""
        if self.type != "payment_capture_declined" or self.response_code is None:
            return None
        return {"response_code": self.response_code, "response_summary": self.response_summary or ""}

    def created_epoch(self) -> int | None:
        """When Checkout.com created the notification (epoch seconds), if it says so readably."""
        if not self.created_on:
            return None
        try:
            return int(datetime.fromisoformat(self.created_on).timestamp())
        except ValueError:
            return None


def _text(value: object, limit: int = 256) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def parse_event(doc: Any) -> WebhookEvent:
    if not isinstance(doc, dict):
        raise MalformedEvent("body is not a JSON object")
    event_id, event_type, data = _text(doc.get("id"), MAX_EVENT_ID), _text(doc.get("type")), doc.get("data")
    if event_id is None or event_type is None:
        raise MalformedEvent("id and type are required strings")
    if not isinstance(data, dict):
        raise MalformedEvent("data is required")
    cko_id = data.get("id")
    if not isinstance(cko_id, str) or not CKO_PAYMENT_ID_RE.match(cko_id):
        raise MalformedEvent("data.id must be a Checkout.com payment id")
    metadata = data.get("metadata")
    ours = metadata.get(METADATA_PAYMENT_ID) if isinstance(metadata, dict) else None
    amount = data.get("amount")
    # newer deliveries say created_on, older ones timestamp: either dates the notification
    created = _text(doc.get("created_on")) or _text(doc.get("timestamp"))
    return WebhookEvent(
        event_id=event_id,
        type=event_type,
        cko_payment_id=cko_id,
        payment_id=ours if isinstance(ours, str) and is_payment_id(ours) else None,
        action_id=_text(data.get("action_id")),
        amount=amount if type(amount) is int else None,
        currency=_text(data.get("currency"), 3),
        reference=_text(data.get("reference")),
        created_on=created,
        response_code=_text(data.get("response_code"), 16),
        response_summary=_text(data.get("response_summary")),
    )

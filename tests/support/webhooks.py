"""Checkout.com notifications, shaped and signed as Checkout.com sends them."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from tests.contracts.webhook_field_sets import FIELD_SETS
from tests.support.keys import WEBHOOK_SIGNING_KEY

_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def cko_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_B32) for _ in range(26))


# What each notification's data carries, as Checkout.com publishes them (docs' webhook examples, cited in
# tests/contracts): payment_canceled and payment_refund_pending come WITHOUT metadata, and
# payment_refund_pending without a reference; payment_pending has no action id.
WITHOUT_METADATA = frozenset({"payment_canceled", "payment_refund_pending"})
WITHOUT_REFERENCE = frozenset({"payment_refund_pending"})
WITHOUT_ACTION = frozenset({"payment_pending"})
WITH_OUTCOME = frozenset(
    {"payment_captured", "payment_capture_declined", "payment_refunded", "payment_refund_declined"}
)


def notification(
    event_type: str,
    *,
    cko_payment_id: str,
    payment_id: str | None,
    amount: int = 1000,
    reference: str | None = "ORD-1",
    action_id: str | None = None,
    event_id: str | None = None,
    response_code: str = "10000",
    metadata: bool | None = None,
) -> dict[str, Any]:
    """A notification in Checkout's published shape for ``event_type``. ``metadata=True`` forces our
    metadata onto a type Checkout sends without it (or ``False`` drops it from one that has it)."""
    declined = event_type in ("payment_capture_declined", "payment_refund_declined")
    evt = event_id or cko_id("evt_")
    base = "https://api.sandbox.checkout.com"
    data: dict[str, Any] = {"id": cko_payment_id}
    if event_type not in WITHOUT_ACTION:
        data["action_id"] = action_id or cko_id("act_")
    if event_type not in WITHOUT_REFERENCE and reference is not None:
        data["reference"] = reference
    data.update(amount=amount, currency="QAR", processed_on="2026-11-25T10:00:00.000Z")
    if event_type in WITH_OUTCOME:
        data["response_code"] = "20006" if declined else response_code
        data["response_summary"] = "Declined" if declined else "Approved"
    with_meta = metadata if metadata is not None else event_type not in WITHOUT_METADATA
    if with_meta:
        data["metadata"] = {"qpay_payment_id": payment_id} if payment_id else {}
    published = FIELD_SETS.get(event_type)
    if published is not None:  # nothing Checkout does not send for this type (metadata stays the caller's)
        data = {k: v for k, v in data.items() if k in published.fields or k == "metadata"}
    return {
        "id": evt,
        "type": event_type,
        "version": "1.0.33",
        "created_on": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "data": data,
        "_links": {
            "self": {"href": f"{base}/events/{evt}"},
            "subject": {"href": f"{base}/workflows/events/subject/{cko_payment_id}"},
            "payment": {"href": f"{base}/payments/{cko_payment_id}"},
            "payment_actions": {"href": f"{base}/payments/{cko_payment_id}/actions"},
        },
    }


def sign(body: bytes, key: str = WEBHOOK_SIGNING_KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()

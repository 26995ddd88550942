"""Webhook notification bodies in the shapes Checkout.com publishes, one field set per event type.

Field sets (``data`` keys, in Checkout's order) come from Checkout's published examples:

- workflows pages, https://www.checkout.com/docs/workflows/webhook-event-types/<type> (2022):
  ``payment_capture_pending``, ``payment_canceled`` (no ``metadata``), ``payment_expired``,
  ``payment_refund_pending`` (no ``reference``, no ``metadata``), ``payment_refunded``;
- https://www.checkout.com/docs/developer-resources/webhooks/webhook-event-types/payment_captured (2023):
  ``payment_captured`` with ``processing`` and ``data.event_links`` (plain URL strings);
- https://www.checkout.com/docs/reporting-and-insights/webhooks/webhook-examples/payment_refund_pending
  (2022): the ``payment_refund_pending`` variant with ``reference`` and ``metadata``;
- bodies delivered by the NAS sandbox (fidelity review E16/E17): ``payment_pending`` without ``action_id``,
  ``payment_capture_declined``, ``payment_refund_declined``, and the envelope ``_links`` with ``self``,
  ``subject``, ``payment`` and ``payment_actions``.

A field whose value is unknown (``reference`` when none was sent) is left out, never sent as ``null``.
Nothing here ever renders ``national_id``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cko_sim.clock import iso
from cko_sim.models.state import Payment

#: ``data`` fields per event type.
DATA_FIELDS: dict[str, tuple[str, ...]] = {
    "payment_pending": ("id", "reference", "amount", "currency", "processed_on", "metadata"),
    "payment_capture_pending": ("id", "action_id", "amount", "processed_on", "reference", "metadata", "currency"),
    "payment_captured": (
        "id",
        "action_id",
        "reference",
        "amount",
        "processed_on",
        "response_code",
        "response_summary",
        "balances",
        "metadata",
        "currency",
        "processing",
        "event_links",
    ),
    "payment_capture_declined": ("id", "action_id", "response_code", "response_summary", "balances", "metadata"),
    "payment_canceled": ("action_id", "id", "reference", "amount", "currency", "processed_on"),
    "payment_expired": ("action_id", "id", "reference", "amount", "currency", "processed_on", "metadata"),
    "payment_refund_pending": ("id", "action_id", "amount", "processed_on", "currency"),
    "payment_refunded": (
        "action_id",
        "response_code",
        "response_summary",
        "reference",
        "amount",
        "balances",
        "processing",
        "id",
        "currency",
        "processed_on",
        "metadata",
    ),
    "payment_refund_declined": (
        "action_id",
        "response_code",
        "response_summary",
        "reference",
        "amount",
        "balances",
        "processing",
        "id",
        "currency",
        "processed_on",
        "metadata",
    ),
}

#: ``payment_refund_pending`` as the reporting-and-insights page shows it (``SimConfig.refund_pending_shape``).
REFUND_PENDING_WITH_REFERENCE: tuple[str, ...] = (
    "id",
    "action_id",
    "amount",
    "currency",
    "reference",
    "metadata",
    "processed_on",
)


@dataclass(frozen=True)
class EventFacts:
    """Everything one notification says, before it is cut down to its type's field set."""

    event_id: str
    event_type: str
    version: str
    created_on: datetime
    payment: Payment
    base: str
    action_id: str | None
    amount: int
    reference: str | None
    response_code: str | None = None
    response_summary: str | None = None


def _digits(seed: str, length: int) -> str:
    """A stable string of ``length`` digits derived from ``seed`` (acquirer-style identifiers)."""
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(number)[:length]


def _payment_href(facts: EventFacts) -> str:
    return f"{facts.base}/payments/{facts.payment.id}"


def _processing(facts: EventFacts) -> dict[str, str]:
    seed = facts.action_id or facts.event_id
    return {"acquirer_transaction_id": _digits(seed, 21), "acquirer_reference_number": _digits(seed + "/arn", 23)}


def _event_links(facts: EventFacts) -> dict[str, str]:
    href = _payment_href(facts)
    return {"payment": href, "payment_actions": f"{href}/actions", "refund": f"{href}/refunds"}


_VALUES: dict[str, Callable[[EventFacts], Any]] = {
    "id": lambda f: f.payment.id,
    "action_id": lambda f: f.action_id,
    "reference": lambda f: f.reference,
    "amount": lambda f: f.amount,
    "currency": lambda f: f.payment.currency,
    "processed_on": lambda f: iso(f.created_on),
    "response_code": lambda f: f.response_code,
    "response_summary": lambda f: f.response_summary,
    "metadata": lambda f: dict(f.payment.metadata),
    "balances": lambda f: f.payment.balances(),
    "processing": _processing,
    "event_links": _event_links,
}


def data_fields(event_type: str, refund_pending_shape: str = "workflows") -> tuple[str, ...]:
    if event_type == "payment_refund_pending" and refund_pending_shape == "reporting-and-insights":
        return REFUND_PENDING_WITH_REFERENCE
    return DATA_FIELDS[event_type]


def event_body(facts: EventFacts, *, refund_pending_shape: str = "workflows") -> bytes:
    """Serialised notification: exactly the bytes that are signed and sent."""
    data: dict[str, Any] = {}
    for name in data_fields(facts.event_type, refund_pending_shape):
        value = _VALUES[name](facts)
        if value is not None:
            data[name] = value
    href = _payment_href(facts)
    body = {
        "id": facts.event_id,
        "type": facts.event_type,
        "version": facts.version,
        "created_on": iso(facts.created_on),
        "data": data,
        "_links": {
            "self": {"href": f"{facts.base}/events/{facts.event_id}"},
            "subject": {"href": f"{facts.base}/workflows/events/subject/{facts.payment.id}"},
            "payment": {"href": href},
            "payment_actions": {"href": f"{href}/actions"},
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()

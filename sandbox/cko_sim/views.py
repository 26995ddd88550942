"""JSON shapes Checkout.com returns: payment details, actions and webhook bodies.

Nothing here ever renders ``national_id``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cko_sim.clock import iso
from cko_sim.models.state import REFUNDABLE, Action, Payment, PaymentStatus


def payment_url(base: str, payment: Payment) -> str:
    return f"{base}/payments/{payment.id}"


def redirect_url(base: str, payment: Payment) -> str:
    return f"{base}/qpay-external/redirect-to-qpay?pun={payment.pun}"


def created_view(payment: Payment, base: str) -> dict[str, Any]:
    """Body of the ``202`` answer to ``POST /payments``."""
    body: dict[str, Any] = {"id": payment.id, "status": payment.status.value}
    if payment.reference is not None:
        body["reference"] = payment.reference
    body["customer"] = {"id": payment.customer["id"]}
    body["_links"] = {
        "self": {"href": payment_url(base, payment)},
        "redirect": {"href": redirect_url(base, payment)},
    }
    return body


def payment_view(payment: Payment, base: str) -> dict[str, Any]:
    """Body of ``GET /payments/{id}``."""
    self_href = payment_url(base, payment)
    links: dict[str, Any] = {
        "self": {"href": self_href},
        "redirect": {"href": redirect_url(base, payment)},
        "actions": {"href": f"{self_href}/actions"},
    }
    if payment.status in REFUNDABLE and payment.available_to_refund > 0:
        links["refund"] = {"href": f"{self_href}/refunds"}
    source: dict[str, Any] = {"type": "qpay", "description": payment.description, "pun": payment.pun}
    body: dict[str, Any] = {
        "id": payment.id,
        "requested_on": iso(payment.requested_on),
        "source": source,
        "amount": payment.amount,
        "currency": payment.currency,
        "payment_type": "Regular",
        "status": payment.status.value,
        "approved": payment.approved,
        "risk": {"flagged": False},
        "customer": dict(payment.customer),
        "metadata": dict(payment.metadata),
        "balances": payment.balances(),
        "_links": links,
    }
    if payment.reference is not None:
        body["reference"] = payment.reference
    if payment.processing_channel_id is not None:
        body["processing_channel_id"] = payment.processing_channel_id
    if payment.status == PaymentStatus.PENDING and payment.expires_on is not None:
        body["expires_on"] = iso(payment.expires_on)
    return body


def action_view(action: Action) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": action.id,
        "type": action.type,
        "processed_on": iso(action.processed_on),
        "amount": action.amount,
        "approved": action.approved,
        "response_code": action.response_code,
        "response_summary": action.response_summary,
    }
    if action.reference is not None:
        body["reference"] = action.reference
    if action.metadata:
        body["metadata"] = dict(action.metadata)
    return body


def actions_view(payment: Payment) -> list[dict[str, Any]]:
    """Actions, latest first (as Checkout orders them)."""
    return [action_view(a) for a in reversed(payment.actions)]


def event_body(
    *,
    event_id: str,
    event_type: str,
    version: str,
    created_on: datetime,
    payment: Payment,
    base: str,
    action_id: str,
    amount: int,
    reference: str | None,
    response_code: str | None,
    response_summary: str | None,
) -> bytes:
    """Serialised webhook notification, exactly the bytes that are signed and sent."""
    data: dict[str, Any] = {"id": payment.id, "action_id": action_id}
    if reference is not None:
        data["reference"] = reference
    data.update({"amount": amount, "currency": payment.currency, "processed_on": iso(created_on)})
    if response_code is not None:
        data["response_code"] = response_code
    if response_summary is not None:
        data["response_summary"] = response_summary
    data["metadata"] = dict(payment.metadata)
    data["balances"] = payment.balances()
    body = {
        "id": event_id,
        "type": event_type,
        "version": version,
        "created_on": iso(created_on),
        "data": data,
        "_links": {"payment": {"href": payment_url(base, payment)}},
    }
    return json.dumps(body, separators=(",", ":")).encode()

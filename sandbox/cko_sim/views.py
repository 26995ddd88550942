"""JSON shapes Checkout.com returns: payment details, payment lists and actions; the admin summary.

Nothing here ever renders ``national_id``. (Webhook bodies: ``cko_sim.event_bodies``.)
"""

from __future__ import annotations

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


def status_label(payment: Payment, expired_status: str = "Expired") -> str:
    """The status Checkout reports; an expired (abandoned) payment may be reported as ``Voided``."""
    if payment.status == PaymentStatus.EXPIRED:
        return expired_status
    return payment.status.value


def payment_view(payment: Payment, base: str, expired_status: str = "Expired") -> dict[str, Any]:
    """Body of ``GET /payments/{id}`` (and one item of ``GET /payments?reference=``)."""
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
        "status": status_label(payment, expired_status),
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


def payment_list_view(
    payments: list[Payment], *, limit: int, skip: int, expired_status: str = "Expired"
) -> dict[str, Any]:
    """Body of ``GET /payments?reference=…&limit=…&skip=…``: ``payments`` already latest first."""
    page = payments[skip : skip + limit]
    return {
        "limit": limit,
        "skip": skip,
        "total_count": len(payments),
        "data": [payment_view(p, p.base_url, expired_status) for p in page],
    }


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


def admin_summary(payment: Payment) -> dict[str, Any]:
    """Admin-friendly summary for ``/_sim/payments`` (never contains national_id)."""
    return {
        "id": payment.id,
        "pun": payment.pun,
        "status": payment.status.value,
        "amount": payment.amount,
        "reference": payment.reference,
        "metadata": dict(payment.metadata),
        "balances": payment.balances(),
        "session_id": payment.session_id,
    }

"""Stored records → the API's JSON views. Never the national ID (it is not stored to begin with)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qpay.domain.records import Payment, Refund


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refund_view(r: Refund, *, merchant: bool) -> dict[str, Any]:
    return {
        "id": r.id,
        "amount": r.amount,
        "status": r.state.value,
        "reference": r.reference if merchant else None,  # the merchant's own note: not for the browser
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
    }


def payment_view(p: Payment, refunds: list[Refund], *, now: int, merchant: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": p.id,
        "reference": p.reference,
        "status": p.status.value,
        "amount": p.amount,
        "currency": p.currency,
        "refunded_amount": p.refunded_amount,
        "awaiting_confirmation": p.awaiting_confirmation(now),
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "expires_at": iso(p.deadline),
        "redirect_url": p.redirect_url if p.status.value == "Pending" else None,
        "refunds": [refund_view(r, merchant=merchant) for r in refunds],
    }
    if merchant:  # for the merchant's back office: Checkout's id (Dashboard, support) and the attention flag
        view.update(cko_payment_id=p.cko_id, attention=p.attention, attention_reason=p.attention_reason)
        if p.decline and p.status.value == "Declined":  # Checkout's reason: for the merchant, not the browser
            view["decline"] = {k: p.decline.get(k) for k in ("response_code", "response_summary")}
    return view

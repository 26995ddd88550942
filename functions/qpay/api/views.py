"""Stored records → the API's JSON views. Never the national ID (it is not stored to begin with)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qpay.domain.records import Payment, Refund


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refund_view(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "amount": r.amount,
        "status": r.state.value,
        "reference": r.reference,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
    }


def payment_view(p: Payment, refunds: list[Refund], *, now: int) -> dict[str, Any]:
    return {
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
        "refunds": [refund_view(r) for r in refunds],
    }

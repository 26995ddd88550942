"""Apply what Checkout.com says through the one state machine, whoever heard it (webhook, return, expiry)."""

from __future__ import annotations

import dataclasses
from typing import Any

from qpay.adapters.store import ApplyResult, PaymentStore
from qpay.domain.records import Payment
from qpay.domain.states import CHECKOUT_STATUS_EVENTS, TRANSITIONS, Stage, next_stage
from qpay.observability import logger
from qpay.settings import Settings


def retention(now: int, settings: Settings) -> int:
    return now + settings.event_retention_days * 86400


def apply_event(
    store: PaymentStore,
    payment_id: str,
    *,
    event_id: str,
    event_type: str,
    cko_id: str | None,
    amount: int | None,
    now: int,
    settings: Settings,
) -> tuple[ApplyResult, Payment | None]:
    rule = TRANSITIONS[event_type]
    result, current = store.apply_transition(
        payment_id,
        event_id=event_id,
        event_type=event_type,
        rule=rule,
        cko_id=cko_id,
        amount=amount,
        now=now,
    )
    logger.info(
        "payment event",
        extra={
            "payment_id": payment_id,
            "event_type": event_type,
            "event_id": event_id,
            "result": result.value,
        },
    )
    return result, current


def apply_checkout_status(
    store: PaymentStore, payment: Payment, doc: dict[str, Any], *, now: int, settings: Settings, source: str
) -> Payment:
    """Move ``payment`` to what Checkout.com's GET /payments answer says. Returns the payment as it is now."""
    event_type = CHECKOUT_STATUS_EVENTS.get(str(doc.get("status")))
    if event_type is None or next_stage(payment.stage, event_type) is None:
        return payment
    balances = doc.get("balances") or {}
    captured = balances.get("total_captured") if isinstance(balances.get("total_captured"), int) else None
    amount = captured or doc.get("amount") if event_type == "payment_captured" else None
    result, current = apply_event(
        store,
        payment.id,
        event_id=f"{source}:{event_type}",
        event_type=event_type,
        cko_id=str(doc.get("id")) if doc.get("id") else None,
        amount=amount if isinstance(amount, int) else None,
        now=now,
        settings=settings,
    )
    if result is ApplyResult.APPLIED:
        target = TRANSITIONS[event_type].target
        changes: dict[str, Any] = {"stage": target, "updated_at": now, "version": payment.version + 1}
        if target is Stage.CAPTURED and isinstance(amount, int):
            changes.update(captured_amount=amount, refundable_amount=amount - payment.refunded_amount)
        return dataclasses.replace(payment, **changes)
    if current is not None:
        return current
    return store.get_payment(payment.id) or payment

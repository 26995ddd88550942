"""Apply what Checkout.com says through the one state machine, whoever heard it (webhook, return, expiry)."""

from __future__ import annotations

import dataclasses
from typing import Any

from qpay.adapters.store import ApplyResult, PaymentStore
from qpay.adapters.store.payments import Transitioned
from qpay.domain.records import Payment
from qpay.domain.states import (
    CHECKOUT_STATUS_EVENTS,
    CHECKOUT_STATUSES_WITHOUT_EVENT,
    DEAD_STAGES,
    TRANSITIONS,
    Stage,
    next_stage,
)
from qpay.observability import logger, metric
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
    intent_attempt: str | None = None,
) -> Transitioned:
    rule = TRANSITIONS[event_type]
    done = store.apply_transition(
        payment_id,
        event_id=event_id,
        event_type=event_type,
        rule=rule,
        cko_id=cko_id,
        amount=amount,
        now=now,
        intent_attempt=intent_attempt,
    )
    logger.info(
        "payment event",
        extra={"payment_id": payment_id, "event_type": event_type, "event_id": event_id, "result": done.result.value},
    )
    if done.result is ApplyResult.FOREIGN and done.current is not None:
        _foreign(store, done.current, event_id=event_id, event_type=event_type, cko_id=cko_id, now=now)
    if done.result is ApplyResult.APPLIED and rule.target is Stage.CAPTURED:
        if done.previous_stage in DEAD_STAGES:
            _captured_after_end(store, payment_id, previous=done.previous_stage, now=now)
        if amount is not None and done.ordered_amount is not None and amount != done.ordered_amount:
            _captured_other_amount(store, payment_id, captured=amount, ordered=done.ordered_amount, now=now)
    return done


def _foreign(
    store: PaymentStore, payment: Payment, *, event_id: str, event_type: str, cko_id: str | None, now: int
) -> None:
    """An event about another Checkout payment carrying our id (Checkout re-processes a create after a
    5xx, so a second pay_… can exist): recorded as an anomaly for a human, never applied."""
    detail = {"event_id": event_id, "event_type": event_type, "cko_id": cko_id, "bound_cko_id": payment.cko_id}
    if store.record_anomaly(payment.id, f"event:{event_id}", kind="foreign_checkout_payment", detail=detail, now=now):
        metric("WebhookAnomalies")
        logger.error("event for another Checkout.com payment: recorded, not applied", extra=detail)


def _captured_after_end(store: PaymentStore, payment_id: str, *, previous: Stage | None, now: int) -> None:
    """Money taken on a payment we had ended: the shopper may have paid this order twice (a new payment
    may own the order reference by now). A human decides which to refund."""
    reason = f"captured after it had ended ({previous.value if previous else '?'}): check for a second payment"
    if store.flag_attention(payment_id, now=now, reason=reason, open_only=False):
        metric("PaymentsCapturedAfterEnd")
        logger.error("payment captured after it had ended", extra={"payment_id": payment_id, "previous": previous})


def _captured_other_amount(store: PaymentStore, payment_id: str, *, captured: int, ordered: int, now: int) -> None:
    """QPay captures the whole amount: Checkout capturing another amount than the order's does not add
    up. The capture stands (the money was taken, and refunds are bounded by what was captured), but it is
    parked as an anomaly and the payment flagged for a human."""
    detail = {"captured_amount": captured, "amount": ordered}
    if store.record_anomaly(payment_id, "capture:amount", kind="capture_amount_mismatch", detail=detail, now=now):
        metric("WebhookAnomalies")
        logger.error("captured amount differs from the order's", extra={"payment_id": payment_id, **detail})
    store.flag_attention(payment_id, now=now, reason=f"captured {captured}, ordered {ordered}", open_only=False)


def apply_checkout_status(
    store: PaymentStore, payment: Payment, doc: dict[str, Any], *, now: int, settings: Settings, source: str
) -> Payment:
    """Move ``payment`` to what Checkout.com's GET /payments answer says. Returns the payment as it is now."""
    status = str(doc.get("status"))
    event_type = CHECKOUT_STATUS_EVENTS.get(status)
    if event_type is None:
        if status not in CHECKOUT_STATUSES_WITHOUT_EVENT:
            metric("CheckoutStatusUnmapped")
            logger.warning(
                "Checkout.com status not mapped: nothing changed", extra={"payment_id": payment.id, "status": status}
            )
        return payment
    if next_stage(payment.stage, event_type) is None:
        return payment
    balances = doc.get("balances") or {}
    captured = balances.get("total_captured") if isinstance(balances.get("total_captured"), int) else None
    amount = (captured or doc.get("amount")) if event_type == "payment_captured" else None
    done = apply_event(
        store,
        payment.id,
        event_id=f"{source}:{event_type}",
        event_type=event_type,
        cko_id=str(doc.get("id")) if doc.get("id") else None,
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        now=now,
        settings=settings,
    )
    if done.result is ApplyResult.APPLIED:
        target = TRANSITIONS[event_type].target
        changes: dict[str, Any] = {"stage": target, "updated_at": now, "version": payment.version + 1}
        if target is Stage.CAPTURED:
            taken = amount if isinstance(amount, int) and not isinstance(amount, bool) else payment.amount
            if taken != payment.amount:  # flagged for a human as well: read it back as stored
                return store.get_payment(payment.id) or payment
            changes.update(captured_amount=taken, refundable_amount=taken - payment.refunded_amount)
        return dataclasses.replace(payment, **changes)
    if done.current is not None:
        return done.current
    return store.get_payment(payment.id) or payment

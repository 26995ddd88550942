"""Expiry and the safety-net sweep: an open payment past its deadline is settled by what Checkout.com says.

Checkout decides. ``Captured`` settles it (a missed ``payment_captured`` still ends Captured),
``Expired``/``Canceled``/``Declined`` end it, and while Checkout still says ``Pending`` the timer is
re-armed with backoff up to a maximum age, after which the payment is flagged for a human (metric and
log) and kept under watch, never silently expired.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qpay.adapters.checkout import CheckoutClient, CheckoutListIncomplete, CheckoutNotFound, CheckoutRejected
from qpay.adapters.store import PaymentStore
from qpay.adapters.store.errors import CheckoutIdTaken
from qpay.domain import ids
from qpay.domain.events import METADATA_PAYMENT_ID
from qpay.domain.expiry import rearm_delay, should_flag
from qpay.domain.records import Payment
from qpay.domain.states import FINAL_STAGES, INTENT_ABANDONED
from qpay.observability import logger
from qpay.service.transitions import apply_checkout_status, apply_event
from qpay.settings import Settings


class Outcome(StrEnum):
    FINAL = "already_final"  # nothing to do
    SETTLED = "settled"  # Checkout's answer ended it
    REARMED = "rearmed"  # Checkout still says Pending: look again later
    FLAGGED = "flagged"  # pending past the maximum age: a human must look (still re-armed)
    REDELIVERED = "redelivered"  # this timer was handled before
    UNKNOWN = "unknown_payment"


@dataclass(frozen=True)
class ExpiryPorts:
    store: PaymentStore
    checkout: CheckoutClient
    settings: Settings
    on_flag: object = None  # callable(payment) for the metric; optional


def on_timer_removed(payment_id: str, *, timer_attempt: int, now: int, ports: ExpiryPorts) -> Outcome:
    payment = ports.store.get_payment(payment_id)
    if payment is None:
        return Outcome.UNKNOWN
    if payment.stage in FINAL_STAGES:
        return Outcome.FINAL
    if payment.expiry_attempts > timer_attempt:
        return Outcome.REDELIVERED
    return reconcile_open(payment, now=now, ports=ports, source="expiry")


def reconcile_open(payment: Payment, *, now: int, ports: ExpiryPorts, source: str) -> Outcome:
    """Ask Checkout.com about an open payment past its deadline. Raises if Checkout is unavailable
    (the stream record is then reported failed and redelivered)."""
    s = ports.settings
    doc: dict[str, Any] | None = None
    if payment.cko_id:
        try:
            doc = ports.checkout.get_payment(payment.cko_id)
        except CheckoutNotFound:
            doc = {}
    elif payment.lease_until is None or payment.lease_until < now:
        try:
            doc = _find_unbound(payment, now=now, ports=ports, source=source)
        except (CheckoutRejected, CheckoutListIncomplete) as exc:
            # the Beta list endpoint refused us, or lists more than we can read: Checkout may hold this
            # create, so it is never ended on absence; a human looks (fidelity F-7, correctness F7)
            return _flag(
                payment,
                now=now,
                ports=ports,
                reason=f"payments list (GET /payments?reference=) unusable for an unbound create: {exc}",
            )
        if doc is None:
            return Outcome.SETTLED  # Checkout never saw it: ended as an abandoned intent
    if doc is not None:
        updated = apply_checkout_status(ports.store, payment, doc, now=now, settings=s, source=source)
        if updated.stage in FINAL_STAGES:
            logger.info(
                "payment settled by reconciliation",
                extra={"payment_id": payment.id, "stage": updated.stage.value, "source": source},
            )
            return Outcome.SETTLED
    attempt = payment.expiry_attempts + 1
    if should_flag(payment.created_at, now, s.expiry_max_age_s):
        return _flag(payment, now=now, ports=ports, reason="still pending at Checkout.com past the maximum age")
    delay = rearm_delay(attempt, s.expiry_rearm_base_s, s.expiry_rearm_cap_s)
    ports.store.arm_timer(payment.id, at=now + delay, attempt=attempt, now=now)
    logger.info(
        "payment still pending at Checkout.com: timer re-armed",
        extra={"payment_id": payment.id, "attempt": attempt, "delay_s": delay},
    )
    return Outcome.REARMED


def _flag(payment: Payment, *, now: int, ports: ExpiryPorts, reason: str) -> Outcome:
    """Flag the payment for a human (metric on the first flag only) and keep watching it at the cap."""
    s = ports.settings
    if ports.store.flag_attention(payment.id, now=now, reason=reason):
        logger.error(
            "payment needs attention",
            extra={"payment_id": payment.id, "age_s": now - payment.created_at, "why": reason},
        )
        if callable(ports.on_flag):
            ports.on_flag(payment)
    attempt = payment.expiry_attempts + 1
    ports.store.arm_timer(payment.id, at=now + s.expiry_rearm_cap_s, attempt=attempt, now=now)
    return Outcome.FLAGGED


def _find_unbound(payment: Payment, *, now: int, ports: ExpiryPorts, source: str) -> dict[str, Any] | None:
    """An open payment with no Checkout id: its create died before Checkout answered (Lambda killed, a
    non-JSON 2xx, an abort that failed). Ask Checkout by the order reference. If Checkout has a payment
    carrying our id, bind it (and go on from its status); if not, Checkout never saw it: end the intent
    (``intent_abandoned`` → Expired) so the order reference is free again. A capture that names it
    later still wins. Returns Checkout's payment, or None when the intent was ended."""
    found = [
        d
        for d in ports.checkout.get_payments_by_reference(payment.reference)
        if isinstance(d.get("metadata"), dict) and d["metadata"].get(METADATA_PAYMENT_ID) == payment.id
    ]
    if found:
        doc = found[0]
        cko_id = str(doc.get("id") or "")
        href = str(((doc.get("_links") or {}).get("redirect") or {}).get("href", ""))
        if ids.CKO_PAYMENT_ID_RE.match(cko_id):
            with contextlib.suppress(CheckoutIdTaken):  # bound meanwhile: the transition below checks which
                ports.store.complete_create(payment.id, cko_id=cko_id, redirect_url=href, now=now)
        logger.warning(
            "create that never completed found at Checkout.com: bound",
            extra={"payment_id": payment.id, "cko_id": cko_id},
        )
        return doc
    done = apply_event(
        ports.store,
        payment.id,
        event_id=f"{source}:{INTENT_ABANDONED}",
        event_type=INTENT_ABANDONED,
        cko_id=None,
        amount=None,
        now=now,
        settings=ports.settings,
        intent_attempt=payment.create_attempt,  # only the attempt examined here (F4)
    )
    logger.warning(
        "create intent Checkout.com never saw: ended", extra={"payment_id": payment.id, "result": done.result.value}
    )
    return None

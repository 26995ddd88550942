"""One refund outcome from Checkout.com, counted once, whoever heard it (webhook, workflow, reconciliation).

"Is this refund ours?" is decided from the payment's stored refunds (by Checkout's action id first, then
by the reference we sent), and the write is conditioned on that decision still holding: if the refund
closed meanwhile the write fails and the decision is taken again. Money that does not add up (another
currency, more than was captured or reserved, a payment that is not captured) is parked as an anomaly
for reconciliation and a human, never counted. An action first counted as made elsewhere is repaired
when a later, better identification shows it was our open refund.
"""

from __future__ import annotations

from dataclasses import dataclass

from qpay.adapters.store import ApplyResult, PaymentStore
from qpay.adapters.store.refunds import REFUND_NOT_OPEN
from qpay.domain.errors import NotYet
from qpay.domain.money import is_valid_amount
from qpay.domain.records import Refund
from qpay.domain.refund_states import OPEN_REFUND_STATES, RefundState
from qpay.domain.refunds import match_refund, outcome_problem
from qpay.domain.states import OPEN_STAGES
from qpay.observability import logger, metric

DECISION_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    """What was recorded, and for which of our refunds (None: one made elsewhere, or nothing)."""

    result: ApplyResult
    refund: Refund | None = None


def record_refund_outcome(
    store: PaymentStore,
    payment_id: str,
    *,
    action_id: str,
    amount: int | None,
    currency: str | None,
    approved: bool,
    reference: str | None,
    event_id: str | None,
    now: int,
    retain_until: int,
) -> Outcome:
    for _ in range(DECISION_ATTEMPTS):
        payment, refunds = store.get_payment_with_refunds(payment_id)
        if payment is None:
            return Outcome(ApplyResult.UNKNOWN)
        if payment.stage in OPEN_STAGES and is_valid_amount(amount) and currency in (None, payment.currency):
            # delivered before the capture it follows (Checkout does not order webhooks): not an anomaly,
            # just early; a non-2xx makes Checkout deliver it again later, after the capture
            raise NotYet("refund outcome for a payment whose capture is not recorded yet; retry later")
        refund = match_refund(refunds, action_id=action_id, reference=reference)
        is_open = refund is not None and refund.state in OPEN_REFUND_STATES
        closed_failed = refund is not None and refund.state is RefundState.FAILED
        problem = outcome_problem(
            stage=payment.stage,
            currency=payment.currency,
            refundable=payment.refundable_amount,
            reserved=refund.amount if is_open and refund is not None else None,
            amount=amount,
            event_currency=currency,
            approved=approved,
        )
        if problem is not None:
            return _park(store, payment_id, action_id, problem, amount, currency, approved, event_id, now)
        assert amount is not None
        result = store.count_refund_outcome(
            payment_id,
            action_id=action_id,
            amount=amount,
            approved=approved,
            refund=refund if (is_open or closed_failed) else None,
            reserved=is_open,
            event_id=event_id,
            now=now,
            retain_until=retain_until,
        )
        if result == REFUND_NOT_OPEN:
            continue  # the refund moved on since we read it: decide again
        if result is ApplyResult.PARKED:
            return _park(
                store, payment_id, action_id, "over the refundable balance", amount, currency, approved, event_id, now
            )
        if result is ApplyResult.DUPLICATE and refund is not None and is_open:
            _repair(store, payment_id, action_id=action_id, amount=amount, approved=approved, refund=refund, now=now)
        twin = _twin(refunds, refund, action_id=action_id, reference=reference)
        if twin is not None and result is ApplyResult.APPLIED:
            _duplicate(store, payment_id, twin, action_id=action_id, amount=amount, approved=approved, now=now)
        assert isinstance(result, ApplyResult)
        # a duplicate names our refund too (it is closed by now): the first delivery may have died
        # between its write and waking the workflow, and the caller wakes it on a duplicate as well
        named = is_open or closed_failed or result is ApplyResult.DUPLICATE
        return Outcome(result, refund if refund is not None and named else None)
    raise RuntimeError(f"refund outcome {action_id} kept racing with its refund's state")


def _twin(refunds: list[Refund], matched: Refund | None, *, action_id: str, reference: str | None) -> Refund | None:
    """Our refund whose id this outcome names while Checkout gave that refund another action: Checkout
    made a second refund for one request of ours (a repeated POST it processed as new)."""
    if matched is not None or not reference:
        return None
    return next((r for r in refunds if r.id == reference and r.action_id and r.action_id != action_id), None)


def _duplicate(
    store: PaymentStore, payment_id: str, refund: Refund, *, action_id: str, amount: int, approved: bool, now: int
) -> None:
    """Counted as it happened (Checkout's books are the truth), parked for a human and alarmed: the shopper
    may have been refunded twice, and only a person can ask for the money back."""
    detail = {
        "refund_id": refund.id,
        "refund_action_id": refund.action_id,
        "action_id": action_id,
        "amount": amount,
        "approved": approved,
    }
    if store.record_anomaly(payment_id, f"action:{action_id}", kind="duplicate_refund", detail=detail, now=now):
        metric("DuplicateRefunds")
        logger.error(
            "a second Checkout.com refund names one refund of ours", extra={"payment_id": payment_id, **detail}
        )
    store.flag_attention(
        payment_id, now=now, reason=f"duplicate refund at Checkout.com for {refund.id} ({action_id})", open_only=False
    )


def _repair(
    store: PaymentStore, payment_id: str, *, action_id: str, amount: int, approved: bool, refund: Refund, now: int
) -> None:
    """The action was counted before; if it was counted as made elsewhere, it was our open refund."""
    action = store.get_action(payment_id, action_id)
    if action is None or action.get("reserved") is not False:
        return
    if store.repair_action(payment_id, action_id=action_id, approved=approved, amount=amount, refund=refund, now=now):
        logger.warning(
            "refund outcome first counted as made elsewhere was ours: repaired",
            extra={"payment_id": payment_id, "refund_id": refund.id, "action_id": action_id},
        )


def _park(
    store: PaymentStore,
    payment_id: str,
    action_id: str,
    problem: str,
    amount: int | None,
    currency: str | None,
    approved: bool,
    event_id: str | None,
    now: int,
) -> Outcome:
    detail = {
        "action_id": action_id,
        "problem": problem,
        "amount": amount if isinstance(amount, int) and abs(amount) < 2**63 else str(amount)[:40],
        "currency": currency,
        "approved": approved,
        "event_id": event_id,
    }
    if store.record_anomaly(payment_id, f"action:{action_id}", kind="refund_outcome", detail=detail, now=now):
        metric("WebhookAnomalies")
        logger.error("refund outcome does not add up: parked, not counted", extra={"payment_id": payment_id, **detail})
    return Outcome(ApplyResult.PARKED)

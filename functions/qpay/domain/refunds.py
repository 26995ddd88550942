"""Refund arithmetic and matching. Pure (the states are in ``qpay.domain.refund_states``).

The payment keeps three counters in minor units: ``captured_amount``, ``refunded_amount`` (confirmed by
Checkout.com) and ``refundable_amount`` (captured - refunded - reserved by refunds in flight). A refund
request reserves its amount by decrementing ``refundable_amount`` under the condition that it stays >= 0,
so concurrent requests can never reserve more than was captured.
"""

from __future__ import annotations

from collections.abc import Sequence

from qpay.domain.errors import AmountExceedsBalance, NotRefundable, ValidationFailed
from qpay.domain.money import is_valid_amount
from qpay.domain.records import Refund
from qpay.domain.states import Stage

#: A refund nothing settled has its workflow restarted by the sweeper; each restart waits twice as long as
#: the one before (from that restart), up to twice a day. A refund can stay pending at Checkout for days
#: (issue 19; how long is not published, docs/simulation.md models up to 3 days), and every execution of a
#: refund Checkout does not list yet ends RefundOutcomeUnknown: without the wait the sweeper restarted one
#: about every 2 hours (37 executions in 3 days: tests/service/test_refund_sweeper_backoff.py).
RESTART_FIRST_WAIT_S = 2 * 3600
RESTART_MAX_WAIT_S = 12 * 3600


def restart_due_at(refund: Refund) -> int:
    """When the sweeper may start the refund's next execution (once its latest one has ended): at once for
    the first restart, then 2 h, 4 h, 8 h, 12 h, 12 h, … after the previous restart. An item written before
    ``restarted_at`` existed counts from its last write."""
    if refund.executions <= 0:
        return refund.created_at
    wait = min(RESTART_FIRST_WAIT_S << min(refund.executions - 1, 16), RESTART_MAX_WAIT_S)
    since = refund.restarted_at if refund.restarted_at is not None else refund.updated_at
    return since + wait


def refund_amount(requested: int | None, refundable: int, stage: Stage) -> int:
    """The amount to reserve for a refund request, or a domain error explaining why not."""
    if stage is not Stage.CAPTURED:
        raise NotRefundable(f"payment is {stage.value}: only captured payments can be refunded")
    if requested is None:
        if refundable <= 0:
            raise AmountExceedsBalance(
                "nothing left to refund", details=[{"field": "amount", "issue": "no refundable balance"}]
            )
        return refundable
    if not is_valid_amount(requested):
        raise ValidationFailed("invalid amount", details=[{"field": "amount", "issue": "must be a positive integer"}])
    if requested > refundable:
        raise AmountExceedsBalance(
            f"amount {requested} exceeds the refundable balance {refundable}",
            details=[{"field": "amount", "issue": f"at most {refundable}"}],
        )
    return requested


def match_refund(refunds: Sequence[Refund], *, action_id: str | None, reference: str | None) -> Refund | None:
    """Which of our refunds a Checkout.com refund outcome is about: by the action id Checkout gave the
    refund when it accepted it (Checkout's own plugins match this way), then by the reference we sent
    (our refund id; an outcome may carry the payment's reference instead). None: made elsewhere."""
    if action_id:
        for refund in refunds:
            if refund.action_id == action_id:
                return refund
    if reference:
        for refund in refunds:
            if refund.id == reference and not (refund.action_id and action_id and refund.action_id != action_id):
                return refund
    return None


def outcome_problem(
    *,
    stage: Stage,
    currency: str,
    refundable: int,
    reserved: int | None,
    amount: int | None,
    event_currency: str | None,
    approved: bool,
) -> str | None:
    """Why a refund outcome's money does not add up (it is then parked, never counted), or None.

    ``reserved`` is the amount of our open refund it settles (None: made elsewhere, no reservation)."""
    if not is_valid_amount(amount):
        return "amount is not a positive whole number of minor units"
    assert amount is not None
    if event_currency is not None and event_currency != currency:
        return f"currency {event_currency} is not the payment's {currency}"
    if stage is not Stage.CAPTURED:
        return f"the payment is {stage.value}, not captured"
    if approved and reserved is not None and amount != reserved:
        return f"refunded {amount} where {reserved} was requested"
    if approved and reserved is None and amount > refundable:
        return f"refunded {amount} is more than the refundable balance {refundable}"
    return None

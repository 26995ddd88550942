"""Refund arithmetic and refund states. Pure.

The payment keeps three counters in minor units: ``captured_amount``, ``refunded_amount`` (confirmed by
Checkout.com) and ``refundable_amount`` (captured - refunded - reserved by refunds in flight). A refund
request reserves its amount by decrementing ``refundable_amount`` under the condition that it stays >= 0,
so concurrent requests can never reserve more than was captured.
"""

from __future__ import annotations

from enum import StrEnum

from qpay.domain.errors import AmountExceedsBalance, NotRefundable, ValidationFailed
from qpay.domain.money import is_valid_amount
from qpay.domain.states import Stage


class RefundState(StrEnum):
    REQUESTED = "Requested"  # reserved here, not yet accepted by Checkout.com
    PENDING = "Pending"  # Checkout.com accepted it (202); the outcome comes by webhook
    REFUNDED = "Refunded"
    DECLINED = "Declined"  # Checkout.com declined it asynchronously
    FAILED = "Failed"  # Checkout.com refused the request (4xx): nothing was refunded


OPEN_REFUND_STATES = frozenset({RefundState.REQUESTED, RefundState.PENDING})
FINAL_REFUND_STATES = frozenset({RefundState.REFUNDED, RefundState.DECLINED, RefundState.FAILED})


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

"""What the store's writes answer besides success: typed outcomes and conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qpay.adapters.dynamo import cancellation_reasons, error_code
from qpay.domain.records import Payment, Refund


class ApplyResult(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event (or refund action) was applied before
    STALE = "stale"  # the payment is already past what this event would do
    UNKNOWN = "unknown"  # no such payment here
    FOREIGN = "foreign"  # about another Checkout payment than the one bound to ours: recorded, not applied
    PARKED = "parked"  # money that does not add up: recorded for reconciliation and a human, not counted


@dataclass
class CreateConflict(Exception):
    """The payment id (idempotency key) already exists: the caller decides replay vs 409."""

    existing: Payment


@dataclass
class CheckoutIdTaken(Exception):
    """Another Checkout.com payment is already bound to this payment."""

    existing: Payment


@dataclass
class ReferenceTaken(Exception):
    payment_id: str


@dataclass
class RefundReserveRejected(Exception):
    """The reservation's condition failed: the payment as it is now, for the error message."""

    payment: Payment | None


@dataclass
class RefundExists(Exception):
    existing: Refund


def failed(reasons: list[dict[str, Any]], index: int) -> bool:
    """This item's condition failed. Any other reason (TransactionConflict, throttling) is not an
    answer about the data: the caller re-raises and the client (or Checkout.com) retries."""
    return index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed"


def conflicted(exc: Exception) -> bool:
    """A transaction cancelled only because another one was touching the same items (retry it)."""
    if error_code(exc) == "TransactionConflictException":
        return True
    if error_code(exc) != "TransactionCanceledException":
        return False
    codes = {r.get("Code") for r in cancellation_reasons(exc)}
    return "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes

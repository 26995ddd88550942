"""The payment state machine. Pure: no AWS, no HTTP.

A payment has a *stage* (where its lifecycle is) plus money counters. Its public *status* is derived
from both, so refunds move a payment to ``Partially Refunded`` / ``Refunded`` by the sum of refunded
amounts, never by counting events.

Webhooks arrive at least once and in any order. Each event type moves the stage to one target from an
explicit set of source stages; an event whose source set does not contain the current stage is stale
and changes nothing. The rules are monotone (no stage can be re-entered once left, except that a
capture Checkout.com confirms always wins), so any order and any duplication of one payment's events
ends in the same stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    PENDING = "Pending"
    CAPTURE_PENDING = "Capture Pending"
    CAPTURED = "Captured"
    DECLINED = "Declined"
    CANCELED = "Canceled"
    EXPIRED = "Expired"


class Status(StrEnum):
    PENDING = "Pending"
    CAPTURE_PENDING = "Capture Pending"
    CAPTURED = "Captured"
    PARTIALLY_REFUNDED = "Partially Refunded"
    REFUNDED = "Refunded"
    DECLINED = "Declined"
    CANCELED = "Canceled"
    EXPIRED = "Expired"


OPEN_STAGES = frozenset({Stage.PENDING, Stage.CAPTURE_PENDING})
FINAL_STAGES = frozenset({Stage.CAPTURED, Stage.DECLINED, Stage.CANCELED, Stage.EXPIRED})
# A payment that ended without money taken: its order reference may be paid again.
DEAD_STAGES = frozenset({Stage.DECLINED, Stage.CANCELED, Stage.EXPIRED})

PAYMENT_EVENT_TYPES = (
    "payment_pending",
    "payment_capture_pending",
    "payment_captured",
    "payment_capture_declined",
    "payment_canceled",
    "payment_expired",
)
REFUND_EVENT_TYPES = ("payment_refund_pending", "payment_refunded", "payment_refund_declined")
QPAY_EVENT_TYPES = PAYMENT_EVENT_TYPES + REFUND_EVENT_TYPES


@dataclass(frozen=True)
class Transition:
    target: Stage
    sources: frozenset[Stage]


# Not a Checkout.com event: an intent Checkout never saw (the create died before it reached Checkout, and
# a lookup by reference finds nothing) ends here, so its order reference is free again. A capture that
# names it later still wins (our id travels in the metadata).
INTENT_ABANDONED = "intent_abandoned"

TRANSITIONS: dict[str, Transition] = {
    # Records the event and Checkout's payment id; the stage is already Pending from the create call.
    "payment_pending": Transition(Stage.PENDING, frozenset({Stage.PENDING})),
    "payment_capture_pending": Transition(Stage.CAPTURE_PENDING, frozenset({Stage.PENDING})),
    # Money taken wins over any earlier ending we may have recorded (a lost or late capture).
    "payment_captured": Transition(Stage.CAPTURED, frozenset({Stage.PENDING, Stage.CAPTURE_PENDING, *DEAD_STAGES})),
    "payment_capture_declined": Transition(Stage.DECLINED, OPEN_STAGES),
    "payment_canceled": Transition(Stage.CANCELED, OPEN_STAGES),
    "payment_expired": Transition(Stage.EXPIRED, OPEN_STAGES),
    INTENT_ABANDONED: Transition(Stage.EXPIRED, frozenset({Stage.PENDING})),
}

# What Checkout.com's GET /payments/{id} status means for our stage (reconciliation: expiry, sweep).
# "Pending" maps to nothing: Checkout also reports Pending while the capture is pending, so a re-fetch
# must never move a payment back from Capture Pending. The seed page says an abandoned QPay payment is
# voided: "Voided" ends it like "Expired". "Paid" is money taken; "Authorized" is approved and not yet
# captured (capture pending). Any other status is logged and counted by the caller, never ignored silently.
CHECKOUT_STATUS_EVENTS: dict[str, str] = {
    "Captured": "payment_captured",
    "Paid": "payment_captured",
    "Partially Refunded": "payment_captured",
    "Refunded": "payment_captured",
    "Authorized": "payment_capture_pending",
    "Declined": "payment_capture_declined",
    "Canceled": "payment_canceled",
    "Expired": "payment_expired",
    "Voided": "payment_expired",
}
# Statuses that rightly change nothing here.
CHECKOUT_STATUSES_WITHOUT_EVENT = frozenset({"Pending"})


def next_stage(current: Stage, event_type: str) -> Stage | None:
    """The stage after applying ``event_type`` to ``current``; ``None`` when the event is stale or a no-op."""
    rule = TRANSITIONS.get(event_type)
    if rule is None or current not in rule.sources or current == rule.target:
        return None
    return rule.target


def derive_status(stage: Stage, captured_amount: int, refunded_amount: int) -> Status:
    if stage is Stage.CAPTURED:
        if captured_amount > 0 and refunded_amount >= captured_amount:
            return Status.REFUNDED
        if refunded_amount > 0:
            return Status.PARTIALLY_REFUNDED
        return Status.CAPTURED
    return Status(stage.value)

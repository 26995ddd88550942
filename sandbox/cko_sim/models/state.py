"""Payment, action and refund records. Mutated only under the simulator's lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class PaymentStatus(StrEnum):
    PENDING = "Pending"
    CAPTURED = "Captured"
    DECLINED = "Declined"
    CANCELED = "Canceled"
    EXPIRED = "Expired"
    PARTIALLY_REFUNDED = "Partially Refunded"
    REFUNDED = "Refunded"


REFUNDABLE = frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED})
APPROVED = frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})


@dataclass
class Action:
    """One line of ``GET /payments/{id}/actions``."""

    id: str
    type: str
    processed_on: datetime
    amount: int
    approved: bool
    response_code: str
    response_summary: str
    reference: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass
class PendingRefund:
    """A refund accepted with 202 whose outcome is not known yet."""

    action_id: str
    amount: int
    reference: str | None
    metadata: dict[str, Any] | None
    due: datetime
    requested_on: datetime
    source: str  # "api" or "dashboard"
    #: Decided when the refund is requested (the ``decline_refunds`` fault).
    decline: bool = False


@dataclass
class Payment:
    id: str
    pun: str
    amount: int
    currency: str
    reference: str | None
    description: str
    language: str
    quantity: int | None
    #: Personal data: stored for completeness, never rendered anywhere.
    national_id: str | None = field(repr=False)
    success_url: str | None
    failure_url: str | None
    customer: dict[str, Any]
    metadata: dict[str, Any]
    processing_channel_id: str | None
    requested_on: datetime
    expires_on: datetime | None
    #: Base URL the payment was created through; used in ``_links`` and webhooks.
    base_url: str = "http://localhost"
    status: PaymentStatus = PaymentStatus.PENDING
    actions: list[Action] = field(default_factory=list)
    pending_refunds: list[PendingRefund] = field(default_factory=list)
    session_id: str | None = None
    session_created: datetime | None = None
    decline_reason: str | None = None
    #: ``CardDecision.reason`` of a declined payment (the hosted page localises it).
    decline_code: str | None = None
    total_captured: int = 0
    total_refunded: int = 0

    @property
    def pending_refund_total(self) -> int:
        return sum(r.amount for r in self.pending_refunds)

    @property
    def available_to_refund(self) -> int:
        return max(self.total_captured - self.total_refunded - self.pending_refund_total, 0)

    @property
    def approved(self) -> bool:
        return self.status in APPROVED

    def balances(self) -> dict[str, int]:
        """Checkout's ``balances`` object (the seven fields of ``PaymentResponseBalances``).

        QPay is auto-captured, so nothing is ever left to capture or void.
        """
        return {
            "total_authorized": self.total_captured,
            "total_voided": 0,
            "available_to_void": 0,
            "total_captured": self.total_captured,
            "available_to_capture": 0,
            "total_refunded": self.total_refunded,
            "available_to_refund": self.available_to_refund,
        }

"""What we keep about a payment and its refunds. Pure dataclasses; the store maps them to items.

Never the national ID: it goes to Checkout.com in the create call and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qpay.domain.refund_states import RefundState
from qpay.domain.states import Stage, Status, derive_status


@dataclass
class Payment:
    id: str
    reference: str
    amount: int
    currency: str
    description: str
    language: str
    quantity: int
    stage: Stage = Stage.PENDING
    created_at: int = 0
    updated_at: int = 0
    deadline: int = 0
    cko_id: str | None = None
    redirect_url: str | None = None
    captured_amount: int = 0
    refunded_amount: int = 0
    refundable_amount: int = 0
    version: int = 0
    request_hash: str = ""
    lease_until: int | None = None
    create_attempt: str = ""  # a nonce per create attempt: a retried write recognises its own item
    attention: bool = False
    attention_reason: str | None = None
    expiry_attempts: int = 0
    customer: dict[str, str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # why Checkout.com declined it: {"response_code", "response_summary"} of its notification
    decline: dict[str, str] | None = None

    @property
    def status(self) -> Status:
        return derive_status(self.stage, self.captured_amount, self.refunded_amount)

    def awaiting_confirmation(self, now: int) -> bool:
        """Past its deadline and still open: shown as awaiting Checkout.com's word, never as expired."""
        return self.stage in (Stage.PENDING, Stage.CAPTURE_PENDING) and now >= self.deadline


@dataclass
class Refund:
    id: str
    payment_id: str
    amount: int
    state: RefundState = RefundState.REQUESTED
    reference: str | None = None
    reason: str | None = None
    requested_by: str | None = None
    action_id: str | None = None
    task_token: str | None = None
    request_hash: str = ""
    created_at: int = 0
    updated_at: int = 0
    executions: int = 0  # workflow executions started for it (a restarted one gets the next name)
    # when a POST of this refund first left for Checkout.com (written before it is sent). Set means Checkout
    # may hold the refund: it is never POSTed again (keys expire after 24 h; a failed request is not cached)
    posted_at: int | None = None
    restarted_at: int | None = None  # when the sweeper (or a retried request) last started a new execution

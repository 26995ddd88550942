"""Item shapes: domain records to DynamoDB items and back. Built field by field (no ``dataclasses.asdict``:
it deep-copies every value and costs the hot path for nothing)."""

from __future__ import annotations

from typing import Any

from qpay.adapters.dynamo import to_ddb
from qpay.adapters.store.keys import (
    PAYMENT_SK,
    TIMER_SK,
    TTL_ATTRIBUTE,
    changed_key,
    open_refund_pk,
    payment_pk,
    pending_pk,
    refund_sk,
)
from qpay.domain.records import Payment, Refund
from qpay.domain.refund_states import OPEN_REFUND_STATES, RefundState
from qpay.domain.states import FINAL_STAGES, Stage


def payment_item(p: Payment) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": payment_pk(p.id),
        "sk": PAYMENT_SK,
        "kind": "payment",
        "id": p.id,
        "reference": p.reference,
        "amount": p.amount,
        "currency": p.currency,
        "description": p.description,
        "language": p.language,
        "quantity": p.quantity,
        "stage": p.stage.value,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "deadline": p.deadline,
        "cko_id": p.cko_id,
        "redirect_url": p.redirect_url,
        "captured_amount": p.captured_amount,
        "refunded_amount": p.refunded_amount,
        "refundable_amount": p.refundable_amount,
        "version": p.version,
        "request_hash": p.request_hash,
        "lease_until": p.lease_until,
        "create_attempt": p.create_attempt,
        "attention": False,
        "expiry_attempts": p.expiry_attempts,
        "metadata": dict(p.metadata),
        "changed_day": changed_key(p.id, p.updated_at or p.created_at),
    }
    if p.stage not in FINAL_STAGES:
        item.update(pending_pk=pending_pk(p.id), pending_sk=p.deadline)
    # the customer's name and email live in the CUSTOMER item, which TTL removes
    return item


def refund_item(r: Refund) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": payment_pk(r.payment_id),
        "sk": refund_sk(r.id),
        "kind": "refund",
        "id": r.id,
        "payment_id": r.payment_id,
        "amount": r.amount,
        "state": r.state.value,
        "reference": r.reference,
        "reason": r.reason,
        "requested_by": r.requested_by,
        "action_id": r.action_id,
        "task_token": r.task_token,
        "request_hash": r.request_hash,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "executions": r.executions,
        "posted_at": r.posted_at,
        "restarted_at": r.restarted_at,
    }
    if r.state in OPEN_REFUND_STATES:  # the sparse open-refunds index: a sweeper owns what nothing else does
        item.update(open_refund_pk=open_refund_pk(r.id), open_refund_sk=r.created_at)
    return item


def timer_item(payment_id: str, at: int, attempt: int) -> dict[str, Any]:
    return {"pk": payment_pk(payment_id), "sk": TIMER_SK, "kind": "timer", TTL_ATTRIBUTE: at, "attempt": attempt}


def event_put(
    table: str, payment_id: str, event_id: str, event_type: str, now: int, retain_until: int
) -> dict[str, Any]:
    """A transaction item recording an applied notification (a duplicate fails its condition)."""
    item = {
        "pk": payment_pk(payment_id),
        "sk": f"EVENT#{event_id}",
        "kind": "event",
        "type": event_type,
        "applied_at": now,
        TTL_ATTRIBUTE: retain_until,
    }
    return {"Put": {"TableName": table, "Item": to_ddb(item), "ConditionExpression": "attribute_not_exists(pk)"}}


_PAYMENT_FIELDS = frozenset(Payment.__dataclass_fields__)
_REFUND_FIELDS = frozenset(Refund.__dataclass_fields__)


def payment_from(item: dict[str, Any]) -> Payment:
    data = {k: v for k, v in item.items() if k in _PAYMENT_FIELDS}
    data["stage"] = Stage(item["stage"])
    data.setdefault("metadata", {})
    return Payment(**data)


def refund_from(item: dict[str, Any]) -> Refund | None:
    """A refund, or None for an item that is not a whole refund (never let one bad item break a read)."""
    data = {k: v for k, v in item.items() if k in _REFUND_FIELDS}
    try:
        data["state"] = RefundState(item["state"])
        refund = Refund(**data)
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(refund.amount, int) or not isinstance(refund.id, str):
        return None
    return refund

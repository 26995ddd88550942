"""Item shapes: domain records to DynamoDB items and back. Built field by field (no ``dataclasses.asdict``:
it deep-copies every value and costs the hot path for nothing)."""

from __future__ import annotations

from typing import Any

from qpay.adapters.dynamo import to_ddb
from qpay.adapters.store.keys import PAYMENT_SK, PENDING_PK, TIMER_SK, TTL_ATTRIBUTE, change_day, payment_pk
from qpay.domain.records import Payment, Refund
from qpay.domain.refunds import RefundState
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
        "attention": False,
        "expiry_attempts": p.expiry_attempts,
        "metadata": dict(p.metadata),
        "last_event": p.last_event,
        "changed_day": change_day(p.updated_at or p.created_at),
    }
    if p.stage not in FINAL_STAGES:
        item.update(pending_pk=PENDING_PK, pending_sk=p.deadline)
    # the customer's name and email live in the CUSTOMER item, which TTL removes
    return item


def refund_item(r: Refund) -> dict[str, Any]:
    return {
        "pk": payment_pk(r.payment_id),
        "sk": f"REFUND#{r.id}",
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
        "failure": r.failure,
    }


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


def refund_from(item: dict[str, Any]) -> Refund:
    data = {k: v for k, v in item.items() if k in _REFUND_FIELDS}
    data["state"] = RefundState(item["state"])
    return Refund(**data)

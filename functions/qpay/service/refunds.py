"""Refunds: reserve and start the workflow (API), then the workflow's tasks.

A refund's id is its idempotency key at Checkout.com and the name of its Step Functions execution, so a
retried request, a retried task or a retried start never refunds twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from qpay.adapters.checkout import CheckoutClient, CheckoutNotFound, CheckoutRejected
from qpay.adapters.store import ApplyResult, PaymentStore, RefundExists, RefundReserveRejected
from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, Conflict, NotFound, NotRefundable, UpstreamUnavailable
from qpay.domain.records import Refund
from qpay.domain.refunds import FINAL_REFUND_STATES, RefundState, refund_amount
from qpay.domain.states import Stage
from qpay.observability import logger
from qpay.service.transitions import retention
from qpay.settings import Settings


class RefundRejected(Exception):
    """Checkout.com refused the refund request (4xx): permanent. The workflow catches it by this name."""


class OutcomeUnknown(Exception):
    """Checkout.com has not decided the refund yet. The workflow retries reconciliation on this name."""


@dataclass(frozen=True)
class RefundPorts:
    store: PaymentStore
    settings: Settings
    checkout: CheckoutClient | None = None
    stepfunctions: Any = None


def request_refund(
    payment_id: str,
    *,
    amount: int | None,
    reference: str | None,
    reason: str | None,
    principal: str | None,
    idempotency_key: str | None,
    now: int,
    ports: RefundPorts,
) -> tuple[Refund, bool]:
    """Reserve the amount, record the refund as Requested and start its execution. (refund, created)."""
    payment = ports.store.get_payment(payment_id) if ids.is_payment_id(payment_id) else None
    if payment is None:
        raise NotFound("no such payment")
    refund_id = ids.refund_id_for_key(payment_id, idempotency_key) if idempotency_key else ids.new_refund_id()
    fingerprint = hashlib.sha256(json.dumps([amount, reference, reason], separators=(",", ":")).encode()).hexdigest()
    created = True
    try:
        value = refund_amount(amount, payment.refundable_amount, payment.stage)
        refund = Refund(
            id=refund_id,
            payment_id=payment_id,
            amount=value,
            reference=reference,
            reason=reason,
            requested_by=principal,
            request_hash=fingerprint,
            created_at=now,
            updated_at=now,
        )
        ports.store.reserve_refund(refund, now=now)
    except RefundExists as exc:
        refund, created = exc.existing, False
    except (NotRefundable, AmountExceedsBalance):
        existing = ports.store.get_refund(payment_id, refund_id) if idempotency_key else None
        if existing is None:
            raise
        refund, created = existing, False
    except RefundReserveRejected as exc:
        current = exc.payment
        if current is None or current.stage is not Stage.CAPTURED:
            raise NotRefundable("payment is not captured: only captured payments can be refunded") from None
        raise AmountExceedsBalance(
            f"amount exceeds the refundable balance {current.refundable_amount}",
            details=[{"field": "amount", "issue": f"at most {current.refundable_amount}"}],
        ) from None
    if not created and refund.request_hash != fingerprint:
        raise Conflict("this Idempotency-Key was used with a different refund request")
    if refund.state not in FINAL_REFUND_STATES:
        start_execution(ports, refund)
    logger.info(
        "refund requested",
        extra={
            "payment_id": payment_id,
            "refund_id": refund.id,
            "amount": refund.amount,
            "new_request": created,
            "requested_by": refund.requested_by,  # audit: the IAM principal, as recorded on the refund
            "reason": refund.reason,
        },
    )
    return refund, created


def start_execution(ports: RefundPorts, refund: Refund) -> None:
    client = ports.stepfunctions() if callable(ports.stepfunctions) else ports.stepfunctions
    try:
        client.start_execution(
            stateMachineArn=ports.settings.refund_state_machine_arn,
            name=refund.id,
            input=json.dumps({"payment_id": refund.payment_id, "refund_id": refund.id}),
        )
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code == "ExecutionAlreadyExists":
            return  # a retried start: the execution is already running or done
        logger.exception("could not start the refund workflow", extra={"refund_id": refund.id})
        raise UpstreamUnavailable(
            "refund recorded but its workflow did not start; retry with the same Idempotency-Key"
        ) from None


# ------------------------------------------------------------------ workflow tasks
def _load(ports: RefundPorts, payment_id: str, refund_id: str) -> Refund:
    refund = ports.store.get_refund(payment_id, refund_id)
    if refund is None:
        raise NotFound(f"refund {refund_id} not found")
    return refund


def task_request(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    refund = _load(ports, payment_id, refund_id)
    if refund.state is not RefundState.REQUESTED:
        return {"state": refund.state.value}
    payment = ports.store.get_payment(payment_id)
    if payment is None or not payment.cko_id:
        raise RefundRejected("payment has no Checkout.com id")
    assert ports.checkout is not None
    try:
        answer = ports.checkout.refund(
            payment.cko_id, amount=refund.amount, reference=refund.id, idempotency_key=refund.id
        )
    except CheckoutRejected as exc:
        raise RefundRejected(str(exc)) from None
    action_id = answer.get("action_id")
    ports.store.mark_refund_pending(payment_id, refund_id, action_id=str(action_id) if action_id else None, now=now)
    return {"state": RefundState.PENDING.value, "action_id": action_id}


def task_await(payment_id: str, refund_id: str, token: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    """Park the token on the refund. If the webhook already came, complete the wait ourselves."""
    refund = ports.store.store_task_token(payment_id, refund_id, token=token, now=now)
    if refund.state in FINAL_REFUND_STATES:
        client = ports.stepfunctions() if callable(ports.stepfunctions) else ports.stepfunctions
        output = json.dumps({"refund_id": refund.id, "state": refund.state.value, "action_id": refund.action_id})
        client.send_task_success(taskToken=token, output=output)
        return {"completed": True, "state": refund.state.value}
    return {"completed": False}


def task_reconcile(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    """No webhook came: read Checkout.com's actions and apply the outcome through the same write."""
    refund = _load(ports, payment_id, refund_id)
    if refund.state in FINAL_REFUND_STATES:
        return {"state": refund.state.value}
    payment = ports.store.get_payment(payment_id)
    assert ports.checkout is not None
    try:
        actions = ports.checkout.get_actions(payment.cko_id) if payment and payment.cko_id else []
    except CheckoutNotFound:
        actions = []  # Checkout.com does not know the payment: it cannot have refunded it
    action = next((a for a in actions if a.get("type") == "Refund" and a.get("reference") == refund_id), None)
    if action is None:
        if refund.state is RefundState.REQUESTED:
            ports.store.close_refund(
                payment_id, refund_id, amount=refund.amount, failure="never accepted by Checkout.com", now=now
            )
            return {"state": RefundState.FAILED.value}
        raise OutcomeUnknown("Checkout.com accepted the refund but shows no refund action yet")
    approved = action.get("approved")
    if approved is None:
        raise OutcomeUnknown("the refund action has no outcome yet")
    raw_amount = action.get("amount")
    amount = raw_amount if isinstance(raw_amount, int) else refund.amount
    result = ports.store.apply_refund_outcome(
        payment_id,
        action_id=str(action.get("id")),
        amount=amount,
        approved=bool(approved),
        refund_id=refund_id,
        event_id=None,
        now=now,
        retain_until=retention(now, ports.settings),
    )
    logger.info("refund reconciled", extra={"refund_id": refund_id, "approved": approved, "result": result.value})
    if result is ApplyResult.UNKNOWN:
        raise NotFound("payment vanished")
    return {"state": _load(ports, payment_id, refund_id).state.value}


def task_fail(payment_id: str, refund_id: str, cause: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    refund = _load(ports, payment_id, refund_id)
    ports.store.close_refund(
        payment_id, refund_id, amount=refund.amount, failure=cause or "refused by Checkout.com", now=now
    )
    return {"state": _load(ports, payment_id, refund_id).state.value}

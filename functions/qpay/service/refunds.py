"""Refunds: reserve and start the workflow (API), the workflow's tasks, and the sweeper that owns the
refunds nothing else does.

A refund's id is its idempotency key at Checkout.com and the name of its Step Functions execution, so a
retried request, a retried task or a retried start never refunds twice. A refund whose execution never
started, or ended without settling it, is found by the sparse open-refunds index: the sweeper settles it
from Checkout's actions, or starts a new execution (``<refund id>-<n>``: a standard workflow's name stays
taken for 90 days).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from qpay.adapters.checkout import CheckoutClient, CheckoutNotFound, CheckoutRejected
from qpay.adapters.store import PaymentStore, RefundExists, RefundReserveRejected
from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, Conflict, NotFound, NotRefundable, UpstreamUnavailable
from qpay.domain.records import Refund
from qpay.domain.refunds import FINAL_REFUND_STATES, RefundState, refund_amount
from qpay.domain.states import Stage
from qpay.observability import logger
from qpay.service.refund_outcomes import record_refund_outcome
from qpay.service.transitions import retention
from qpay.settings import Settings

LIVE_EXECUTION = ("RUNNING", "SUCCEEDED")


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


def _sfn(ports: RefundPorts) -> Any:
    return ports.stepfunctions() if callable(ports.stepfunctions) else ports.stepfunctions


def request_refund(
    payment_id: str,
    *,
    amount: int | None,
    reference: str | None,
    reason: str | None,
    principal: str | None,
    idempotency_key: str,
    now: int,
    ports: RefundPorts,
) -> tuple[Refund, bool]:
    """Reserve the amount, record the refund as Requested and start its execution. (refund, created)."""
    payment = ports.store.get_payment(payment_id) if ids.is_payment_id(payment_id) else None
    if payment is None:
        raise NotFound("no such payment")
    refund_id = ids.refund_id_for_key(payment_id, idempotency_key)
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
        existing = ports.store.get_refund(payment_id, refund_id)
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
        try:
            ensure_execution(ports, refund, now=now, check_first=not created)
        except Exception:
            logger.exception("could not start the refund workflow", extra={"refund_id": refund.id})
            raise UpstreamUnavailable(
                "refund recorded but its workflow did not start; retry with the same Idempotency-Key "
                "(the refund sweeper also starts it)"
            ) from None
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


def execution_name(refund: Refund) -> str:
    """The refund's latest execution: its own id first, then ``<id>-<n>`` for each restart."""
    return refund.id if refund.executions == 0 else f"{refund.id}-{refund.executions}"


def ensure_execution(ports: RefundPorts, refund: Refund, *, now: int, check_first: bool = False) -> str:
    """Start the refund's execution, or make sure one is running or has succeeded. An execution that
    failed, timed out or was aborted (its name stays taken for 90 days) is replaced by the next one,
    ``<refund id>-<n>``. ``check_first``: look at the latest execution before starting (a retried
    request, the sweeper); a first start goes straight to ``StartExecution``, which answers
    ``ExecutionAlreadyExists`` for a closed one. Returns ``started``, ``running`` or ``restarted``."""
    client = _sfn(ports)
    arn = ports.settings.refund_state_machine_arn
    name = execution_name(refund)
    payload = json.dumps({"payment_id": refund.payment_id, "refund_id": refund.id})
    status: str | None = None
    if check_first:
        status = _status(client, arn, name)
        if status in LIVE_EXECUTION:
            return "running"
    if status is None:
        try:
            client.start_execution(stateMachineArn=arn, name=name, input=payload)
            return "started"
        except Exception as exc:
            if _code(exc) != "ExecutionAlreadyExists":
                raise
        status = _status(client, arn, name)
        if status in LIVE_EXECUTION:
            return "running"
    number = ports.store.bump_execution(refund.payment_id, refund.id, now=now)
    client.start_execution(stateMachineArn=arn, name=f"{refund.id}-{number}", input=payload)
    logger.warning(
        "refund workflow restarted", extra={"refund_id": refund.id, "previous": name, "previous_status": status}
    )
    return "restarted"


def _status(client: Any, state_machine_arn: str | None, name: str) -> str | None:
    """The execution's status, or None when there is no such execution."""
    try:
        return str(client.describe_execution(executionArn=_execution_arn(state_machine_arn, name)).get("status"))
    except Exception as exc:
        if _code(exc) == "ExecutionDoesNotExist":
            return None
        raise


def _execution_arn(state_machine_arn: str | None, name: str) -> str:
    return f"{str(state_machine_arn).replace(':stateMachine:', ':execution:', 1)}:{name}"


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


# ------------------------------------------------------------------ workflow tasks
def _load(ports: RefundPorts, payment_id: str, refund_id: str) -> Refund:
    refund = ports.store.get_refund(payment_id, refund_id)
    if refund is None:
        raise NotFound(f"refund {refund_id} not found")
    return refund


def _ask_checkout(ports: RefundPorts, refund: Refund, cko_id: str, *, now: int) -> str | None:
    """POST the refund (again) with its idempotency key: Checkout answers a repeat with the first answer,
    so this both requests it and proves it was accepted. The action id, or :class:`RefundRejected`."""
    assert ports.checkout is not None
    try:
        answer = ports.checkout.refund(cko_id, amount=refund.amount, reference=refund.id, idempotency_key=refund.id)
    except CheckoutRejected as exc:
        raise RefundRejected(str(exc)) from None
    action_id = answer.get("action_id")
    action = str(action_id) if isinstance(action_id, str) and action_id else None
    ports.store.mark_refund_pending(refund.payment_id, refund.id, action_id=action, now=now)
    return action


def task_request(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    refund = _load(ports, payment_id, refund_id)
    if refund.state is not RefundState.REQUESTED:
        return {"state": refund.state.value}
    payment = ports.store.get_payment(payment_id)
    if payment is None or not payment.cko_id:
        raise RefundRejected("payment has no Checkout.com id")
    action_id = _ask_checkout(ports, refund, payment.cko_id, now=now)
    return {"state": RefundState.PENDING.value, "action_id": action_id}


def task_await(payment_id: str, refund_id: str, token: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    """Park the token on the refund. If the webhook already came, complete the wait ourselves."""
    refund = ports.store.store_task_token(payment_id, refund_id, token=token, now=now)
    if refund.state in FINAL_REFUND_STATES:
        output = json.dumps({"refund_id": refund.id, "state": refund.state.value, "action_id": refund.action_id})
        _sfn(ports).send_task_success(taskToken=token, output=output)
        return {"completed": True, "state": refund.state.value}
    return {"completed": False}


def task_reconcile(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    """No webhook came: read Checkout.com's actions and apply the outcome through the same write.

    A refund missing from the actions is not a failed refund (Checkout may list it only once settled):
    the request is repeated with the same idempotency key, which Checkout answers with the first answer
    if it had accepted it. Only a 4xx closes it as Failed (the workflow's Catch on RefundRejected)."""
    refund = _load(ports, payment_id, refund_id)
    if refund.state in FINAL_REFUND_STATES:
        return {"state": refund.state.value}
    payment = ports.store.get_payment(payment_id)
    if payment is None or not payment.cko_id:
        raise RefundRejected("payment has no Checkout.com id")
    assert ports.checkout is not None
    try:
        actions = ports.checkout.get_actions(payment.cko_id)
    except CheckoutNotFound:
        raise RefundRejected(f"Checkout.com does not know {payment.cko_id}") from None
    action = next(
        (
            a
            for a in actions
            if a.get("type") == "Refund"
            and ((refund.action_id and a.get("id") == refund.action_id) or a.get("reference") == refund.id)
        ),
        None,
    )
    if action is None:
        _ask_checkout(ports, refund, payment.cko_id, now=now)
        raise OutcomeUnknown("Checkout.com has accepted the refund and shows no outcome yet")
    approved = action.get("approved")
    if approved is None:
        raise OutcomeUnknown("the refund action has no outcome yet")
    raw_amount = action.get("amount")
    outcome = record_refund_outcome(
        ports.store,
        payment_id,
        action_id=str(action.get("id")),
        amount=raw_amount if isinstance(raw_amount, int) and not isinstance(raw_amount, bool) else None,
        currency=None,
        approved=bool(approved),
        reference=refund.id,
        event_id=None,
        now=now,
        retain_until=retention(now, ports.settings),
    )
    logger.info(
        "refund reconciled", extra={"refund_id": refund_id, "approved": approved, "result": outcome.result.value}
    )
    return {"state": _load(ports, payment_id, refund_id).state.value}


def task_fail(payment_id: str, refund_id: str, cause: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    refund = _load(ports, payment_id, refund_id)
    ports.store.close_refund(
        payment_id, refund_id, amount=refund.amount, failure=cause or "refused by Checkout.com", now=now
    )
    return {"state": _load(ports, payment_id, refund_id).state.value}


# ------------------------------------------------------------------ the sweeper
def sweep_refund(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> str:
    """Own one refund still open long after it was requested: leave it to a live execution, else settle
    it from Checkout's actions, else (outcome still unknown) start a new execution for it."""
    refund = ports.store.get_refund(payment_id, refund_id)
    if refund is None or refund.state in FINAL_REFUND_STATES:
        return "final"
    try:
        result = ensure_execution(ports, refund, now=now, check_first=True)
    except Exception:
        logger.exception("refund sweeper could not check the workflow", extra={"refund_id": refund_id})
        raise
    return result

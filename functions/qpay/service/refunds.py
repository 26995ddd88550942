"""Refunds: reserve and start the workflow (API), the workflow's tasks, and the sweeper that owns the
refunds nothing else does.

A refund's id is its idempotency key at Checkout.com and the name of its Step Functions execution. A refund
is POSTed to Checkout.com once: the POST is recorded (``posted_at``) before it leaves, and a refund that
may have reached Checkout is never POSTed again, because Checkout keeps an idempotency key for 24 hours
only and caches no result for a request it failed to process (a repeat would be a second refund:
correctness review F1, fidelity F-1/F-2). Its outcome comes from the webhook or from Checkout's actions;
only a POST that provably never reached Checkout (connection refused, 429) is sent again. A refund whose execution never
started, or ended without settling it, is found by the sparse open-refunds index: the sweeper settles it
from Checkout's actions, or starts a new execution (``<refund id>-<n>``: a standard workflow's name stays
taken for 90 days).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from qpay.adapters.checkout import (
    CheckoutClient,
    CheckoutNotFound,
    CheckoutOutcomeUnknown,
    CheckoutRejected,
    CheckoutUnavailable,
)
from qpay.adapters.store import PaymentStore, RefundExists, RefundReserveRejected
from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, Conflict, NotFound, NotRefundable, UpstreamUnavailable
from qpay.domain.records import Refund
from qpay.domain.refund_states import FINAL_REFUND_STATES, RefundState
from qpay.domain.refunds import refund_amount, restart_due_at
from qpay.domain.states import Stage
from qpay.observability import logger, metric
from qpay.service.refund_outcomes import record_refund_outcome
from qpay.service.transitions import retention
from qpay.settings import Settings

LIVE_EXECUTION = ("RUNNING", "SUCCEEDED")
#: A POST whose answer was lost is asked again only after this long (its refund must be listed by then) ...
REASK_AFTER_S = 10 * 60
#: ... and never once Checkout may have forgotten its idempotency key (24 h, with a margin).
REASK_BEFORE_S = 20 * 3600


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
    number = ports.store.bump_execution(refund.payment_id, refund.id, seen=refund.executions, now=now)
    if number is None:  # another sweeper (or a retried request) restarted it first, or it has just ended
        return "running"
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
    """POST the refund, once. The action id Checkout accepted it with, or :class:`RefundRejected` (refused:
    nothing was refunded), :class:`OutcomeUnknown` (Checkout may hold it: it is never asked again) or
    :class:`CheckoutUnavailable` (it never reached Checkout: asking again is safe)."""
    assert ports.checkout is not None
    if refund.posted_at is not None or not ports.store.claim_refund_post(refund.payment_id, refund.id, now=now):
        raise OutcomeUnknown("an earlier request for this refund may have reached Checkout.com: never asked again")
    try:
        answer = ports.checkout.refund(cko_id, amount=refund.amount, reference=refund.id, idempotency_key=refund.id)
    except CheckoutRejected as exc:
        raise RefundRejected(str(exc)) from None
    except CheckoutOutcomeUnknown as exc:
        metric("RefundRequestsUncertain", 1)
        logger.warning("refund request may have reached Checkout.com", extra={"refund_id": refund.id, "why": str(exc)})
        raise OutcomeUnknown(f"{exc}: the outcome is read from Checkout.com, the request is never repeated") from None
    except CheckoutUnavailable:
        ports.store.release_refund_post(refund.payment_id, refund.id, posted_at=now, now=now)
        raise
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

    A refund missing from the actions is not a failed refund (Checkout may list it only once settled, and
    a refund can stay pending for days): it is never POSTed again once a POST may have reached Checkout.
    Only a refund no POST ever reached is asked for here (its workflow could not reach Checkout at all).
    Only a 4xx to that POST closes it as Failed (the workflow's Catch on RefundRejected)."""
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
        if refund.state is RefundState.REQUESTED and _may_ask_again(ports, refund, now=now):
            _ask_checkout(ports, refund, payment.cko_id, now=now)
        raise OutcomeUnknown("Checkout.com shows no outcome for the refund yet")
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


def _may_ask_again(ports: RefundPorts, refund: Refund, *, now: int) -> bool:
    """A refund Checkout does not list may be asked for (again) only when no POST ever reached Checkout,
    or, where the operator has confirmed that Checkout lists pending refunds, when its one POST's answer
    was lost long enough ago to be listed and recently enough for its key to be remembered."""
    if refund.posted_at is None:
        return True
    age = now - refund.posted_at
    if not ports.settings.checkout_lists_pending_refunds or not REASK_AFTER_S <= age < REASK_BEFORE_S:
        return False
    released = ports.store.release_refund_post(refund.payment_id, refund.id, posted_at=refund.posted_at, now=now)
    if released:
        logger.warning("refund not listed at Checkout.com after a lost answer: asked again", extra={"age_s": age})
        refund.posted_at = None
    return released


def task_fail(payment_id: str, refund_id: str, cause: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    refund = _load(ports, payment_id, refund_id)
    ports.store.close_refund(
        payment_id, refund_id, amount=refund.amount, failure=cause or "refused by Checkout.com", now=now
    )
    return {"state": _load(ports, payment_id, refund_id).state.value}


def task_attention(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> dict[str, Any]:
    """Reconciliation ran out of attempts with the outcome still unknown: flag the payment for a human once
    (metric and log on the first flag only; the sweeper restarts the workflow, which keeps looking)."""
    refund = _load(ports, payment_id, refund_id)
    if refund.state in FINAL_REFUND_STATES:
        return {"flagged": False, "state": refund.state.value}
    maybe = "its request may or may not have reached Checkout.com" if refund.action_id is None else "still pending"
    reason = f"refund {refund_id} outcome unknown after reconciliation ({maybe})"
    first = ports.store.flag_attention(payment_id, now=now, reason=reason, open_only=False)
    if first:
        metric("RefundsNeedingAttention", 1)
        logger.error("refund outcome unknown after reconciliation: needs attention", extra={"refund_id": refund_id})
    return {"flagged": first, "state": refund.state.value}


# ------------------------------------------------------------------ the sweeper
def sweep_refund(payment_id: str, refund_id: str, *, now: int, ports: RefundPorts) -> str:
    """Own one refund still open long after it was requested: leave it to a live execution, else start a
    new execution for it, which settles it from Checkout's actions or waits for its outcome again. Each
    restart waits longer than the one before (``restart_due_at``): ``waiting`` until then."""
    refund = ports.store.get_refund(payment_id, refund_id)
    if refund is None or refund.state in FINAL_REFUND_STATES:
        return "final"
    if now < restart_due_at(refund):
        return "waiting"  # its restarts back off with its age: not even Step Functions is asked
    try:
        result = ensure_execution(ports, refund, now=now, check_first=True)
    except Exception:
        logger.exception("refund sweeper could not check the workflow", extra={"refund_id": refund_id})
        raise
    return result

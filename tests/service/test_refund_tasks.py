"""service/refunds: the request (reserve + start), the workflow's tasks and the sweeper, with a recording
Step Functions client and a scripted Checkout.com (both doubles of their APIs, the store is moto)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutNotFound, CheckoutRejected
from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, Conflict, NotFound, NotRefundable, UpstreamUnavailable
from qpay.domain.refund_states import RefundState
from qpay.domain.states import Stage
from qpay.service.refunds import (
    OutcomeUnknown,
    RefundPorts,
    RefundRejected,
    ensure_execution,
    execution_name,
    request_refund,
    sweep_refund,
    task_await,
    task_fail,
    task_reconcile,
    task_request,
)
from tests.service.helpers import NOW, captured_payment, pending_payment, settings

ARN = "arn:aws:states:me-central-1:123456789012:stateMachine:qpay-refunds"


class AwsError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


@dataclass
class FakeSfn:
    """Step Functions as the service sees it: executions by name, each with a status."""

    executions: dict[str, str] = field(default_factory=dict)
    started: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    described: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)  # every StartExecution call, accepted or not
    successes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_start: Exception | None = None

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        self.attempts.append(name)
        if self.fail_start is not None:
            raise self.fail_start
        if name in self.executions:
            raise AwsError("ExecutionAlreadyExists")
        self.executions[name] = "RUNNING"
        self.started.append((stateMachineArn, name, json.loads(input)))
        return {}

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        self.described.append(executionArn)
        name = executionArn.rsplit(":", 1)[1]
        if executionArn != ARN.replace(":stateMachine:", ":execution:") + ":" + name:
            raise AwsError("InvalidArn")  # as Step Functions answers an ARN that is not an execution's
        if name not in self.executions:
            raise AwsError("ExecutionDoesNotExist")
        return {"status": self.executions[name]}

    def send_task_success(self, *, taskToken: str, output: str) -> None:
        self.successes.append((taskToken, json.loads(output)))


@dataclass
class FakeCheckout:
    actions: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refuse: CheckoutRejected | None = None
    unknown: bool = False
    answer_action: bool = True  # Checkout's 202 names the refund's action (not every answer does)

    def refund(self, cko_id: str, *, amount: int, reference: str, idempotency_key: str) -> dict[str, Any]:
        if self.refuse is not None:
            raise self.refuse
        self.refunds.append({"cko_id": cko_id, "amount": amount, "reference": reference, "key": idempotency_key})
        return {"action_id": "act_" + reference[-8:]} if self.answer_action else {}

    def get_actions(self, cko_id: str) -> list[dict[str, Any]]:
        if self.unknown:
            raise CheckoutNotFound(404)
        return self.actions


def _ports(sfn: FakeSfn | None = None, checkout: FakeCheckout | None = None) -> RefundPorts:
    return RefundPorts(
        store=deps.store(),
        settings=settings(refund_state_machine_arn=ARN),
        checkout=checkout or FakeCheckout(),  # type: ignore[arg-type]
        stepfunctions=sfn or FakeSfn(),
    )


def _captured(amount: int = 12500) -> Any:
    return captured_payment(amount=amount)


def _request(payment: Any, ports: RefundPorts, *, amount: int | None = 5000, key: str = "k1", **kw: Any) -> Any:
    args: dict[str, Any] = {"reference": None, "reason": "damaged", "principal": "arn:aws:iam::1:user/ops"}
    args.update(kw)
    return request_refund(payment.id, amount=amount, idempotency_key=key, now=NOW + 10, ports=ports, **args)


# ------------------------------------------------------------------ the request
def test_a_request_reserves_records_and_starts_its_execution(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, created = _request(payment, _ports(sfn), reference="R-1")
    assert created
    stored = deps.store().get_refund(payment.id, refund.id)
    assert stored == refund
    assert (refund.amount, refund.state, refund.reference, refund.reason, refund.requested_by) == (
        5000,
        RefundState.REQUESTED,
        "R-1",
        "damaged",
        "arn:aws:iam::1:user/ops",
    )
    assert deps.store().get_payment(payment.id).refundable_amount == 7500
    assert sfn.started == [(ARN, refund.id, {"payment_id": payment.id, "refund_id": refund.id})]
    assert sfn.described == []  # a first start goes straight to StartExecution


def test_a_retried_request_is_the_same_refund_and_checks_the_execution_first(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    first, _ = _request(payment, _ports(sfn))
    again, created = _request(payment, _ports(sfn))
    assert (again, created) == (first, False)
    assert sfn.described == [f"arn:aws:states:me-central-1:123456789012:execution:qpay-refunds:{first.id}"]
    assert len(sfn.started) == 1  # it is running: not started twice
    assert deps.store().get_payment(payment.id).refundable_amount == 7500  # reserved once


def test_a_retried_full_refund_after_the_balance_is_gone_is_still_the_same_refund(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    first, _ = _request(payment, _ports(sfn), amount=None)
    assert first.amount == 12500
    again, created = _request(payment, _ports(sfn), amount=None)  # nothing left to refund: the replay wins
    assert (again.id, created) == (first.id, False)


def test_the_same_key_with_another_request_is_a_conflict(aws: Any) -> None:
    payment = _captured()
    _request(payment, _ports())
    with pytest.raises(Conflict) as info:
        _request(payment, _ports(), amount=4000)
    assert info.value.message == "this Idempotency-Key was used with a different refund request"


@pytest.mark.parametrize("payment_id", ["qpp_" + "a" * 26, "not-a-payment-id"])
def test_a_refund_of_no_payment_of_ours_is_not_found(aws: Any, payment_id: str) -> None:
    with pytest.raises(NotFound) as info:
        request_refund(
            payment_id, amount=1, reference=None, reason=None, principal=None, idempotency_key="k", now=NOW,
            ports=_ports(),
        )  # fmt: skip
    assert info.value.message == "no such payment"


def test_a_workflow_that_does_not_start_is_a_503_and_the_refund_stays_recorded(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn(fail_start=AwsError("ThrottlingException"))
    with pytest.raises(UpstreamUnavailable) as info:
        _request(payment, _ports(sfn))
    assert info.value.message == (
        "refund recorded but its workflow did not start; retry with the same Idempotency-Key "
        "(the refund sweeper also starts it)"
    )
    [refund] = deps.store().get_payment_with_refunds(payment.id)[1]
    assert refund.state is RefundState.REQUESTED


# ------------------------------------------------------------------ executions
def test_a_failed_execution_is_replaced_by_the_next_name(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))
    sfn.executions[refund.id] = "FAILED"
    assert ensure_execution(_ports(sfn), refund, now=NOW + 20) == "restarted"
    assert sfn.started[-1] == (ARN, f"{refund.id}-1", {"payment_id": payment.id, "refund_id": refund.id})
    restarted = deps.store().get_refund(payment.id, refund.id)
    assert (restarted.executions, execution_name(restarted)) == (1, f"{refund.id}-1")
    sfn.executions[f"{refund.id}-1"] = "SUCCEEDED"
    assert ensure_execution(_ports(sfn), restarted, now=NOW + 30, check_first=True) == "running"


def test_an_execution_that_already_exists_is_checked_not_assumed(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))
    assert ensure_execution(_ports(sfn), refund, now=NOW + 20) == "running"  # exists and RUNNING
    sfn.executions[refund.id] = "TIMED_OUT"
    assert ensure_execution(_ports(sfn), refund, now=NOW + 20) == "restarted"


def test_an_unexpected_start_failure_is_raised_as_it_is(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))
    sfn.executions.clear()
    sfn.fail_start = RuntimeError("socket closed")  # no AWS error code at all
    with pytest.raises(RuntimeError, match="socket closed"):
        ensure_execution(_ports(sfn), refund, now=NOW + 20)
    sfn.fail_start = AwsError("AccessDenied")
    with pytest.raises(AwsError):
        ensure_execution(_ports(sfn), refund, now=NOW + 20, check_first=True)


def test_describe_failures_other_than_missing_are_raised(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))

    def broken(**_: Any) -> dict[str, Any]:
        raise AwsError("ThrottlingException")

    sfn.describe_execution = broken  # type: ignore[method-assign]
    with pytest.raises(AwsError):
        ensure_execution(_ports(sfn), refund, now=NOW + 20, check_first=True)


# ------------------------------------------------------------------ workflow tasks
def test_task_request_posts_once_with_the_refund_id_as_key(aws: Any) -> None:
    payment, checkout = _captured(), FakeCheckout()
    refund, _ = _request(payment, _ports())
    got = task_request(payment.id, refund.id, now=NOW + 30, ports=_ports(checkout=checkout))
    action = "act_" + refund.id[-8:]
    assert got == {"state": "Pending", "action_id": action}
    assert checkout.refunds == [{"cko_id": payment.cko_id, "amount": 5000, "reference": refund.id, "key": refund.id}]
    stored = deps.store().get_refund(payment.id, refund.id)
    assert (stored.state, stored.action_id) == (RefundState.PENDING, action)
    # a retried task sees it is no longer Requested and asks nothing
    assert task_request(payment.id, refund.id, now=NOW + 31, ports=_ports(checkout=checkout)) == {"state": "Pending"}
    assert len(checkout.refunds) == 1


def test_task_request_turns_a_4xx_into_refund_rejected(aws: Any) -> None:
    payment = _captured()
    refund, _ = _request(payment, _ports())
    checkout = FakeCheckout(refuse=CheckoutRejected(422, error_codes=["refund_amount_exceeds_balance"]))
    with pytest.raises(RefundRejected):
        task_request(payment.id, refund.id, now=NOW + 30, ports=_ports(checkout=checkout))


def test_task_await_parks_the_token_or_completes_the_wait_itself(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))
    assert task_await(payment.id, refund.id, "tok-1", now=NOW + 40, ports=_ports(sfn)) == {"completed": False}
    assert deps.store().get_refund(payment.id, refund.id).task_token == "tok-1"
    assert sfn.successes == []
    deps.store().close_refund(payment.id, refund.id, amount=refund.amount, failure="no", now=NOW + 41)
    assert task_await(payment.id, refund.id, "tok-2", now=NOW + 42, ports=_ports(sfn)) == {
        "completed": True,
        "state": "Failed",
    }
    assert sfn.successes == [("tok-2", {"refund_id": refund.id, "state": "Failed", "action_id": None})]


def _pending_refund(checkout: FakeCheckout) -> tuple[Any, Any]:
    payment = _captured()
    refund, _ = _request(payment, _ports())
    task_request(payment.id, refund.id, now=NOW + 30, ports=_ports(checkout=checkout))
    return payment, deps.store().get_refund(payment.id, refund.id)


@pytest.mark.parametrize("match", ["action_id", "reference"])
def test_task_reconcile_settles_from_the_matching_refund_action(aws: Any, match: str) -> None:
    checkout = FakeCheckout(answer_action=match == "action_id")
    payment, refund = _pending_refund(checkout)
    mine: dict[str, Any] = {"type": "Refund", "approved": True, "amount": 5000}
    mine.update({"id": refund.action_id} if match == "action_id" else {"id": "act_later", "reference": refund.id})
    checkout.actions = [
        {"type": "Capture", "id": refund.action_id or "act_cap", "reference": refund.id, "approved": True},
        {"type": "Refund", "id": "act_someone", "reference": "qrf_" + "z" * 26, "approved": False, "amount": 1},
        mine,
    ]
    assert task_reconcile(payment.id, refund.id, now=NOW + 3600, ports=_ports(checkout=checkout)) == {
        "state": "Refunded"
    }
    after = deps.store().get_payment(payment.id)
    assert (after.refunded_amount, after.refundable_amount) == (5000, 7500)


def test_task_reconcile_counts_a_declined_action_as_declined(aws: Any) -> None:
    checkout = FakeCheckout()
    payment, refund = _pending_refund(checkout)
    checkout.actions = [{"type": "Refund", "id": refund.action_id, "approved": False, "amount": 5000}]
    assert task_reconcile(payment.id, refund.id, now=NOW + 3600, ports=_ports(checkout=checkout)) == {
        "state": "Declined"
    }
    assert deps.store().get_payment(payment.id).refundable_amount == 12500  # the reservation is released


def test_task_reconcile_without_an_outcome_waits_and_never_asks_again(aws: Any) -> None:
    """The old code re-POSTed here "to prove it was accepted": after Checkout's 24 h key window that is a
    second refund (correctness F1, fidelity F-1). A Pending refund is never POSTed again, however long."""
    checkout = FakeCheckout()
    payment, refund = _pending_refund(checkout)
    for hours in (1, 25, 24 * 7):
        with pytest.raises(OutcomeUnknown) as info:
            task_reconcile(payment.id, refund.id, now=NOW + hours * 3600, ports=_ports(checkout=checkout))
        assert str(info.value) == "Checkout.com shows no outcome for the refund yet"
    assert [r["key"] for r in checkout.refunds] == [refund.id]  # the one POST task_request made
    checkout.actions = [{"type": "Refund", "id": refund.action_id, "approved": None, "amount": 5000}]
    with pytest.raises(OutcomeUnknown) as info:
        task_reconcile(payment.id, refund.id, now=NOW + 3600, ports=_ports(checkout=checkout))
    assert str(info.value) == "the refund action has no outcome yet"
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.PENDING


def test_task_reconcile_parks_an_action_whose_amount_is_not_an_amount(aws: Any) -> None:
    checkout = FakeCheckout()
    payment, refund = _pending_refund(checkout)
    checkout.actions = [{"type": "Refund", "id": refund.action_id, "approved": True, "amount": True}]
    assert task_reconcile(payment.id, refund.id, now=NOW + 3600, ports=_ports(checkout=checkout)) == {
        "state": "Pending"
    }
    assert deps.store().get_payment(payment.id).refunded_amount == 0
    anomaly = aws.item(f"PAYMENT#{payment.id}", f"ANOMALY#action:{refund.action_id}")
    assert anomaly["detail"]["amount"] == "None"  # not an amount: nothing of it is passed on


def test_task_reconcile_never_passes_on_a_string_amount(aws: Any) -> None:
    checkout = FakeCheckout()
    payment, refund = _pending_refund(checkout)
    checkout.actions = [{"type": "Refund", "id": refund.action_id, "approved": True, "amount": "5000"}]
    task_reconcile(payment.id, refund.id, now=NOW + 3600, ports=_ports(checkout=checkout))
    anomaly = aws.item(f"PAYMENT#{payment.id}", f"ANOMALY#action:{refund.action_id}")
    assert anomaly["detail"]["amount"] == "None"


def test_task_reconcile_of_a_final_refund_asks_nothing(aws: Any) -> None:
    checkout = FakeCheckout(unknown=True)
    payment, refund = _pending_refund(FakeCheckout())
    deps.store().close_refund(payment.id, refund.id, amount=refund.amount, failure="x", now=NOW + 50)
    assert task_reconcile(payment.id, refund.id, now=NOW + 60, ports=_ports(checkout=checkout)) == {"state": "Failed"}


def test_task_reconcile_of_a_payment_checkout_does_not_know_is_rejected(aws: Any) -> None:
    payment, refund = _pending_refund(FakeCheckout())
    with pytest.raises(RefundRejected) as info:
        task_reconcile(payment.id, refund.id, now=NOW + 60, ports=_ports(checkout=FakeCheckout(unknown=True)))
    assert str(info.value) == f"Checkout.com does not know {payment.cko_id}"


def test_tasks_for_a_payment_without_a_checkout_id_are_rejected(aws: Any) -> None:
    payment = pending_payment(bound=False)
    refund_id = "qrf_" + "b" * 26
    deps.store()._db.put_item(  # a refund on a payment Checkout never named (data repair, a bug elsewhere)
        TableName=deps.store()._table,
        Item={
            "pk": {"S": f"PAYMENT#{payment.id}"},
            "sk": {"S": f"REFUND#{refund_id}"},
            "id": {"S": refund_id},
            "payment_id": {"S": payment.id},
            "amount": {"N": "1"},
            "state": {"S": "Requested"},
        },
    )
    for task in (task_request, task_reconcile):
        with pytest.raises(RefundRejected) as info:
            task(payment.id, refund_id, now=NOW, ports=_ports())
        assert str(info.value) == "payment has no Checkout.com id"


def test_task_fail_closes_the_refund_with_its_cause(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))
    assert task_fail(payment.id, refund.id, "", now=NOW + 70, ports=_ports(sfn)) == {"state": "Failed"}
    item = aws.item(f"PAYMENT#{payment.id}", f"REFUND#{refund.id}")
    assert item["failure"] == "refused by Checkout.com"  # no cause given: the default text
    assert deps.store().get_payment(payment.id).refundable_amount == 12500
    other, _ = _request(payment, _ports(sfn), key="k2")
    task_fail(payment.id, other.id, "refund_amount_exceeds_balance", now=NOW + 71, ports=_ports(sfn))
    assert aws.item(f"PAYMENT#{payment.id}", f"REFUND#{other.id}")["failure"] == "refund_amount_exceeds_balance"


def test_tasks_for_an_unknown_refund_say_which(aws: Any) -> None:
    payment = _captured()
    with pytest.raises(NotFound) as info:
        task_fail(payment.id, "qrf_" + "c" * 26, "x", now=NOW, ports=_ports())
    assert info.value.message == f"refund {'qrf_' + 'c' * 26} not found"


# ------------------------------------------------------------------ the sweeper
def test_the_sweeper_starts_a_workflow_that_never_started(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn(fail_start=AwsError("ThrottlingException"))
    with pytest.raises(UpstreamUnavailable):
        _request(payment, _ports(sfn))
    [refund] = deps.store().get_payment_with_refunds(payment.id)[1]
    sfn.fail_start = None
    assert sweep_refund(payment.id, refund.id, now=NOW + 900, ports=_ports(sfn)) == "started"
    assert sfn.started == [(ARN, refund.id, {"payment_id": payment.id, "refund_id": refund.id})]


def test_the_sweeper_leaves_final_refunds_and_restarts_dead_executions(aws: Any) -> None:
    payment, sfn = _captured(), FakeSfn()
    refund, _ = _request(payment, _ports(sfn))
    assert sweep_refund(payment.id, refund.id, now=NOW + 900, ports=_ports(sfn)) == "running"
    assert sfn.attempts == [refund.id]  # it looked first: no second StartExecution for a live one
    sfn.executions[refund.id] = "ABORTED"
    assert sweep_refund(payment.id, refund.id, now=NOW + 900, ports=_ports(sfn)) == "restarted"
    task_fail(payment.id, refund.id, "x", now=NOW + 901, ports=_ports(sfn))
    assert sweep_refund(payment.id, refund.id, now=NOW + 902, ports=_ports(sfn)) == "final"
    assert sweep_refund(payment.id, "qrf_" + "d" * 26, now=NOW + 902, ports=_ports(sfn)) == "final"
    assert deps.store().get_payment(payment.id).stage is Stage.CAPTURED


# ------------------------------------------------------------------ the request, racing another writer
class StaleReads:
    """The store, except that reading the payment returns ``snapshot`` (what it was a moment ago), and the
    reads are counted."""

    def __init__(self, snapshot: Any = None) -> None:
        self.real, self.snapshot, self.reads = deps.store(), snapshot, 0

    def get_payment(self, payment_id: str) -> Any:
        self.reads += 1
        return self.snapshot if self.snapshot is not None else self.real.get_payment(payment_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _stale_ports(store: StaleReads) -> RefundPorts:
    return RefundPorts(
        store=store,  # type: ignore[arg-type]
        settings=settings(refund_state_machine_arn=ARN),
        checkout=FakeCheckout(),  # type: ignore[arg-type]
        stepfunctions=FakeSfn(),
    )


def test_a_balance_spent_meanwhile_is_refused_naming_what_is_left(aws: Any) -> None:
    payment = _captured()
    _request(payment, _ports(), amount=10500, key="first")  # another refund took most of it meanwhile
    with pytest.raises(AmountExceedsBalance) as info:
        _request(payment, _stale_ports(StaleReads(snapshot=payment)), amount=5000, key="second")
    assert info.value.message == "amount exceeds the refundable balance 2000"
    assert info.value.details == [{"field": "amount", "issue": "at most 2000"}]
    assert deps.store().get_payment(payment.id).refundable_amount == 2000  # nothing more reserved


def test_a_payment_no_longer_captured_is_refused(aws: Any) -> None:
    pending = pending_payment(amount=12500)
    looks_captured = dataclasses.replace(pending, stage=Stage.CAPTURED, captured_amount=12500, refundable_amount=12500)
    with pytest.raises(NotRefundable) as info:
        _request(looks_captured, _stale_ports(StaleReads(snapshot=looks_captured)))
    assert info.value.message == "payment is not captured: only captured payments can be refunded"
    assert deps.store().get_refund(pending.id, ids.refund_id_for_key(pending.id, "k1")) is None


def test_a_request_records_when_and_its_fingerprint(aws: Any) -> None:
    payment = _captured()
    refund, _ = _request(payment, _ports(), reference="R-1")
    stored = deps.store().get_refund(payment.id, refund.id)
    assert (stored.created_at, stored.updated_at) == (NOW + 10, NOW + 10)
    # the fingerprint a retry is compared with, also after a deploy: pinned
    assert stored.request_hash == hashlib.sha256(b'[5000,"R-1","damaged"]').hexdigest()


def test_a_malformed_payment_id_is_not_even_looked_up(aws: Any) -> None:
    store = StaleReads()
    with pytest.raises(NotFound):
        request_refund(
            "qpp_NOT-AN-ID", amount=1, reference=None, reason=None, principal=None, idempotency_key="k", now=NOW,
            ports=_stale_ports(store),
        )  # fmt: skip
    assert store.reads == 0


# ------------------------------------------------------------------ a POST whose answer was lost (F-2)
def _posted(payment: Any, *, age_s: int) -> Any:
    refund, _ = _request(payment, _ports())
    assert deps.store().claim_refund_post(payment.id, refund.id, now=NOW + 10 - age_s)
    return deps.store().get_refund(payment.id, refund.id)


@pytest.mark.parametrize(
    ("lists_pending", "age_s", "asked"),
    [
        (False, 3600, False),  # Checkout may hold it unlisted: never asked again
        (True, 3600, True),  # the operator confirmed pending refunds are listed: absent means never made
        (True, 9 * 60, False),  # too soon: a refund just made may not be listed yet
        (True, 10 * 60, True),
        (True, 20 * 3600 - 1, True),
        (True, 20 * 3600, False),  # past the margin before Checkout forgets the key
    ],
)
def test_a_refund_whose_answer_was_lost_is_asked_again_only_when_absence_proves_it(
    aws: Any, lists_pending: bool, age_s: int, asked: bool
) -> None:
    payment = _captured()
    refund = _posted(payment, age_s=age_s)
    checkout = FakeCheckout()
    ports = dataclasses.replace(
        _ports(checkout=checkout),
        settings=settings(refund_state_machine_arn=ARN, checkout_lists_pending_refunds=lists_pending),
    )
    with pytest.raises(OutcomeUnknown):
        task_reconcile(payment.id, refund.id, now=NOW + 10, ports=ports)
    assert len(checkout.refunds) == (1 if asked else 0)
    stored = deps.store().get_refund(payment.id, refund.id)
    assert stored.state is (RefundState.PENDING if asked else RefundState.REQUESTED)
    assert stored.posted_at == (NOW + 10 if asked else NOW + 10 - age_s)


def test_task_request_never_posts_a_refund_already_posted(aws: Any) -> None:
    payment, checkout = _captured(), FakeCheckout()
    refund = _posted(payment, age_s=5)
    with pytest.raises(OutcomeUnknown):
        task_request(payment.id, refund.id, now=NOW + 10, ports=_ports(checkout=checkout))
    assert checkout.refunds == []
    assert not deps.store().claim_refund_post(payment.id, refund.id, now=NOW + 11)  # one claim only


def test_a_refund_post_that_never_left_is_released_for_the_next_attempt(aws: Any) -> None:
    from qpay.adapters.checkout import CheckoutUnavailable

    payment = _captured()
    refund, _ = _request(payment, _ports())

    class Refusing(FakeCheckout):
        def refund(self, cko_id: str, **kw: Any) -> dict[str, Any]:
            raise CheckoutUnavailable(None, 3, "connection error: NewConnectionError")

    with pytest.raises(CheckoutUnavailable):
        task_request(payment.id, refund.id, now=NOW + 10, ports=_ports(checkout=Refusing()))
    assert deps.store().get_refund(payment.id, refund.id).posted_at is None
    checkout = FakeCheckout()
    assert task_request(payment.id, refund.id, now=NOW + 20, ports=_ports(checkout=checkout))["state"] == "Pending"
    assert len(checkout.refunds) == 1

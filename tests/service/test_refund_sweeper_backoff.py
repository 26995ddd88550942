"""The refund sweeper's restarts back off with the refund's age (issue 19, found by the simulation: a refund
Checkout kept pending for days had its workflow restarted about every 2 hours, 24 executions in two days,
each ending RefundOutcomeUnknown). Step Functions is a double whose executions run for a fixed time and then
fail, as a workflow that never learns the outcome does; the store is moto."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from qpay import deps
from qpay.domain.records import Refund
from qpay.domain.refunds import RESTART_MAX_WAIT_S, restart_due_at
from qpay.service.refunds import RefundPorts, ensure_execution, request_refund, sweep_refund
from tests.service.helpers import NOW, captured_payment, settings

ARN = "arn:aws:states:me-central-1:123456789012:stateMachine:qpay-refunds"
EXECUTION_S = 2 * 3600  # AwaitOutcome's hour, then Reconcile's retries: about what the simulation measured
SWEEP_EVERY_S = 15 * 60  # template.yaml: the sweep's rate(15 minutes)
HOUR = 3600


class AwsError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


@dataclass
class TimedSfn:
    """Executions by name; each is RUNNING for ``EXECUTION_S`` after its start, then FAILED."""

    clock: list[int]
    started: dict[str, int] = field(default_factory=dict)

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        assert stateMachineArn == ARN and json.loads(input)["refund_id"] in name
        if name in self.started:
            raise AwsError("ExecutionAlreadyExists")
        self.started[name] = self.clock[0]
        return {}

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        name = executionArn.rsplit(":", 1)[1]
        if name not in self.started:
            raise AwsError("ExecutionDoesNotExist")
        return {"status": "RUNNING" if self.clock[0] < self.started[name] + EXECUTION_S else "FAILED"}


def _ports(sfn: TimedSfn) -> RefundPorts:
    return RefundPorts(store=deps.store(), settings=settings(refund_state_machine_arn=ARN), stepfunctions=sfn)


def _requested(sfn: TimedSfn) -> tuple[Any, Refund]:
    """A captured payment and a refund of 500 requested on it at NOW (its first execution started)."""
    payment = captured_payment()
    refund, _ = request_refund(
        payment.id, amount=500, reference=None, reason=None, principal="ops", idempotency_key="k1",
        now=NOW, ports=_ports(sfn),
    )  # fmt: skip
    return payment, refund


def _pending_for(days: int, sfn: TimedSfn) -> tuple[Refund, list[str]]:
    """A refund Checkout never settles, swept every 15 minutes for ``days``: the refund and each sweep's result."""
    payment, refund = _requested(sfn)
    results = []
    for now in range(NOW + SWEEP_EVERY_S, NOW + days * 24 * HOUR + 1, SWEEP_EVERY_S):
        sfn.clock[0] = now
        results.append(sweep_refund(payment.id, refund.id, now=now, ports=_ports(sfn)))
    latest = deps.store().get_refund(payment.id, refund.id)
    assert latest is not None
    return latest, results


def test_a_refund_pending_for_three_days_gets_a_handful_of_executions_not_one_every_two_hours(aws: Any) -> None:
    sfn = TimedSfn(clock=[NOW])
    refund, results = _pending_for(3, sfn)
    starts = sorted(sfn.started.values())
    # before: one execution about every 2 h 15 min (2 h running + the next sweep), 32 in three days
    assert len(starts) <= 10, f"{len(starts)} executions in 3 days"
    assert refund.executions == len(starts) - 1 == results.count("restarted")
    gaps = [b - a for a, b in pairwise(starts)]
    assert gaps == sorted(gaps)  # the waits only grow ...
    assert max(gaps) <= RESTART_MAX_WAIT_S + SWEEP_EVERY_S  # ... up to the cap: it keeps looking twice a day
    assert starts[-1] >= NOW + 3 * 24 * HOUR - RESTART_MAX_WAIT_S - SWEEP_EVERY_S
    assert "waiting" in results and results.count("running") >= 1


def test_the_wait_doubles_from_each_restart_and_is_capped() -> None:
    base = Refund(id="qrf_x", payment_id="qpp_x", amount=1, created_at=NOW)
    assert restart_due_at(base) == NOW  # the first restart: as soon as the first execution has ended
    waits = []
    for n in range(1, 8):
        refund = Refund(id="qrf_x", payment_id="qpp_x", amount=1, created_at=NOW, executions=n, restarted_at=NOW)
        waits.append(restart_due_at(refund) - NOW)
    assert waits == [2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, 12 * HOUR, 12 * HOUR, 12 * HOUR]
    # an item written before restarted_at existed waits from its last write instead of restarting at once
    old = Refund(id="qrf_x", payment_id="qpp_x", amount=1, created_at=NOW, updated_at=NOW + 50, executions=3)
    assert restart_due_at(old) == NOW + 50 + 8 * HOUR


def test_two_sweepers_restarting_the_same_refund_start_one_execution(aws: Any) -> None:
    """The restart is a conditional write on the execution count the sweeper read: a second sweeper with the
    same (now stale) count starts nothing and reports the refund as running."""
    sfn = TimedSfn(clock=[NOW])
    payment, refund = _requested(sfn)
    later = NOW + EXECUTION_S + 60
    sfn.clock[0] = later
    stale = deps.store().get_refund(payment.id, refund.id)
    assert stale is not None
    assert sweep_refund(payment.id, refund.id, now=later, ports=_ports(sfn)) == "restarted"
    assert ensure_execution(_ports(sfn), stale, now=later, check_first=True) == "running"
    assert sorted(sfn.started) == [refund.id, f"{refund.id}-1"]
    latest = deps.store().get_refund(payment.id, refund.id)
    assert latest is not None and latest.executions == 1 and latest.restarted_at == later


def test_a_refund_checkout_holds_as_pending_is_restarted_too(aws: Any) -> None:
    """The usual long-pending refund is Pending (Checkout answered 202), not Requested: its restart is
    allowed in both open states (a mutant allowing only Requested survived the tests above)."""
    sfn = TimedSfn(clock=[NOW])
    payment, refund = _requested(sfn)
    store = deps.store()
    assert store.mark_refund_pending(payment.id, refund.id, action_id="act_" + "p" * 26, now=NOW + 5)
    later = NOW + EXECUTION_S + 60
    sfn.clock[0] = later
    assert sweep_refund(payment.id, refund.id, now=later, ports=_ports(sfn)) == "restarted"
    latest = store.get_refund(payment.id, refund.id)
    assert latest is not None and latest.state.value == "Pending"
    assert latest.executions == 1 and latest.restarted_at == later
    assert sorted(sfn.started) == [refund.id, f"{refund.id}-1"]

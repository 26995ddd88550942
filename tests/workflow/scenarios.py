"""Each failure path of infra/refund.asl.yaml as a scenario (drive it) and a check (what must hold).

The checks pin the workflow's contract with numbers written here, not read from the ASL: a change of a
retry count, an error name or a catch target in the ASL must fail them (tests/workflow/test_meta.py
proves it for one of each kind by editing the ASL in memory). The numbers are template.yaml's
DefinitionSubstitutions as deployed: RetryIntervalSeconds 2, RetryMaxAttempts 6, RetryMaxDelaySeconds
120, ReconcileIntervalSeconds 300, ReconcileMaxAttempts 6, ReconcileMaxDelaySeconds 3600, and
RefundOutcomeTimeoutSeconds' default 3600. Backoff (https://states-language.net/spec.html#retrying-after-error):
the n-th retry waits IntervalSeconds x BackoffRate^(n-1), capped at MaxDelaySeconds; with
``JitterStrategy: FULL`` a uniform draw below that (here drawn at the ceiling).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from qpay_local.stack import REPO_ROOT
from qpay_local.template import Template
from tests.workflow.conftest import Run, Workflow

REFUNDS = "/payments/*/refunds"
ACTIONS = "/payments/*/actions"
CAPTURED = 12500
REFUND = 5000

#: RequestRefund and MarkFailed: 2 s doubling (RequestRefund capped at 120 s), 6 retries → 7 attempts
REQUEST_GAPS = [2, 4, 8, 16, 32, 64]
#: Reconcile: 300 s doubling capped at 3600 s, 6 retries → 7 attempts over ~3.2 h
RECONCILE_GAPS = [300, 600, 1200, 2400, 3600, 3600]
OUTCOME_TIMEOUT_S = 3600


@cache
def _template() -> Template:
    return Template(REPO_ROOT / "template.yaml")


def alarm_on(metric: str) -> str:
    """The template's alarm on this metric (for AWS/States metrics: on the refund state machine)."""
    found = []
    for name, res in _template().of_type("AWS::CloudWatch::Alarm").items():
        props = res.get("Properties", {})
        if props.get("MetricName") != metric:
            continue
        dims = props.get("Dimensions", [])
        if props.get("Namespace") == "AWS/States" and {"Ref": "RefundStateMachine"} not in [
            d.get("Value") for d in dims
        ]:
            continue
        found.append(name)
    assert len(found) == 1, f"expected one alarm on {metric}, found {found}"
    return found[0]


# --------------------------------------------------------------------------------- the ledger
def assert_released(run: Run) -> None:
    """Nothing was refunded: the reservation is back on the payment, the refund is Failed."""
    assert run.refund["state"] == "Failed", run.refund
    assert run.payment["refundable_amount"] == CAPTURED


def assert_kept(run: Run, state: str = "Requested") -> None:
    """The outcome is unknown: the reservation stays (the sweeper owns the refund), nothing released."""
    assert run.refund["state"] == state, run.refund
    assert run.payment["refundable_amount"] == CAPTURED - REFUND


def assert_refunded(run: Run) -> None:
    assert run.refund["state"] == "Refunded", run.refund
    assert run.payment["refundable_amount"] == CAPTURED - REFUND
    assert run.execution.status == "SUCCEEDED"


def assert_failed_alarm(run: Run, error: str) -> None:
    assert (run.execution.status, run.execution.error) == ("FAILED", error)
    assert alarm_on("ExecutionsFailed") == "RefundExecutionsFailedAlarm"


# --------------------------------------------------------------------------------- scenarios
def request_unavailable(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """Every POST of the refund answers 429 (rate limited: it was not processed)."""
    wf.sim.faults.fail_next(1000, status=429, path_prefix=REFUNDS, method="POST")
    return wf.refund(REFUND, monkeypatch=mp)


def check_request_unavailable(run: Run) -> None:
    # RequestRefund's Retry on CheckoutUnavailable, exhausted: 7 attempts at the backoff's ceilings
    assert run.gaps("RequestRefund") == REQUEST_GAPS, run.execution.history
    # then its Catch States.ALL → Reconcile, which may ask (no POST ever reached Checkout) and gets 429
    # again: its own Retry, exhausted, then its Catch States.ALL → NeedsAttention → RefundStuck
    assert run.gaps("Reconcile") == RECONCILE_GAPS
    assert run.path == ["RequestRefund", "Reconcile", "NeedsAttention", "RefundStuck"]
    assert_kept(run)
    assert run.refund["posted_at"] is None  # no POST is believed to have reached Checkout.com
    assert run.metrics.count("RefundsNeedingAttention") == 1
    assert alarm_on("RefundsNeedingAttention")
    assert_failed_alarm(run, "RefundOutcomeUnknown")


def request_refused(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """Checkout.com answers the POST 422."""
    wf.sim.faults.fail_next(1, status=422, path_prefix=REFUNDS, method="POST")
    return wf.refund(REFUND, monkeypatch=mp)


def check_request_refused(run: Run) -> None:
    # RefundRejected is not retried; RequestRefund's Catch [RefundRejected] → MarkFailed → RefundFailed
    assert len(run.times("RequestRefund")) == 1
    assert run.path == ["RequestRefund", "MarkFailed", "RefundFailed"]
    assert_released(run)
    assert "RefundsNeedingAttention" not in run.metrics
    assert_failed_alarm(run, "RefundRejected")


def request_outcome_unknown(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """Checkout.com takes the refund but its answer is lost (503 after processing)."""
    wf.sim.faults.fail_next(1, status="accept_then_503", path_prefix=REFUNDS, method="POST")
    return wf.refund(REFUND, monkeypatch=mp)


def check_request_outcome_unknown(run: Run) -> None:
    # OutcomeUnknown is never retried at RequestRefund (a second POST could refund twice): Catch
    # States.ALL → Reconcile reads the actions and finds the refund
    assert len(run.times("RequestRefund")) == 1
    assert run.path == ["RequestRefund", "Reconcile", "Finished", "Refunded"]
    assert_refunded(run)


def reconcile_outcome_unknown(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """The POST's connection closes (it may have reached Checkout.com) and Checkout.com never lists it."""
    wf.sim.faults.fail_next(1, status="close", path_prefix=REFUNDS, method="POST")
    return wf.refund(REFUND, monkeypatch=mp)


def check_reconcile_outcome_unknown(run: Run) -> None:
    # Reconcile's Retry on OutcomeUnknown, exhausted; never a second POST; then NeedsAttention → RefundStuck
    assert len(run.times("RequestRefund")) == 1
    assert run.gaps("Reconcile") == RECONCILE_GAPS
    assert run.path == ["RequestRefund", "Reconcile", "NeedsAttention", "RefundStuck"]
    assert_kept(run)
    assert run.refund["posted_at"] is not None
    assert run.metrics.count("RefundsNeedingAttention") == 1
    assert_failed_alarm(run, "RefundOutcomeUnknown")


def reconcile_rejected(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """The POST's connection closes, then Checkout.com answers 404 for the payment's actions."""
    wf.sim.faults.fail_next(1, status="close", path_prefix=REFUNDS, method="POST")
    wf.sim.faults.fail_next(1, status=404, path_prefix=ACTIONS, method="GET")
    return wf.refund(REFUND, monkeypatch=mp)


def check_reconcile_rejected(run: Run) -> None:
    # Reconcile's Catch [RefundRejected] → MarkFailed → RefundFailed, after one reconcile attempt
    assert len(run.times("Reconcile")) == 1
    assert run.path == ["RequestRefund", "Reconcile", "MarkFailed", "RefundFailed"]
    assert_released(run)
    assert_failed_alarm(run, "RefundRejected")


def no_webhook(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """Checkout.com refunds, but its webhook never comes (the simulator here delivers none)."""
    return wf.refund(REFUND, monkeypatch=mp)


def check_no_webhook(run: Run) -> None:
    # AwaitOutcome's TimeoutSeconds: States.Timeout after exactly the outcome timeout, Catch → Reconcile
    (waited,) = run.times("AwaitOutcome")
    assert run.times("Reconcile") == [waited + OUTCOME_TIMEOUT_S]
    assert any(what == "States.Timeout: caught -> Reconcile" for _, _, what in run.execution.history)
    assert run.path == ["RequestRefund", "AwaitOutcome", "Reconcile", "Finished", "Refunded"]
    assert_refunded(run)


def mark_failed_broken(wf: Workflow, mp: pytest.MonkeyPatch) -> Run:
    """Checkout.com refuses the refund and every attempt to record that fails (DynamoDB throttles)."""
    from botocore.exceptions import ClientError

    from qpay.adapters.store import PaymentStore

    def throttled(*_: Any, **__: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems")

    mp.setattr(PaymentStore, "close_refund", throttled)
    wf.sim.faults.fail_next(1, status=422, path_prefix=REFUNDS, method="POST")
    return wf.refund(REFUND, monkeypatch=mp)


def check_mark_failed_broken(run: Run) -> None:
    # MarkFailed's Retry [States.ALL] exhausted (2 s doubling, no cap), no Catch: the execution fails
    # with the task's error, and the reservation stays for the sweeper (never silently released)
    assert run.gaps("MarkFailed") == REQUEST_GAPS
    assert run.path == ["RequestRefund", "MarkFailed"]
    assert_kept(run)
    assert_failed_alarm(run, "ClientError")


SCENARIOS = {
    "request-retry-exhausted": (request_unavailable, check_request_unavailable),
    "request-refused": (request_refused, check_request_refused),
    "request-outcome-unknown": (request_outcome_unknown, check_request_outcome_unknown),
    "reconcile-retry-exhausted": (reconcile_outcome_unknown, check_reconcile_outcome_unknown),
    "reconcile-rejected": (reconcile_rejected, check_reconcile_rejected),
    "await-timeout": (no_webhook, check_no_webhook),
    "mark-failed-retry-exhausted": (mark_failed_broken, check_mark_failed_broken),
}

"""Every Retry exhausted, every Catch driven, the task-token timeout: where the refund ends, what the
ledger releases, which alarm fires (tests/workflow/scenarios.py)."""

from __future__ import annotations

import pytest

from tests.workflow.conftest import Workflow
from tests.workflow.scenarios import (
    OUTCOME_TIMEOUT_S,
    RECONCILE_GAPS,
    REFUND,
    REQUEST_GAPS,
    SCENARIOS,
    assert_kept,
    assert_refunded,
)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_failure_path(workflow: Workflow, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    drive, check = SCENARIOS[name]
    check(drive(workflow, monkeypatch))


def _named(name: str) -> Exception:
    """An error Step Functions would name ``name`` (the interpreter names an error by its class)."""
    return type(name, (Exception,), {})(f"injected {name}")


LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


@pytest.mark.parametrize("error", ["CheckoutUnavailable", *LAMBDA_ERRORS])
def test_request_refund_retries_each_error_of_its_retrier(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    workflow.fail_task["request"] = _named(error)
    run = workflow.refund(REFUND, monkeypatch=monkeypatch)
    assert run.gaps("RequestRefund") == REQUEST_GAPS
    assert run.path[:2] == ["RequestRefund", "Reconcile"]  # exhausted: Catch States.ALL


@pytest.mark.parametrize("error", ["OutcomeUnknown", "CheckoutUnavailable", *LAMBDA_ERRORS])
def test_reconcile_retries_each_error_of_its_retrier(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    workflow.fail_task["reconcile"] = _named(error)
    workflow.fail_task["await"] = _named("States.TaskFailed")  # straight to Reconcile, no hour's wait
    run = workflow.refund(REFUND, monkeypatch=monkeypatch)
    assert run.gaps("Reconcile") == RECONCILE_GAPS
    assert run.path[-2:] == ["NeedsAttention", "RefundStuck"]
    assert_kept(run, state="Pending")  # Checkout.com took it; the outcome is simply not known here


@pytest.mark.parametrize("error", ["RefundRejected", "ClientError", "Lambda.ServiceException"])
def test_mark_failed_retries_every_error(workflow: Workflow, monkeypatch: pytest.MonkeyPatch, error: str) -> None:
    workflow.fail_task["request"] = _named("RefundRejected")
    workflow.fail_task["fail"] = _named(error)
    run = workflow.refund(REFUND, monkeypatch=monkeypatch)
    assert run.gaps("MarkFailed") == REQUEST_GAPS
    assert (run.execution.status, run.execution.error) == ("FAILED", error)


def test_an_error_no_retrier_names_is_not_retried(workflow: Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """OutcomeUnknown at RequestRefund (a POST that may have reached Checkout.com) is never re-sent."""
    workflow.fail_task["request"] = _named("OutcomeUnknown")
    run = workflow.refund(REFUND, monkeypatch=monkeypatch)
    assert len(run.times("RequestRefund")) == 1
    assert run.path[:2] == ["RequestRefund", "Reconcile"]


def test_a_failed_wait_goes_to_reconcile_at_once(workflow: Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """AwaitOutcome has no Retry: its task failing (the token could not be stored) is caught → Reconcile."""
    workflow.fail_task["await"] = _named("Lambda.ServiceException")
    run = workflow.refund(REFUND, monkeypatch=monkeypatch)
    (waited,) = run.times("AwaitOutcome")
    assert run.times("Reconcile")[0] == waited
    assert run.path == ["RequestRefund", "AwaitOutcome", "Reconcile", "Finished", "Refunded"]
    assert_refunded(run)


def test_the_wait_has_a_timeout_and_no_heartbeat(workflow: Workflow) -> None:
    """A lost heartbeat cannot happen: no state sets HeartbeatSeconds (the await task returns at once
    after parking its token; nothing runs for the wait to heartbeat). The wait is bounded by
    TimeoutSeconds alone (test_failure_path[await-timeout]), and the execution has no overall
    TimeoutSeconds, so the ExecutionsTimedOut alarm cannot fire from these paths."""
    states = workflow.definition["States"]
    assert [n for n, s in states.items() if "HeartbeatSeconds" in s or "HeartbeatSecondsPath" in s] == []
    assert [n for n, s in states.items() if "TimeoutSeconds" in s] == ["AwaitOutcome"]
    assert states["AwaitOutcome"]["TimeoutSeconds"] == OUTCOME_TIMEOUT_S
    assert "TimeoutSeconds" not in workflow.definition

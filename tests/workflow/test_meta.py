"""The failure-path checks are sharp: an in-memory edit of the ASL of each kind (a retry count, an error
name, a catch target, the backoff, the wait's timeout) makes the check of the path it changes fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.workflow.conftest import Workflow
from tests.workflow.scenarios import SCENARIOS

Edit = Callable[[dict[str, Any]], None]


def _state(doc: dict[str, Any], name: str) -> dict[str, Any]:
    state: dict[str, Any] = doc["States"][name]
    return state


def retry_count(doc: dict[str, Any]) -> None:
    _state(doc, "RequestRefund")["Retry"][0]["MaxAttempts"] = 5


def backoff_rate(doc: dict[str, Any]) -> None:
    _state(doc, "Reconcile")["Retry"][0]["BackoffRate"] = 1.5


def retry_error_name(doc: dict[str, Any]) -> None:
    retrier = _state(doc, "Reconcile")["Retry"][0]
    retrier["ErrorEquals"] = [e for e in retrier["ErrorEquals"] if e != "OutcomeUnknown"]


def catch_target(doc: dict[str, Any]) -> None:
    _state(doc, "RequestRefund")["Catch"][0]["Next"] = "Reconcile"


def catch_error_name(doc: dict[str, Any]) -> None:
    _state(doc, "Reconcile")["Catch"][0]["ErrorEquals"] = ["CheckoutRejected"]


def wait_timeout(doc: dict[str, Any]) -> None:
    _state(doc, "AwaitOutcome")["TimeoutSeconds"] = 600


def mark_failed_retry_removed(doc: dict[str, Any]) -> None:
    del _state(doc, "MarkFailed")["Retry"]


@pytest.mark.parametrize(
    ("edit", "scenario"),
    [
        (retry_count, "request-retry-exhausted"),
        (backoff_rate, "reconcile-retry-exhausted"),
        (retry_error_name, "reconcile-retry-exhausted"),
        (catch_target, "request-refused"),
        (catch_error_name, "reconcile-rejected"),
        (wait_timeout, "await-timeout"),
        (mark_failed_retry_removed, "mark-failed-retry-exhausted"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_an_asl_edit_fails_the_check_of_its_path(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch, edit: Edit, scenario: str
) -> None:
    drive, check = SCENARIOS[scenario]
    mutant = workflow.edited(edit)
    assert mutant.definition != workflow.definition
    run = drive(mutant, monkeypatch)  # the mutant runs to an end
    with pytest.raises(AssertionError):
        check(run)

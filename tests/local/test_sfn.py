"""moto's Step Functions engine with Lambda tasks routed to in-process callables (sfn adapter)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from qpay_local import sfn
from qpay_local.stack import REPO_ROOT


class CheckoutUnavailable(Exception):
    pass


class RefundRejected(Exception):
    pass


TINY = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${Fn}", "Payload": {"task": "flaky", "n.$": "$.n"}},
            "ResultSelector": {"state.$": "$.Payload.state"},
            "ResultPath": "$.flaky",
            "Retry": [
                {"ErrorEquals": ["CheckoutUnavailable"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 1}
            ],
            "Catch": [{"ErrorEquals": ["RefundRejected"], "ResultPath": "$.error", "Next": "Rejected"}],
            "Next": "Await",
        },
        "Await": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "${Fn}", "Payload": {"task": "await", "token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 2,
            "ResultPath": "$.outcome",
            "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Rejected": {"Type": "Fail", "Error": "Rejected"},
        "TimedOut": {"Type": "Fail", "Error": "TimedOut"},
    },
}


class Tasks:
    def __init__(self, sfn_client: Any, *, transient: int, reject: bool, complete: bool) -> None:
        self.sfn = sfn_client
        self.transient = transient
        self.reject = reject
        self.complete = complete
        self.calls: list[str] = []

    def __call__(self, name: str, event: dict[str, Any]) -> Any:
        self.calls.append(event["task"])
        if event["task"] == "flaky":
            if self.reject:
                raise RefundRejected("no")
            if self.calls.count("flaky") <= self.transient:
                raise CheckoutUnavailable("try later")
            return {"state": "Requested"}
        if self.complete:
            self.sfn.send_task_success(taskToken=event["token"], output=json.dumps({"state": "Refunded"}))
        return None


@pytest.fixture(scope="module")
def machine(moto_world, tmp_path_factory):
    lam, iam, sfn_client = moto_world.client("lambda"), moto_world.client("iam"), moto_world.client("stepfunctions")
    arn = sfn.create_lambda(lam, iam, "tiny-tasks", "x.handler", 5, 128)
    path = Path(tmp_path_factory.mktemp("asl")) / "tiny.asl.yaml"
    path.write_text(json.dumps(TINY))  # JSON is YAML
    definition = sfn.render_definition(path, {"Fn": arn})
    role = sfn.ensure_role(iam, "tiny-role", "states.amazonaws.com")
    return sfn_client.create_state_machine(name="tiny", definition=definition, roleArn=role)["stateMachineArn"], arn


def run(moto_world, machine, tasks: Tasks, timeout: float = 15) -> dict[str, Any]:
    sm_arn, fn_arn = machine
    client = moto_world.client("stepfunctions")
    uninstall = sfn.install(lambda name: name in (fn_arn, "tiny-tasks"), tasks)
    try:
        ex = client.start_execution(stateMachineArn=sm_arn, input=json.dumps({"n": 1}))["executionArn"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            desc = client.describe_execution(executionArn=ex)
            if desc["status"] != "RUNNING":
                return desc
            time.sleep(0.05)
        raise AssertionError("execution did not finish")
    finally:
        uninstall()


def test_retry_on_transient_error_then_task_token_success(moto_world, machine):
    tasks = Tasks(moto_world.client("stepfunctions"), transient=2, reject=False, complete=True)
    desc = run(moto_world, machine, tasks)
    assert desc["status"] == "SUCCEEDED", desc
    assert tasks.calls == ["flaky", "flaky", "flaky", "await"]
    out = json.loads(desc["output"])
    assert out["flaky"] == {"state": "Requested"}
    assert out["outcome"] == {"state": "Refunded"}


def test_exception_class_name_is_the_error_and_catch_works(moto_world, machine):
    tasks = Tasks(moto_world.client("stepfunctions"), transient=0, reject=True, complete=True)
    desc = run(moto_world, machine, tasks)
    assert desc["status"] == "FAILED"
    assert desc.get("error") == "Rejected"
    assert tasks.calls == ["flaky"]  # RefundRejected is not retried


def test_wait_for_task_token_times_out(moto_world, machine):
    tasks = Tasks(moto_world.client("stepfunctions"), transient=0, reject=False, complete=False)
    started = time.monotonic()
    desc = run(moto_world, machine, tasks)
    assert desc["status"] == "FAILED"
    assert desc.get("error") == "TimedOut"
    assert time.monotonic() - started >= 1.9


def test_project_definition_renders_with_local_substitutions():
    path = REPO_ROOT / "infra" / "refund.asl.yaml"
    subs = {
        "RefundTaskFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "RetryIntervalSeconds": 1,
        "RetryMaxAttempts": 2,
        "RetryMaxDelaySeconds": 2,
        "OutcomeTimeoutSeconds": 5,
        "ReconcileIntervalSeconds": 1,
        "ReconcileMaxAttempts": 2,
        "ReconcileMaxDelaySeconds": 2,
    }
    doc = json.loads(sfn.render_definition(path, subs))
    assert doc["States"]["AwaitOutcome"]["TimeoutSeconds"] == 5
    assert doc["States"]["RequestRefund"]["Parameters"]["FunctionName"] == subs["RefundTaskFunctionArn"]
    with pytest.raises(KeyError):
        sfn.render_definition(path, {})

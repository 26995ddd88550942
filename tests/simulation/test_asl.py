"""The ASL interpreter's own semantics: Retry delays (backoff, cap, full jitter), Catch, the token wait's
timeout, Choice; and the real refund definition rendered with template.yaml's substitutions."""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from qpay_sim.asl import Interpreter, StepFunctionsDouble, Unsupported, retry_delay
from qpay_sim.world import refund_definition, substitutions

ARN = "arn:aws:states:me-central-1:123456789012:stateMachine:t"


class Timers:
    def __init__(self) -> None:
        self.t = 0
        self.q: list[tuple[int, int, Callable[[], Any]]] = []
        self.n = itertools.count()

    def now(self) -> int:
        return self.t

    def after(self, delay: int, label: str, fn: Callable[[], Any]) -> None:
        heapq.heappush(self.q, (self.t + delay, next(self.n), fn))

    def run(self, until: int = 10**9) -> None:
        while self.q and self.q[0][0] <= until:
            at, _, fn = heapq.heappop(self.q)
            self.t = at
            fn()
        self.t = max(self.t, min(until, self.t))


class Boom(Exception):
    pass


class Other(Exception):
    pass


def machine(retry: dict[str, Any], *, catch: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f",
            "Payload": {"x.$": "$.x"}}, "ResultSelector": {"v.$": "$.Payload.v"}, "ResultPath": "$.out",
            "Retry": [retry], "Next": "Done"}  # fmt: skip
    if catch:
        task["Catch"] = catch
    return {
        "StartAt": "T",
        "States": {"T": task, "Done": {"Type": "Succeed"}, "Caught": {"Type": "Fail", "Error": "X"}},
    }


def test_retry_delays_double_up_to_the_cap_without_jitter() -> None:
    retrier = {"IntervalSeconds": 2, "BackoffRate": 2.0, "MaxDelaySeconds": 120}
    assert [retry_delay(retrier, n, random.Random(0)) for n in range(1, 8)] == [2, 4, 8, 16, 32, 64, 120]


def test_full_jitter_draws_between_zero_and_the_capped_backoff() -> None:
    retrier = {"IntervalSeconds": 300, "BackoffRate": 2.0, "MaxDelaySeconds": 3600, "JitterStrategy": "FULL"}
    rng = random.Random(1)
    draws = [retry_delay(retrier, 6, rng) for _ in range(200)]
    assert all(0 <= d <= 3600 for d in draws)
    assert max(draws) > 3000 and min(draws) < 600  # spread over the whole range, capped at 3600 not 9600


def test_retries_happen_at_the_backoff_times_then_succeed() -> None:
    timers, calls = Timers(), []

    def invoke(fn: str, payload: dict[str, Any]) -> Any:
        calls.append(timers.now())
        if len(calls) < 4:
            raise Boom("not yet")
        return {"v": payload["x"] * 2}

    interp = Interpreter(machine({"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "MaxAttempts": 5}),
                         invoke=invoke, timers=timers, rng=random.Random(0))  # fmt: skip
    ex = interp.start("e", "e", {"x": 21})
    timers.run()
    assert calls == [0, 3, 9, 21]  # 3, 6, 12 s apart: BackoffRate 2.0 by default
    assert ex.status == "SUCCEEDED"
    assert ex.doc == {"x": 21, "out": {"v": 42}}


def test_exhausted_retries_fall_to_catch_with_the_error_and_cause() -> None:
    timers = Timers()

    def invoke(fn: str, payload: dict[str, Any]) -> Any:
        raise Boom("down")

    definition = machine({"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 2},
                         catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}])  # fmt: skip
    ex = Interpreter(definition, invoke=invoke, timers=timers, rng=random.Random(0)).start("e", "e", {"x": 1})
    timers.run()
    assert ex.status == "FAILED" and ex.error == "X"
    assert ex.doc["error"]["Error"] == "Boom" and json.loads(ex.doc["error"]["Cause"])["errorMessage"] == "down"
    assert [h[2] for h in ex.history if "retry" in h[2]] == ["Boom: retry 1 in 1 s", "Boom: retry 2 in 2 s"]


def test_an_error_no_retrier_names_is_not_retried() -> None:
    timers, calls = Timers(), []

    def invoke(fn: str, payload: dict[str, Any]) -> Any:
        calls.append(1)
        raise Other("x")

    ex = Interpreter(machine({"ErrorEquals": ["Boom"]}), invoke=invoke, timers=timers, rng=random.Random(0)).start(
        "e", "e", {"x": 1}
    )
    timers.run()
    assert calls == [1] and ex.status == "FAILED" and ex.error == "Other"


def token_machine(timeout: int) -> dict[str, Any]:
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                     "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                     "TimeoutSeconds": timeout, "ResultPath": "$.outcome",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Late"}],
                     "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.outcome.state", "StringEquals": "Refunded",
                                                     "Next": "Ok"}], "Default": "No"},
            "Ok": {"Type": "Succeed"}, "No": {"Type": "Fail", "Error": "No"}, "Late": {"Type": "Fail", "Error": "Late"},
        },
    }  # fmt: skip


def test_a_token_never_sent_times_out_into_catch_at_timeout_seconds() -> None:
    timers, tokens = Timers(), []
    interp = Interpreter(token_machine(3600), invoke=lambda f, p: tokens.append(p["token"]), timers=timers,
                         rng=random.Random(0))  # fmt: skip
    ex = interp.start("e", "e", {})
    timers.run(until=3599)
    assert ex.status == "RUNNING"
    timers.run()
    assert ex.status == "FAILED" and ex.error == "Late" and ex.doc["error"]["Error"] == "States.Timeout"
    assert ex.stopped_at == 3600
    sfn = StepFunctionsDouble(interp, ARN)
    with pytest.raises(ClientError) as err:
        sfn.send_task_success(taskToken=tokens[0], output="{}")
    assert err.value.response["Error"]["Code"] == "TaskTimedOut"


def test_a_token_sent_during_the_invocation_or_later_completes_the_wait_and_choice_reads_it() -> None:
    for during in (True, False):
        timers = Timers()
        interp = Interpreter(token_machine(3600), invoke=lambda f, p: None, timers=timers, rng=random.Random(0))
        sfn = StepFunctionsDouble(interp, ARN)
        if during:
            interp.invoke = lambda f, p, sfn=sfn: sfn.send_task_success(  # type: ignore[misc]
                taskToken=p["token"], output='{"state": "Refunded"}'
            )
        ex = interp.start("e", "e", {})
        timers.run(until=10)
        if not during:
            sfn.send_task_success(taskToken=next(iter(interp.tokens)), output='{"state": "Declined"}')
        timers.run()
        assert (ex.status, ex.error) == (("SUCCEEDED", None) if during else ("FAILED", "No"))


def test_the_double_answers_like_step_functions() -> None:
    timers = Timers()
    interp = Interpreter(token_machine(60), invoke=lambda f, p: None, timers=timers, rng=random.Random(0))
    sfn = StepFunctionsDouble(interp, ARN)
    started = sfn.start_execution(stateMachineArn=ARN, name="r1", input='{"a": 1}')
    assert sfn.describe_execution(executionArn=started["executionArn"])["status"] == "RUNNING"
    with pytest.raises(ClientError) as err:
        sfn.start_execution(stateMachineArn=ARN, name="r1", input='{"a": 2}')
    assert err.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    with pytest.raises(ClientError) as err:
        sfn.describe_execution(executionArn=started["executionArn"] + "x")
    assert err.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
    with pytest.raises(ClientError) as err:
        sfn.send_task_success(taskToken="garbage", output="{}")
    assert err.value.response["Error"]["Code"] == "InvalidToken"


def test_the_refund_definition_renders_with_the_template_numbers_and_is_fully_supported() -> None:
    subs = substitutions()
    assert (subs["RetryIntervalSeconds"], subs["ReconcileIntervalSeconds"], subs["OutcomeTimeoutSeconds"]) == (
        2,
        300,
        3600,
    )
    definition = refund_definition()
    Interpreter(definition, invoke=lambda f, p: None, timers=Timers(), rng=random.Random(0))  # refuses unknowns
    reconcile = definition["States"]["Reconcile"]["Retry"][0]
    assert reconcile["MaxAttempts"] == 6 and reconcile["MaxDelaySeconds"] == 3600


def test_unsupported_states_are_refused_by_name() -> None:
    with pytest.raises(Unsupported, match="Parallel"):
        Interpreter({"StartAt": "P", "States": {"P": {"Type": "Parallel"}}}, invoke=lambda f, p: None,
                    timers=Timers(), rng=random.Random(0))  # fmt: skip

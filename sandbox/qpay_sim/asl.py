"""An Amazon States Language interpreter in virtual time, for the refund workflow.

It runs the real ``infra/refund.asl.yaml`` (rendered with the template's DefinitionSubstitutions) and
implements what that file uses, refusing anything else by name instead of guessing:

- ``Task`` on ``arn:aws:states:::lambda:invoke`` (result ``{"Payload": …, "StatusCode": 200}``) and
  ``…:lambda:invoke.waitForTaskToken`` (``$$.Task.Token``, ``TimeoutSeconds`` → ``States.Timeout``);
  ``Parameters`` (``.$`` keys), ``ResultSelector``, ``ResultPath``; a Lambda error is named by its
  exception class (``errorType``), as Step Functions names it;
- ``Retry``: the first retrier whose ``ErrorEquals`` matches; delay = min(IntervalSeconds *
  BackoffRate^(n-1), MaxDelaySeconds), with ``JitterStrategy: FULL`` a uniform draw in [0, delay]
  (https://states-language.net/spec.html#retrying-after-error,
  https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_stepfunctions.JitterType.html); defaults
  IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0; counters live for one visit of the state;
- ``Catch`` (first match, ``ResultPath`` gets ``{"Error", "Cause"}``), ``States.ALL``;
- ``Choice`` (``StringEquals``, ``BooleanEquals``, ``NumericEquals``, ``IsPresent``, ``Default``),
  ``Succeed``, ``Fail``.

The Step Functions API the product calls (``start_execution``, ``describe_execution``,
``send_task_success``, ``send_task_failure``) is :class:`StepFunctionsDouble`, with the error codes AWS
answers (``ExecutionAlreadyExists``, ``ExecutionDoesNotExist``, ``TaskTimedOut``, ``InvalidToken``).
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_INVOKE_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"  # noqa: S105 - an ARN
STATES_ALL = "States.ALL"
STATES_TIMEOUT = "States.Timeout"


class Unsupported(Exception):
    """The definition uses something this interpreter does not implement."""


class Timers(Protocol):
    def now(self) -> int: ...

    def after(self, delay: int, label: str, fn: Callable[[], Any]) -> None: ...


Invoke = Callable[[str, dict[str, Any]], Any]


# ----------------------------------------------------------------------------- JSON paths
def read_path(doc: Any, path: str, context: dict[str, Any] | None = None) -> Any:
    """``$``, ``$.a.b`` and ``$$.a.b`` (the context object). Raises KeyError when absent."""
    if path.startswith("$$"):
        root, rest = context or {}, path[2:]
    elif path.startswith("$"):
        root, rest = doc, path[1:]
    else:
        raise Unsupported(f"path {path!r}")
    node = root
    for part in [p for p in rest.split(".") if p]:
        if "[" in part or "*" in part:
            raise Unsupported(f"path {path!r}")
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def write_path(doc: Any, path: str | None, value: Any) -> Any:
    """``ResultPath``: ``None`` keeps the input, ``$`` replaces it, ``$.a.b`` sets inside a copy."""
    if path is None:
        return doc
    if path == "$":
        return value
    if not path.startswith("$."):
        raise Unsupported(f"ResultPath {path!r}")
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    node = out
    parts = path[2:].split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def render(template: Any, doc: Any, context: dict[str, Any]) -> Any:
    """``Parameters`` / ``ResultSelector``: keys ending in ``.$`` are paths, the rest literal."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = read_path(doc, str(value), context)
            else:
                out[key] = render(value, doc, context)
        return out
    if isinstance(template, list):
        return [render(v, doc, context) for v in template]
    return template


def matches(error_equals: list[str], error: str) -> bool:
    return STATES_ALL in error_equals or error in error_equals


def retry_delay(retrier: dict[str, Any], attempt: int, rng: random.Random) -> float:
    """The wait before retry number ``attempt`` (1-based)."""
    interval = float(retrier.get("IntervalSeconds", 1))
    rate = float(retrier.get("BackoffRate", 2.0))
    delay = interval * rate ** (attempt - 1)
    cap = retrier.get("MaxDelaySeconds")
    if cap is not None:
        delay = min(delay, float(cap))
    if retrier.get("JitterStrategy", "NONE") == "FULL":
        delay = rng.uniform(0, delay)
    return delay


def choose(state: dict[str, Any], doc: Any) -> str:
    for rule in state.get("Choices", []):
        if _rule_holds(rule, doc):
            return str(rule["Next"])
    if "Default" not in state:
        raise TaskError("States.NoChoiceMatched", "no choice matched")
    return str(state["Default"])


def _rule_holds(rule: dict[str, Any], doc: Any) -> bool:
    variable = str(rule["Variable"])
    try:
        value = read_path(doc, variable)
        present = True
    except KeyError:
        value, present = None, False
    if "IsPresent" in rule:
        return present is bool(rule["IsPresent"])
    if not present:
        return False
    for op, want in rule.items():
        if op == "StringEquals":
            return isinstance(value, str) and value == want
        if op == "BooleanEquals":
            return isinstance(value, bool) and value is want
        if op == "NumericEquals":
            return isinstance(value, int | float) and not isinstance(value, bool) and value == want
    raise Unsupported(f"choice rule {sorted(rule)}")


class TaskError(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


# ----------------------------------------------------------------------------- executions
@dataclass
class Execution:
    arn: str
    name: str
    input: dict[str, Any]
    status: str = "RUNNING"
    state: str = ""
    doc: Any = None
    error: str | None = None
    started_at: int = 0
    stopped_at: int | None = None
    history: list[tuple[int, str, str]] = field(default_factory=list)  # (time, state, what)
    retries: dict[int, int] = field(default_factory=dict)  # retrier index -> attempts, this visit
    token: str | None = None
    token_done: tuple[str, Any] | None = None  # ("success", output) / ("failure", (error, cause))
    visit: int = 0


class Interpreter:
    def __init__(
        self, definition: dict[str, Any], *, invoke: Invoke, timers: Timers, rng: random.Random, label: str = "sfn"
    ) -> None:
        self.definition = definition
        self.invoke = invoke
        self.timers = timers
        self.rng = rng
        self.label = label
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, Execution] = {}
        self._tokens_made = 0
        self.on_transition: Callable[[Execution, str], None] = lambda ex, what: None
        for name, state in definition["States"].items():
            if state["Type"] not in ("Task", "Choice", "Succeed", "Fail"):
                raise Unsupported(f"state {name}: type {state['Type']}")
            if state["Type"] == "Task" and state["Resource"] not in (LAMBDA_INVOKE, LAMBDA_INVOKE_TOKEN):
                raise Unsupported(f"state {name}: resource {state['Resource']}")

    def start(self, arn: str, name: str, doc: dict[str, Any]) -> Execution:
        ex = Execution(arn=arn, name=name, input=doc, doc=copy.deepcopy(doc), started_at=self.timers.now())
        self.executions[arn] = ex
        self._enter(ex, str(self.definition["StartAt"]), delay=0)
        return ex

    # -- transitions ---------------------------------------------------------------------------
    def _enter(self, ex: Execution, state: str, *, delay: int) -> None:
        ex.state, ex.retries, ex.visit = state, {}, ex.visit + 1
        self._schedule(ex, delay)

    def _schedule(self, ex: Execution, delay: int) -> None:
        visit = ex.visit

        def run() -> None:
            if ex.status == "RUNNING" and ex.visit == visit:
                self._run(ex)

        self.timers.after(delay, f"{self.label} {ex.name} {ex.state}", run)

    def _log(self, ex: Execution, what: str) -> None:
        ex.history.append((self.timers.now(), ex.state, what))
        self.on_transition(ex, what)

    def _run(self, ex: Execution) -> None:
        state = self.definition["States"][ex.state]
        kind = state["Type"]
        if kind == "Succeed":
            self._stop(ex, "SUCCEEDED", None)
        elif kind == "Fail":
            self._stop(ex, "FAILED", str(state.get("Error", "States.Fail")))
        elif kind == "Choice":
            try:
                nxt = choose(state, ex.doc)
            except TaskError as err:
                self._stop(ex, "FAILED", err.error)
                return
            self._log(ex, f"choice -> {nxt}")
            self._enter(ex, nxt, delay=0)
        else:
            self._task(ex, state)

    def _stop(self, ex: Execution, status: str, error: str | None) -> None:
        ex.status, ex.error, ex.stopped_at = status, error, self.timers.now()
        self._log(ex, status + (f" {error}" if error else ""))
        if ex.token:
            self.tokens.pop(ex.token, None)
            ex.token = None

    def _task(self, ex: Execution, state: dict[str, Any]) -> None:
        waits = state["Resource"] == LAMBDA_INVOKE_TOKEN
        context: dict[str, Any] = {"Execution": {"Id": ex.arn, "Name": ex.name}, "State": {"Name": ex.state}}
        if waits:
            self._tokens_made += 1
            token = f"tok-{self._tokens_made:06d}-{ex.name}"
            ex.token, ex.token_done = token, None
            self.tokens[token] = ex
            context["Task"] = {"Token": token}
        params = render(state.get("Parameters", {}), ex.doc, context)
        function = str(params.get("FunctionName"))
        payload = params.get("Payload", {})
        visit = ex.visit
        try:
            result = self.invoke(function, payload)
        except Exception as exc:
            if ex.visit != visit or ex.status != "RUNNING":
                return
            self._drop_token(ex)
            self._error(ex, state, type(exc).__name__, json.dumps({"errorMessage": str(exc)}))
            return
        if ex.visit != visit or ex.status != "RUNNING":
            return
        if not waits:
            self._log(ex, "task ok")
            self._succeed(ex, state, {"Payload": result, "StatusCode": 200})
            return
        if ex.token_done is not None:
            self._token_outcome(ex, state)
            return
        self._log(ex, "waiting for its token")
        timeout = state.get("TimeoutSeconds")
        if timeout is not None:
            awaited = ex.token

            def expire() -> None:
                if ex.status == "RUNNING" and ex.visit == visit and ex.token == awaited and ex.token_done is None:
                    self._drop_token(ex)
                    self._error(ex, state, STATES_TIMEOUT, "task timed out")

            self.timers.after(int(timeout), f"{self.label} {ex.name} {ex.state} timeout", expire)

    def _drop_token(self, ex: Execution) -> None:
        if ex.token:
            self.tokens.pop(ex.token, None)
        ex.token = None

    def _token_outcome(self, ex: Execution, state: dict[str, Any]) -> None:
        assert ex.token_done is not None
        kind, value = ex.token_done
        self._drop_token(ex)
        if kind == "success":
            self._log(ex, "token success")
            self._succeed(ex, state, value)
        else:
            error, cause = value
            self._error(ex, state, error, cause)

    def _succeed(self, ex: Execution, state: dict[str, Any], result: Any) -> None:
        if "ResultSelector" in state:
            result = render(state["ResultSelector"], result, {})
        ex.doc = write_path(ex.doc, state.get("ResultPath", "$"), result)
        self._next(ex, state)

    def _next(self, ex: Execution, state: dict[str, Any]) -> None:
        if state.get("End"):
            self._stop(ex, "SUCCEEDED", None)
            return
        self._enter(ex, str(state["Next"]), delay=0)

    def _error(self, ex: Execution, state: dict[str, Any], error: str, cause: str) -> None:
        for index, retrier in enumerate(state.get("Retry", [])):
            if not matches(list(retrier["ErrorEquals"]), error):
                continue
            attempts = ex.retries.get(index, 0)
            if attempts < int(retrier.get("MaxAttempts", 3)):
                ex.retries[index] = attempts + 1
                delay = math.ceil(retry_delay(retrier, attempts + 1, self.rng))
                self._log(ex, f"{error}: retry {attempts + 1} in {delay} s")
                self._schedule(ex, delay)
                return
            break  # the first matching retrier decides; exhausted → Catch
        for catcher in state.get("Catch", []):
            if matches(list(catcher["ErrorEquals"]), error):
                self._log(ex, f"{error}: caught -> {catcher['Next']}")
                ex.doc = write_path(ex.doc, catcher.get("ResultPath", "$"), {"Error": error, "Cause": cause})
                self._enter(ex, str(catcher["Next"]), delay=0)
                return
        self._stop(ex, "FAILED", error)

    # -- the API's token calls -----------------------------------------------------------------
    def complete(self, token: str, outcome: tuple[str, Any]) -> None:
        ex = self.tokens.get(token)
        if ex is None or ex.status != "RUNNING":
            known = any(token.endswith(e.name) for e in self.executions.values())
            raise _client_error("TaskTimedOut" if known else "InvalidToken", "Task Timed Out", "SendTaskSuccess")
        if ex.token_done is not None:
            raise _client_error("TaskTimedOut", "Task already completed", "SendTaskSuccess")
        ex.token_done = outcome
        state = self.definition["States"][ex.state]
        if self._waiting(ex):
            visit = ex.visit

            # the execution moves on in its own process, as Step Functions does after the API call returns
            def go() -> None:
                if ex.status == "RUNNING" and ex.visit == visit and ex.token_done is not None:
                    self._token_outcome(ex, state)

            self.timers.after(0, f"{self.label} {ex.name} {ex.state} resumed", go)

    def _waiting(self, ex: Execution) -> bool:
        return bool(ex.history) and ex.history[-1][2] == "waiting for its token" and ex.history[-1][1] == ex.state


def _client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class StepFunctionsDouble:
    """The four Step Functions calls the product makes, on the interpreter (one state machine)."""

    def __init__(self, interpreter: Interpreter, state_machine_arn: str) -> None:
        self.interpreter = interpreter
        self.arn = state_machine_arn

    def _execution_arn(self, name: str) -> str:
        return self.arn.replace(":stateMachine:", ":execution:", 1) + ":" + name

    def start_execution(self, *, stateMachineArn: str, name: str, input: str = "{}") -> dict[str, Any]:
        if stateMachineArn != self.arn:
            raise _client_error("StateMachineDoesNotExist", stateMachineArn, "StartExecution")
        arn = self._execution_arn(name)
        existing = self.interpreter.executions.get(arn)
        if existing is not None:
            if existing.status == "RUNNING" and existing.input == json.loads(input):
                return {"executionArn": arn, "startDate": existing.started_at}  # idempotent start
            raise _client_error("ExecutionAlreadyExists", arn, "StartExecution")
        ex = self.interpreter.start(arn, name, json.loads(input))
        return {"executionArn": arn, "startDate": ex.started_at}

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        ex = self.interpreter.executions.get(executionArn)
        if ex is None:
            raise _client_error("ExecutionDoesNotExist", executionArn, "DescribeExecution")
        return {"executionArn": executionArn, "status": ex.status, "name": ex.name}

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:
        self.interpreter.complete(taskToken, ("success", json.loads(output)))
        return {}

    def send_task_failure(self, *, taskToken: str, error: str = "", cause: str = "") -> dict[str, Any]:
        self.interpreter.complete(taskToken, ("failure", (error, cause)))
        return {}

"""The refund state machine's failure paths: infra/refund.asl.yaml (with template.yaml's
DefinitionSubstitutions, the numbers as deployed) run by qpay_sim's ASL interpreter in virtual time, its
Lambda tasks the REAL ``qpay.handlers.refund_tasks`` handler on moto's DynamoDB, Checkout.com the
simulator over HTTP (faults injected there), Step Functions' API the interpreter's double.

Virtual time: the interpreter's waits (Retry backoff, TimeoutSeconds) are timers on a heap, so a
3-hour reconciliation runs in milliseconds; the product's clock follows the virtual one. Jitter
(``JitterStrategy: FULL``, a uniform draw in [0, delay]) is drawn at its upper bound, so the test sees
the backoff's ceiling for each attempt exactly.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from qpay_sim.asl import Execution, Interpreter, StepFunctionsDouble
from qpay_sim.world import REFUND_TASK_ARN, refund_definition

from qpay import clock as product_clock
from qpay import deps
from tests.conftest import base_env, body_of, create_body, invoke_create, invoke_webhook
from tests.support.apigw import FakeContext, http_event
from tests.support.webhooks import notification

CARD = {"card": "4215375500883243", "expiry": "12/30", "pin": "123456"}
STATE_MACHINE_ARN = base_env()["REFUND_STATE_MACHINE_ARN"]
TASK_STATE = {"request": "RequestRefund", "await": "AwaitOutcome", "reconcile": "Reconcile", "fail": "MarkFailed"}
TASK_STATE["attention"] = "NeedsAttention"


class VirtualTimers:
    """The interpreter's ``Timers``: callbacks on a heap, run in time order, time jumps to each."""

    def __init__(self) -> None:
        self.t = 0
        self._heap: list[tuple[int, int, str, Callable[[], Any]]] = []
        self._seq = itertools.count()

    def now(self) -> int:
        return self.t

    def after(self, delay: int, label: str, fn: Callable[[], Any]) -> None:
        heapq.heappush(self._heap, (self.t + int(delay), next(self._seq), label, fn))

    def run(self, max_steps: int = 10_000) -> None:
        for _ in range(max_steps):
            if not self._heap:
                return
            self.t, _, _, fn = heapq.heappop(self._heap)
            fn()
        raise AssertionError("the workflow did not settle")


class CeilingJitter(random.Random):
    """FULL jitter's draw at its upper bound: each wait is the backoff's ceiling for that attempt."""

    def uniform(self, a: float, b: float) -> float:
        return b


@dataclass
class Run:
    """One refund through the workflow: where it ended and what happened on the way."""

    execution: Execution
    invocations: list[tuple[int, str]]  # (virtual time, state) of every task invocation
    refund: dict[str, Any]
    payment: dict[str, Any]
    metrics: list[str]  # the product's EMF metric names emitted during the run

    def times(self, state: str) -> list[int]:
        return [t for t, s in self.invocations if s == state]

    def gaps(self, state: str) -> list[int]:
        t = self.times(state)
        return [b - a for a, b in itertools.pairwise(t)]

    @property
    def path(self) -> list[str]:
        """The states in the order they were entered (consecutive attempts collapsed)."""
        out: list[str] = []
        for _, state, _ in self.execution.history:
            if not out or out[-1] != state:
                out.append(state)
        return out


@dataclass
class Workflow:
    sim: Any
    capfd: Any
    definition: dict[str, Any] = field(default_factory=refund_definition)
    fail_task: dict[str, Exception] = field(default_factory=dict)  # task -> raised on every invocation

    def edited(self, edit: Callable[[dict[str, Any]], None]) -> Workflow:
        """The same world with an in-memory edit of the ASL (for the meta-tests)."""
        definition = copy.deepcopy(self.definition)
        edit(definition)
        return Workflow(self.sim, self.capfd, definition, dict(self.fail_task))

    def captured(self, amount: int = 12500) -> tuple[str, str]:
        reference = f"ORD-{uuid.uuid4().hex[:10]}"
        pid = str(body_of(invoke_create(create_body(reference=reference, amount=amount)))["id"])
        cko = next(p.id for p in self.sim.payments.values() if p.reference == reference)
        self.sim.pay(cko, **CARD)
        answer = invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=amount))
        assert answer["statusCode"] == 200
        return pid, cko

    def refund(self, amount: int = 5000, *, monkeypatch: pytest.MonkeyPatch) -> Run:
        """Capture a payment, ask for a refund through the real refund-request handler, run the
        execution it starts to its end."""
        pid, _ = self.captured()
        timers = VirtualTimers()
        invocations: list[tuple[int, str]] = []

        def invoke(function: str, payload: dict[str, Any]) -> Any:
            from qpay.handlers import refund_tasks

            assert function == REFUND_TASK_ARN
            task = str(payload["task"])
            invocations.append((timers.now(), TASK_STATE[task]))
            if task in self.fail_task:
                raise self.fail_task[task]
            return refund_tasks.handler(json.loads(json.dumps(payload)), FakeContext())

        interpreter = Interpreter(self.definition, invoke=invoke, timers=timers, rng=CeilingJitter())
        double = StepFunctionsDouble(interpreter, STATE_MACHINE_ARN)
        base = int(time.time())
        monkeypatch.setattr(deps, "stepfunctions", lambda: double)
        monkeypatch.setattr(product_clock, "now", lambda: base + timers.now())
        self.capfd.readouterr()
        from qpay.handlers import refund_request

        event = http_event(
            "POST",
            f"/payments/{pid}/refunds",
            route="POST /payments/{id}/refunds",
            path_params={"id": pid},
            body={"amount": amount},
            headers={"idempotency-key": uuid.uuid4().hex},
            iam_user_arn="arn:aws:iam::123456789012:user/backoffice",
        )
        answer = refund_request.handler(event, FakeContext())
        assert answer["statusCode"] == 202, answer
        refund_id = str(body_of(answer)["id"])
        timers.run()
        (execution,) = interpreter.executions.values()
        assert execution.status != "RUNNING", execution.history
        out = self.capfd.readouterr().out
        store = deps.store()
        refund = store.get_refund(pid, refund_id)
        payment = store.get_payment(pid)
        assert refund is not None and payment is not None
        return Run(execution, invocations, _plain(refund), _plain(payment), _metric_names(out))


def _plain(record: Any) -> dict[str, Any]:
    import dataclasses

    return {k: getattr(v, "value", v) for k, v in dataclasses.asdict(record).items()}


def _metric_names(stdout: str) -> list[str]:
    names: list[str] = []
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        doc = json.loads(line)
        names += [m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    return names


@pytest.fixture
def workflow(aws: Any, sim: Any, capfd: Any, monkeypatch: pytest.MonkeyPatch) -> Workflow:
    # one HTTP attempt per task invocation (the client's own bounded retries are tested elsewhere): the
    # workflow's Retry is what is counted here
    monkeypatch.setenv("CHECKOUT_MAX_ATTEMPTS", "1")
    deps.reset()
    return Workflow(sim, capfd)

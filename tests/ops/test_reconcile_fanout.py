"""The scheduled reconciliation fan-out (infra/reconcile.asl.yaml, template.yaml ``ReconcileStateMachine``)
run by moto's Step Functions engine (the real ASL: Map, MaxConcurrencyPath, intrinsics, Retry, Catch):
one ReconcileFunction invocation per (changed-by-day shard, part), never more at once than asked, the
Checkout.com read budget shared by the runs at once, a failed invocation not stopping the others, and
-- routed to the product's handler against the simulator -- every shard's drift repaired."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from qpay import deps
from qpay.adapters.store import change_day
from qpay.adapters.store.keys import SHARDS, shard
from qpay.handlers import reconcile as reconcile_handler
from qpay_bench import costinputs
from qpay_local import sfn
from tests.ops.conftest import CARD, new_payment
from tests.support.apigw import FakeContext

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "infra/reconcile.asl.yaml"
ENGINE = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def schedule_input(parts: int, concurrency: int, sample_every: int = 1, checkout_rps: int = 30) -> dict[str, Any]:
    """What the template's schedule sends (template.yaml ``ReconcileStateMachine`` ``Daily.Input``)."""
    options = {"sample_every": sample_every, "checkout_rps": checkout_rps, "runs_at_once": concurrency}
    return {"parts": parts, "concurrency": concurrency, "options": options}


class Machine:
    def __init__(self, invoke: Callable[[dict[str, Any]], Any]) -> None:
        self.invoke = invoke

    def run(self, execution_input: dict[str, Any], timeout_s: float = 300.0) -> dict[str, Any]:
        lam, iam, states = boto3.client("lambda"), boto3.client("iam"), boto3.client("stepfunctions")
        arn = sfn.create_lambda(lam, iam, "qpay-reconcile", "qpay.handlers.reconcile.handler", 900, 512)
        uninstall = sfn.install(lambda name: "qpay-reconcile" in name, lambda _name, event: self.invoke(event))
        try:
            definition = sfn.render_definition(ASL, {"ReconcileFunctionArn": arn, "RetryIntervalSeconds": 1})
            role = sfn.ensure_role(iam, "qpay-reconcile-machine", "states.amazonaws.com")
            machine = states.create_state_machine(name="reconcile", definition=definition, roleArn=role)
            started = states.start_execution(
                stateMachineArn=machine["stateMachineArn"], input=json.dumps(execution_input)
            )
            deadline = time.monotonic() + timeout_s
            while True:
                done = states.describe_execution(executionArn=started["executionArn"])
                if done["status"] != "RUNNING" or time.monotonic() > deadline:
                    events = states.get_execution_history(executionArn=started["executionArn"], maxResults=1000)
                    entered = [e for e in events["events"] if e["type"].endswith("StateEntered")]
                    return {**done, "states_entered": len(entered)}
                time.sleep(0.05)
        finally:
            uninstall()


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in {"AWS_DEFAULT_REGION": "me-central-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws(config=ENGINE):  # type: ignore[arg-type]
        yield


class Recorder:
    """Records each invocation's event and how many ran at once."""

    def __init__(self, fail_shard: int | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.in_flight = 0
        self.most = 0
        self.fail_shard = fail_shard
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.events.append(event)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(0.02)  # long enough for runs to overlap when the Map lets them
            if event["shards"] == [self.fail_shard]:
                raise RuntimeError("the invocation timed out")
            return {"checked": 1, "scope": f"shards-{event['shards'][0]}"}
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.mark.parametrize(("parts", "concurrency"), [(1, 4), (4, 3)])
def test_every_shard_and_part_is_invoked_once_within_the_concurrency(
    engine: None, parts: int, concurrency: int
) -> None:
    calls = Recorder()
    done = Machine(calls).run(schedule_input(parts, concurrency, sample_every=256))
    assert done["status"] == "SUCCEEDED", done
    seen = sorted((e["shards"][0], tuple(e["part"])) for e in calls.events)
    assert seen == sorted((s, (k, parts)) for s in range(SHARDS) for k in range(parts))  # each exactly once
    assert 1 <= calls.most <= concurrency
    # the cost model bills what the engine ran (make bench: the fixed monthly part)
    fan = costinputs.FanOut(SHARDS, parts, concurrency, 30.0, 256)
    assert done["states_entered"] == fan.transitions
    print(
        f"[fan-out] parts {parts}, MaxConcurrency {concurrency}: {len(calls.events)} invocations, at most {calls.most} at once"
    )
    for event in calls.events:
        assert reconcile_handler._int_list(event["shards"]) == event["shards"]  # the handler accepts it
        assert reconcile_handler._part(event["part"]) == (None if parts == 1 else tuple(event["part"]))
        assert event["sample_every"] == 256
        assert reconcile_handler.read_budget(event) * concurrency == pytest.approx(30.0)  # one shared budget


def test_a_failed_invocation_does_not_stop_the_other_shards(engine: None) -> None:
    calls = Recorder(fail_shard=5)
    done = Machine(calls).run(schedule_input(1, 4))
    assert done["status"] == "SUCCEEDED", done
    assert sorted(e["shards"][0] for e in calls.events) == list(range(SHARDS))  # shard 5 failed; none skipped


def test_the_read_budget_is_shared_and_a_whole_shard_is_not_a_part() -> None:
    assert reconcile_handler.read_budget({}) == reconcile_handler.DEFAULT_CHECKOUT_RPS
    assert reconcile_handler.read_budget({"checkout_rps": 30, "runs_at_once": 8}) == 3.75
    with pytest.raises(ValueError, match="runs_at_once"):
        reconcile_handler.read_budget({"checkout_rps": 30, "runs_at_once": 0})
    assert reconcile_handler._part([0, 1]) is None  # the same scope and report as no part
    assert reconcile_handler._part([1, 2]) == (1, 2)


def test_the_scheduled_fan_out_repairs_drift_in_every_shard_it_covers(aws: Any, sim: Any) -> None:
    """The product's handler behind the state machine, against the simulator: payments captured at Checkout
    with every webhook lost are repaired, one report per shard scope (one run at a time: moto's DynamoDB
    is not thread-safe, a limit of the test double)."""
    made = [new_payment(sim, f"ORD-FAN{i}") for i in range(6)]
    for _pid, cko in made:
        sim.pay(cko, **CARD)  # captured at Checkout; both webhooks lost
    results: list[dict[str, Any]] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        result = reconcile_handler.handler(event, FakeContext(900))
        results.append(result)
        return result

    with patch.dict(default_user_config, ENGINE):
        done = Machine(handler).run(schedule_input(1, 1), timeout_s=600)
    assert done["status"] == "SUCCEEDED", done
    assert sorted(r["scope"] for r in results) == sorted(f"shards-{n}" for n in range(SHARDS))
    assert sum(r["checked"] for r in results) == len(made)  # every payment in exactly one shard's run
    assert sum(r["fixed"] for r in results) == len(made), results
    store = deps.store()
    for pid, _cko in made:
        assert store.get_payment(pid).captured_amount == 12500
        assert aws.item(f"REPORT#{change_day(int(time.time()))}#shards-{shard(pid)}", "REPORT") is not None

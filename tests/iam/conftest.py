"""IAM proven by the calls: the whole product on the local stack with every AWS call its functions make
recorded (tests/support/aws_calls.py), then judged against the transformed template's policies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from qpay import clock
from qpay_local.ids import ACCOUNT_ID
from qpay_local.stack import LocalStack
from tests.deploy.conftest import ROOT, tool_python  # noqa: F401 - the gate's virtualenv fixture
from tests.e2e.conftest import Shop
from tests.local.flows import expire_by_ttl
from tests.support import iam
from tests.support.aws_calls import Call, CallRecorder, current_local_function, recording


def transform(python: Path, template: Path, *, region: str, stack_name: str) -> dict[str, Any]:
    return iam.transform(python, template, region=region, account=ACCOUNT_ID, stack_name=stack_name)


@dataclass
class Recorded:
    stack: LocalStack
    calls: list[Call]
    transformed: dict[str, Any]


def _drive(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each function's main paths: create, return, webhook, status, refund (request, the state
    machine's tasks, the webhook that completes it), a refund Checkout.com refuses, the outbox, TTL
    expiry, the sweep and the daily reconciliation."""
    stack = shop.stack
    sim = stack.sim
    assert sim is not None
    paid = shop.create(amount=12500)
    shop.pay(paid)
    assert shop.get(paid["id"])["status"] == "Captured"
    assert shop.refund(paid["id"], 2500).status_code == 202
    stack.drain(timeout=60)
    refunds = "/payments/*/refunds"
    sim.faults.fail_next(1, status="accept_then_503", path_prefix=refunds, method="POST")  # -> Reconcile
    assert shop.refund(paid["id"], 2500).status_code == 202
    stack.drain(timeout=60)
    sim.faults.fail_next(1, status=422, path_prefix=refunds, method="POST")  # refused -> MarkFailed
    assert shop.refund(paid["id"], 1000).status_code == 202
    stack.drain(timeout=60)
    view = shop.get(paid["id"])
    assert sorted(r["status"] for r in view["refunds"]) == ["Failed", "Refunded", "Refunded"], view["refunds"]

    # a refund whose webhook is late and whose execution an operator stopped, two hours on: the sweep
    # finds it open, checks its execution and starts a new one
    sim.webhooks.pause()
    assert shop.refund(paid["id"], 500).status_code == 202
    sfn = stack.client("stepfunctions")
    machine = stack.state_machine_arns["RefundStateMachine"]
    for ex in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
        sfn.stop_execution(executionArn=ex["executionArn"])
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + 7200)
    stack.trigger_schedule("SweepFunction")
    monkeypatch.setattr(clock, "now", real_now)
    sim.webhooks.resume()
    stack.drain(timeout=60)
    late = [r for r in shop.get(paid["id"])["refunds"] if r["amount"] == 500]
    assert [r["status"] for r in late] == ["Refunded"], late

    expiring = shop.create()
    assert expire_by_ttl(shop, expiring, monkeypatch)[0] == "Expired"

    abandoned = shop.create()
    sim.webhooks.pause()  # Checkout.com's webhook is late: the sweep finds the payment open past its deadline
    sim.cancel(shop.cko_id(abandoned))
    monkeypatch.setattr(clock, "now", lambda: real_now() + 7200)
    stack.trigger_schedule("SweepFunction")
    monkeypatch.setattr(clock, "now", real_now)
    sim.webhooks.resume()
    stack.drain()
    assert shop.get(abandoned["id"])["status"] == "Canceled"
    # the order's reference again, after its payment ended: the create checks the old owner is dead
    # (a ConditionCheck item in the create's transaction)
    again = shop.create(reference=abandoned["reference"])
    assert again["id"] != abandoned["id"]
    stack.trigger_schedule("ReconcileStateMachine")  # the daily fan-out: one ReconcileFunction run per shard
    stack.drain(300)


@pytest.fixture(scope="module")
def recorded(tool_python: Path) -> Iterator[Recorded]:  # noqa: F811 - the imported fixture
    recorder = CallRecorder(current_local_function)
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        recording(recorder),
        LocalStack(
            api_port=0,
            sim_port=0,
            time_scale=0.001,
            ttl_interval_s=0,
            schedule_interval_s=None,
            # every read of the keys goes to Secrets Manager: in-process, the functions share one cache
            # where in Lambda each has its own container (and so its own first read)
            overrides={"SECRET_MAX_AGE_S": "0"},
        ) as stack,
        httpx.Client(timeout=30) as http,
    ):
        _drive(Shop(stack, http), monkeypatch)
        calls = recorder.snapshot()
        doc = transform(tool_python, ROOT / "template.yaml", region=stack.region, stack_name=stack.stack_name)
        yield Recorded(stack, calls, doc)

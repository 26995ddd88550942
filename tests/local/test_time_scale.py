"""``--time-scale`` compresses every clock of the local stack: the product's expiry timers (through
their env settings), Checkout's payment lifetime, the schedules and the refund workflow's waits."""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest

from qpay_local import timing
from qpay_local.banner import example_create_body
from qpay_local.schedules import Scheduler
from qpay_local.stack import DEFAULT_TEMPLATE, LocalStack
from qpay_local.template import Template

SCALE = 0.002


def test_product_defaults_are_the_products():
    from dataclasses import fields

    from qpay.settings import Settings

    defaults = {f.name.upper(): f.default for f in fields(Settings)}
    for name, default in timing.PRODUCT_TIMERS.items():
        assert defaults[name] == default, name


def test_scaling_rules():
    env = timing.product_env({"EXPIRY_WINDOW_S": "1200"}, 0.01)
    assert env == {
        "EXPIRY_WINDOW_S": "12",
        "EXPIRY_REARM_BASE_S": "3",
        "EXPIRY_REARM_CAP_S": "36",
        "EXPIRY_MAX_AGE_S": "1728",
        "CREATE_LEASE_S": "5",  # floor: longer than a local Checkout call
        "REFUND_SWEEP_AFTER_S": "9",
        "RECONCILE_OPEN_REFUND_GRACE_S": "216",
    }
    assert timing.product_env({}, 1.0)["EXPIRY_MAX_AGE_S"] == str(48 * 3600)
    subs = timing.workflow_substitutions(
        {"RetryIntervalSeconds": 2, "OutcomeTimeoutSeconds": "3600", "RetryMaxAttempts": 6, "Arn": "x"}, 0.01
    )
    assert subs == {"RetryIntervalSeconds": 1, "OutcomeTimeoutSeconds": 36, "RetryMaxAttempts": 6, "Arn": "x"}
    assert timing.schedule_period_s("rate(15 minutes)") == 900
    assert timing.schedule_period_s("rate(1 day)") == 86400
    assert timing.schedule_period_s("cron(15 3 * * ? *)") == 86400
    assert timing.schedule_period_s("cron(0/5 * * * ? *)") == 60
    with pytest.raises(ValueError):
        timing.schedule_period_s("every tuesday")


def test_schedules_fire_at_their_own_scaled_rate():
    sources = Template(DEFAULT_TEMPLATE).schedules()
    fired: list[str] = []
    done = threading.Event()

    def invoke(function, event):
        fired.append(function)
        done.set()

    scheduler = Scheduler(sources, invoke, region="us-east-1", account_id="1", interval_s=None, time_scale=SCALE)
    periods = scheduler.periods()
    assert periods == {"SweepFunction.Every15Minutes": 900 * SCALE, "ReconcileStateMachine.Daily": 86400 * SCALE}
    scheduler.start()
    try:
        assert done.wait(10)
    finally:
        scheduler.stop()
    assert fired[0] == "SweepFunction"  # 1.8 s; the daily run comes after 173 s


@pytest.fixture(scope="module")
def stack():
    with LocalStack(
        api_port=0,
        sim_port=0,
        time_scale=SCALE,
        compress_time=True,
        schedule_interval_s=None,  # no sweep: only the TTL → stream → expiry path can expire a payment
        ttl_interval_s=0.2,
    ) as s:
        yield s


def test_settings_in_effect(stack):
    assert stack.env["EXPIRY_WINDOW_S"] == "3"  # 1200 s
    assert stack.env["EXPIRY_REARM_BASE_S"] == "1"
    assert stack.env["EXPIRY_MAX_AGE_S"] == "346"
    assert stack.sim.config.payment_expiry_seconds == pytest.approx(3600 * SCALE)
    assert stack.effective_sfn_substitutions["OutcomeTimeoutSeconds"] == 8  # 3600 s
    assert stack.effective_sfn_substitutions["RetryMaxAttempts"] == 6  # counts are not times
    shown = stack.time_settings()
    assert shown["Expiry window (EXPIRY_WINDOW_S)"] == "3 s"
    assert os.environ["EXPIRY_WINDOW_S"] == "3"  # what the handlers read


def test_an_abandoned_payment_expires_through_ttl_stream_and_expiry(stack):
    stack.sim.webhooks.pause()  # Checkout's payment_expired webhook never arrives
    try:
        headers = {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}
        r = httpx.post(
            f"{stack.api_url}/payments",
            json=example_create_body("ORD-ABANDONED"),
            headers={**headers, "Idempotency-Key": "abandoned-1"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        started = time.monotonic()
        seen = ""
        while time.monotonic() - started < 60:
            seen = httpx.get(f"{stack.api_url}/payments/{pid}", headers=headers, timeout=10).json()["status"]
            if seen == "Expired":
                break
            time.sleep(0.3)
        assert seen == "Expired", f"still {seen} after {time.monotonic() - started:.0f} s"
    finally:
        stack.sim.webhooks.resume()
    consumer = next(c for c in stack.consumers if c.config.function == "ExpiryFunction")
    timers = [
        r
        for batch in consumer.delivered
        for r in batch
        if r["dynamodb"]["Keys"]["pk"]["S"] == f"PAYMENT#{pid}" and r["dynamodb"]["Keys"]["sk"]["S"] == "TIMER"
    ]
    assert timers, "the expiry function never saw the payment's timer"
    assert all(r["userIdentity"]["principalId"] == "dynamodb.amazonaws.com" for r in timers)  # TTL deletions


def test_the_daily_schedule_fans_the_reconciliation_out_over_every_shard(stack):
    """The template's daily schedule starts ReconcileStateMachine (not the function): its Map runs one
    ReconcileFunction invocation per changed-by-day shard, each keeping its own report."""
    from qpay.adapters.store import change_day

    (started,) = stack.trigger_schedule("ReconcileStateMachine")
    stack.drain(300)
    states = stack.client("stepfunctions")
    assert states.describe_execution(executionArn=started["executionArn"])["status"] == "SUCCEEDED"
    ddb = stack.client("dynamodb")
    day = change_day(int(time.time()))
    reports = [
        ddb.get_item(
            TableName=stack.env["TABLE_NAME"], Key={"pk": {"S": f"REPORT#{day}#shards-{n}"}, "sk": {"S": "REPORT"}}
        )
        for n in range(32)
    ]
    assert all("Item" in r for r in reports)

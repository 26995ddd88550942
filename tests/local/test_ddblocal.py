"""DynamoDB Local: the same stack with real TTL deletions and boto3-cased userIdentity converted."""

from __future__ import annotations

import time

import pytest

from qpay_local import ddb_local
from qpay_local.stack import LocalStack

pytestmark = [
    pytest.mark.ddblocal,
    pytest.mark.skipif(not ddb_local.available(), reason="java or the DynamoDB Local jar is missing"),
]


def test_stack_on_dynamodb_local_creates_the_table_and_streams():
    with LocalStack(api_port=0, sim_port=0, ddb_local=True, time_scale=0.001, schedule_interval_s=None) as stack:
        assert stack.env["AWS_ENDPOINT_URL_DYNAMODB"] == stack.dynamodb_endpoint != stack.aws_endpoint
        t = stack.dynamodb.describe_table(TableName=stack.table_name)["Table"]
        assert t["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        stack.dynamodb.put_item(TableName=stack.table_name, Item={"pk": {"S": "PAYMENT#x"}, "sk": {"S": "TIMER"}})
        stack.dynamodb.delete_item(TableName=stack.table_name, Key={"pk": {"S": "PAYMENT#x"}, "sk": {"S": "TIMER"}})
        consumer = next(c for c in stack.consumers if c.config.function == "ExpiryFunction")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not consumer.delivered:
            time.sleep(0.05)
        rec = consumer.delivered[0][0]
        assert rec["eventName"] == "REMOVE"
        assert "userIdentity" not in rec  # a user delete
        # the bundled DynamoDB Local deletes no TTL item on a table with an index: the stack reaps them
        assert stack.sweeper is not None


def test_an_abandoned_payment_expires_by_its_timer_on_dynamodb_local():
    """TTL → stream (with TTL's userIdentity) → ExpiryFunction → Expired, with no sweep schedule and no
    Checkout webhook: only the timer can expire it (review: DynamoDB Local never reaped it before)."""
    import httpx

    from qpay_local.banner import example_create_body

    with LocalStack(
        api_port=0,
        sim_port=0,
        ddb_local=True,
        time_scale=0.003,
        compress_time=True,
        schedule_interval_s=None,  # no sweep: only the TTL → stream → expiry path can expire a payment
        ttl_interval_s=0.2,
    ) as stack:
        assert stack.sim is not None
        stack.sim.webhooks.pause()  # Checkout's payment_expired webhook never arrives
        headers = {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}
        r = httpx.post(
            f"{stack.api_url}/payments",
            json=example_create_body("ORD-DDBL-ABANDONED"),
            headers={**headers, "Idempotency-Key": "ddbl-abandoned-1"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        deadline = time.monotonic() + 120  # a bound for a loaded machine, not a timing assertion
        seen = ""
        while time.monotonic() < deadline:
            seen = httpx.get(f"{stack.api_url}/payments/{pid}", headers=headers, timeout=10).json()["status"]
            if seen == "Expired":
                break
            time.sleep(0.3)
        stack.sim.webhooks.resume()
        assert seen == "Expired"
        consumer = next(c for c in stack.consumers if c.config.function == "ExpiryFunction")
        timers = [
            rec
            for batch in consumer.delivered
            for rec in batch
            if rec["dynamodb"]["Keys"]["pk"]["S"] == f"PAYMENT#{pid}" and rec["dynamodb"]["Keys"]["sk"]["S"] == "TIMER"
        ]
        assert timers, "the expiry function never saw the payment's timer"
        assert all(rec["userIdentity"]["principalId"] == "dynamodb.amazonaws.com" for rec in timers)


def test_payments_survive_a_restart_on_dynamodb_local(tmp_path):
    import httpx

    from qpay_local.banner import example_create_body

    def start():
        return LocalStack(api_port=0, sim_port=0, ddb_local=True, time_scale=0.001, schedule_interval_s=None,
                          persist_dir=tmp_path / "saved")  # fmt: skip

    with start() as first:
        headers = {"Authorization": f"Bearer {first.keys.merchant_api_key}", "Idempotency-Key": "ddbl-keep"}
        r = httpx.post(
            f"{first.api_url}/payments", json=example_create_body("ORD-DDBL-KEEP"), headers=headers, timeout=30
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
    with start() as second:
        got = httpx.get(f"{second.api_url}/payments/{pid}",
                        headers={"Authorization": f"Bearer {second.keys.merchant_api_key}"}, timeout=10)  # fmt: skip
        assert (got.status_code, got.json()["status"]) == (200, "Pending")

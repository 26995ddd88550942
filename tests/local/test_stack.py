"""The whole stack: start, serve the real handlers, resources from the template, stop cleanly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from qpay_local import sigv4
from qpay_local.httpserver import PortInUseError
from qpay_local.stack import REPO_ROOT, LocalStack
from qpay_local.template import Template


@pytest.fixture(scope="module")
def stack():
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, ttl_interval_s=0, schedule_interval_s=None) as s:
        yield s


def test_serves_the_real_handler(stack):
    r = httpx.get(
        f"{stack.api_url}/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        headers={"Authorization": f"Bearer {stack.keys.merchant_api_key}"},
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["message"]
    assert httpx.get(f"{stack.api_url}/nope").json() == {"message": "Not Found"}


def test_table_is_created_from_the_template(stack):
    props = Template(REPO_ROOT / "template.yaml").properties("PaymentsTable")
    t = stack.dynamodb.describe_table(TableName=stack.table_name)["Table"]
    assert t["KeySchema"] == props["KeySchema"]
    assert sorted(t["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
    assert len(t["GlobalSecondaryIndexes"]) == len(props["GlobalSecondaryIndexes"])
    for gsi, want in zip(
        sorted(t["GlobalSecondaryIndexes"], key=lambda g: g["IndexName"]),
        sorted(props["GlobalSecondaryIndexes"], key=lambda g: g["IndexName"]),
        strict=True,
    ):
        assert gsi["IndexName"] == want["IndexName"]
        assert gsi["KeySchema"] == want["KeySchema"]
        assert gsi["Projection"]["ProjectionType"] == want["Projection"]["ProjectionType"]
    assert t["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": props["StreamSpecification"]["StreamViewType"],
    }
    ttl = stack.dynamodb.describe_time_to_live(TableName=stack.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]


def test_env_resolved_from_the_template(stack):
    env = stack.env
    assert env["TABLE_NAME"] == stack.table_name
    assert env["CHECKOUT_BASE_URL"] == stack.sim.base_url
    assert env["PUBLIC_BASE_URL"] == stack.api_url
    assert env["STOREFRONT_SUCCESS_URL"] == f"{stack.api_url}/shop/result"
    assert env["REFUND_STATE_MACHINE_ARN"] == stack.state_machine_arns["RefundStateMachine"]
    assert env["SECRET_ID"].startswith("arn:aws:secretsmanager:")
    assert env["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
    secret = json.loads(stack.client("secretsmanager").get_secret_value(SecretId=env["SECRET_ID"])["SecretString"])
    assert secret["checkout_secret_key"].startswith("sk_sbox_")
    assert len(secret["checkout_secret_key"]) == len("sk_sbox_") + 27
    assert secret["webhook_signing_keys"] == [stack.keys.webhook_signing_key]
    assert secret["merchant_api_keys"] == [stack.keys.merchant_api_key]
    assert secret["order_token_keys"] == {stack.keys.order_token_kid: stack.keys.order_token_key}


def test_refund_route_needs_sigv4(stack):
    url = f"{stack.api_url}/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds"
    body = b'{"amount": 100}'
    assert httpx.post(url, content=body).status_code == 403
    headers = sigv4.sign_headers(
        method="POST",
        url=url,
        body=body,
        credentials=stack.botocore_credentials,
        region=stack.region,
        headers={"content-type": "application/json"},
    )
    r = httpx.post(url, content=body, headers=headers)
    assert r.status_code != 403  # reached the handler


def test_ttl_removal_reaches_the_stream_consumer_shaped(stack):
    consumer = next(c for c in stack.consumers if c.config.function == "ExpiryFunction")
    ddb = stack.dynamodb
    past = str(int(time.time()) - 1)
    ddb.put_item(
        TableName=stack.table_name,
        Item={"pk": {"S": "PAYMENT#qpp_ttltest"}, "sk": {"S": "TIMER"}, "expires_at_epoch": {"N": past}},
    )
    assert stack.sweep_ttl() == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = [r for b in consumer.delivered for r in b if r["dynamodb"]["Keys"]["pk"]["S"] == "PAYMENT#qpp_ttltest"]
        if got:
            break
        time.sleep(0.05)
    assert got, "the TTL removal was not delivered"
    assert got[0]["eventName"] == "REMOVE"
    assert got[0]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_drain_settles(stack):
    # put work in flight first: removed timers whose stream records the expiry consumer has not seen yet
    consumer = next(c for c in stack.consumers if c.config.function == "ExpiryFunction")
    keys = [f"PAYMENT#qpp_drain{i}" for i in range(5)]
    past = str(int(time.time()) - 1)
    for pk in keys:
        stack.dynamodb.put_item(
            TableName=stack.table_name,
            Item={"pk": {"S": pk}, "sk": {"S": "TIMER"}, "expires_at_epoch": {"N": past}},
        )
    assert stack.sweep_ttl() == len(keys)

    stack.drain(timeout=20)

    # settled means: every record was handed over before drain returned, nothing is queued or running
    seen = {r["dynamodb"]["Keys"]["pk"]["S"] for b in consumer.delivered for r in b if r["eventName"] == "REMOVE"}
    assert set(keys) <= seen
    assert all(c.wait_idle(1.0) for c in stack.consumers)  # the next poll of every shard finds nothing
    assert stack.sim.webhooks.pending_count() == 0
    sfn = stack.client("stepfunctions")
    for arn in stack.state_machine_arns.values():
        assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []


def test_start_stop_again_and_busy_port():
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as s:
        port = int(s.api_url.rsplit(":", 1)[1])
        with pytest.raises(PortInUseError, match="already in use"):
            LocalStack(api_port=port, sim_port=0).start()
    with socket.socket() as sock:  # freed after stop
        sock.bind(("127.0.0.1", port))


def test_cli_busy_port_exit_code_2():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "qpay_local", "run", "--api-port", str(port), "--sim-port", "0"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO_ROOT,
            env={"PYTHONPATH": f"{REPO_ROOT / 'sandbox'}:{REPO_ROOT / 'functions'}", "PATH": "/usr/bin:/bin"},
        )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "already in use" in proc.stderr

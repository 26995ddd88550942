"""The peer (typical-team handlers the bench compares against) really works, so the comparison is honest:
against moto's DynamoDB and Secrets Manager and the bench's HTTPS Checkout.com stub, in a subprocess
(Powertools' Tracer patches botocore, httpx and http.client process-wide), webhook answers 200 and moves
the payment, a bad signature 401 and moves nothing, create answers 201 and stores the payment with its
Checkout.com id, and a replayed Idempotency-Key answers the same without a second Checkout.com call.
Its DynamoDB writes are counted at the bench's stub: 3 per webhook and 4 per create."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from qpay_bench.scenarios import PAYMENT_ID, SCENARIOS, SECRET
from qpay_bench.stub import Stub
from qpay_bench.tls import TestPki
from qpay_bench.world import World
from qpay_local.moto_world import MotoServer

ROOT = Path(__file__).resolve().parents[2]
RUN = """
import json, sys
class Context:
    function_name = "peer"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:me-central-1:123456789012:function:peer"
    aws_request_id = "req-1"; log_group_name = "g"; log_stream_name = "s"
    def get_remaining_time_in_millis(self): return 10000
module = __import__(sys.argv[1], fromlist=["handler"])
print(json.dumps([module.handler(e, Context()) for e in json.loads(sys.stdin.read())]))
"""


def event(function: str) -> dict[str, Any]:
    return next(s for s in SCENARIOS if s.function == function).event()


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    yield server
    server.stop()


def env(aws: str, checkout: str, pki: TestPki, sink: socket.socket) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PYTHONPATH": str(ROOT / "sandbox" / "qpay_bench"),
        "AWS_ENDPOINT_URL": aws, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "me-central-1", "AWS_DEFAULT_REGION": "me-central-1", "AWS_CA_BUNDLE": str(pki.ca_file),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "SSL_CERT_FILE": str(pki.ca_file),
        "CHECKOUT_BASE_URL": checkout, "TABLE_NAME": "payments", "IDEMPOTENCY_TABLE": "idempotency",
        "SECRET_ID": "keys", "POWERTOOLS_SERVICE_NAME": "peer", "AWS_LAMBDA_FUNCTION_NAME": "peer",
        "LAMBDA_TASK_ROOT": str(ROOT), "_X_AMZN_TRACE_ID": "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{sink.getsockname()[1]}",
    }  # fmt: skip


def invoke(module: str, events: list[dict[str, Any]], environment: dict[str, str]) -> list[dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-c", RUN, module], input=json.dumps(events), env=environment,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return answers


@pytest.fixture
def sink() -> Iterator[socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield udp
    udp.close()


def test_peer_handlers_work_against_moto(moto: MotoServer, stub: Stub, pki: TestPki, sink: socket.socket) -> None:
    kwargs = {"endpoint_url": moto.url, "region_name": "me-central-1", "aws_access_key_id": "test",
              "aws_secret_access_key": "test"}  # fmt: skip
    ddb = boto3.client("dynamodb", **kwargs)
    ddb.create_table(TableName="payments", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])  # fmt: skip
    ddb.create_table(TableName="idempotency", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])  # fmt: skip
    boto3.client("secretsmanager", **kwargs).create_secret(Name="keys", SecretString=json.dumps(SECRET))
    key = {"pk": {"S": f"PAYMENT#{PAYMENT_ID}"}, "sk": {"S": "PAYMENT"}}
    ddb.put_item(TableName="payments", Item={**key, "stage": {"S": "pending"}})
    environment = env(moto.url, stub.url, pki, sink)

    webhook = event("WebhookFunction")
    forged = {**webhook, "headers": {**webhook["headers"], "cko-signature": "0" * 64}}
    bad, good, again = invoke("peer.webhook", [forged, webhook, webhook], environment)
    assert bad["statusCode"] == 401
    assert good["statusCode"] == 200 and json.loads(good["body"])["result"] == "applied"
    assert again == good  # the idempotency record answers the redelivery
    assert ddb.get_item(TableName="payments", Key=key)["Item"]["stage"]["S"] == "captured"

    create = event("CreatePaymentFunction")
    first, replay = invoke("peer.create_payment", [create, create], environment)
    assert first["statusCode"] == 201, first
    body = json.loads(first["body"])
    stored = ddb.get_item(TableName="payments", Key={"pk": {"S": f"PAYMENT#{body['id']}"}, "sk": {"S": "PAYMENT"}})
    assert stored["Item"]["cko_id"]["S"] == "pay_fixturecheckoutaaaaaaaaaaa"
    assert json.loads(replay["body"]) == body
    assert [c.operation for c in stub.world.log if c.service == "checkout"] == ["POST /payments"]
    assert ddb.scan(TableName="idempotency")["Count"] == 2


def test_peer_round_trips(stub: Stub, pki: TestPki, sink: socket.socket) -> None:
    """Against the bench's stub (stateless, so the idempotency record is never found): the DynamoDB
    writes each peer handler makes."""
    stub.world = World(secret=json.dumps(SECRET), checkout_routes=stub.world.checkout_routes)
    environment = env(stub.url, stub.url, pki, sink)
    for module, function, writes in (
        ("peer.webhook", "WebhookFunction", 3),
        ("peer.create_payment", "CreatePaymentFunction", 4),
    ):
        mark = stub.world.mark()
        (answer,) = invoke(module, [event(function)], environment)
        assert answer["statusCode"] in (200, 201)
        ops = [c.operation for c in stub.world.calls_since(mark) if c.service == "dynamodb"]
        assert len([op for op in ops if op in ("PutItem", "UpdateItem")]) == writes, ops

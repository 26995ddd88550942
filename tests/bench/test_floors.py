"""The floors do the work they claim: the product's botocore settings, real HTTPS requests to the stub
(TLS verified against the bench's CA), the same log lines, and SigV4 signatures AWS would accept."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from qpay_bench import clientconfig, floorwork
from qpay_bench.stub import Stub
from qpay_bench.tls import TestPki


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, stub: Stub, pki: TestPki) -> None:
    for key, value in {
        "AWS_ENDPOINT_URL": stub.url, "CHECKOUT_BASE_URL": stub.url, "AWS_CA_BUNDLE": str(pki.ca_file),
        "SSL_CERT_FILE": str(pki.ca_file), "AWS_REGION": "me-central-1", "AWS_DEFAULT_REGION": "me-central-1",
        "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def test_mirror_matches_the_product_client() -> None:
    """MIRROR documents make_client's settings; the bench itself reads them from the product."""
    assert clientconfig.product_config() == clientconfig.MIRROR


def spec(calls: list[list[object]], lines: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"calls": calls, "log_lines": lines or [], "response": {"statusCode": 200, "body": '{"ok": true}'},
            "signing_keys": ["k"], "botocore_config": clientconfig.product_config()}  # fmt: skip


def test_botocore_floor_uses_the_product_settings_and_really_calls(aws_env: None, stub: Stub) -> None:
    calls = [
        ["secretsmanager", "GetSecretValue", {"SecretId": "s"}, {}],
        ["dynamodb", "UpdateItem", {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}}, {}],
        ["checkout", "POST /payments", {"body": {"amount": 1}}, {"authorization": "Bearer sk_test"}],
    ]
    floor = floorwork.BotocoreFloor(spec(calls))
    floor.run({"body": '{"x": 1}'})
    assert clientconfig.of_client(floor._clients["dynamodb"]) == clientconfig.product_config()
    got = [(c.service, c.operation) for c in stub.world.log]
    assert got == [("secretsmanager", "GetSecretValue"), ("dynamodb", "UpdateItem"), ("checkout", "POST /payments")]
    checkout = stub.world.log[-1]
    assert checkout.params["body"] == {"amount": 1}
    assert checkout.headers["authorization"] == "Bearer sk_test"


def test_physical_floor_calls_without_botocore(aws_env: None, stub: Stub) -> None:
    calls = [["dynamodb", "GetItem", {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}}, {}],
             ["events", "PutEvents", {"Entries": [{"Source": "s"}]}, {}]]  # fmt: skip
    floorwork.PhysicalFloor(spec(calls)).run({"body": "{}"})
    assert [(c.service, c.operation) for c in stub.world.log] == [("dynamodb", "GetItem"), ("events", "PutEvents")]
    assert stub.world.log[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")


def test_floors_write_the_same_log_lines(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [{"level": "INFO", "message": "one", "timestamp": "x"}, {"level": "INFO", "message": "two"}]
    answer = floorwork.BotocoreFloor(spec([], lines)).run({"body": "{}"})
    written = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [set(w) for w in written] == [set(line) for line in lines]
    assert [w["message"] for w in written] == ["one", "two"]
    assert answer["body"] == '{"ok":true}'


@pytest.mark.parametrize("token", [None, "session-token"])
def test_sigv4_matches_botocore(token: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)
    body = b'{"TableName":"t"}'
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"}
    ours = floorwork.sign("POST", "127.0.0.1:4443", "/", headers, body, region="me-central-1", service="dynamodb",
                          access_key="AKIDTEST", secret_key="secret", token=token, now=now)  # fmt: skip
    request = AWSRequest("POST", "https://127.0.0.1:4443/", data=body, headers=dict(headers))
    auth = SigV4Auth(Credentials("AKIDTEST", "secret", token), "dynamodb", "me-central-1")
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: now.replace(tzinfo=None))
    auth.add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]


def test_the_products_stated_config_is_what_its_clients_get() -> None:
    from qpay.adapters import dynamo

    stated = getattr(dynamo, "CLIENT_CONFIG", None)
    if stated is None:
        pytest.skip("the product does not expose its client settings")
    effective = clientconfig.product_config()
    assert {k: effective[k] for k in stated} == stated

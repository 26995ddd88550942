"""Shared fixtures: an AWS world in moto built from template.yaml, the Checkout.com simulator, and
helpers that invoke the real handlers with API Gateway-shaped events. The product code is configured
through environment variables only; it does not know it runs against doubles."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support import keys
from tests.support.apigw import FakeContext, http_event
from tests.support.template import table_definition, ttl_attribute
from tests.support.webhooks import encode, sign

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "QPayTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "qpay")

TABLE = "qpay-test-payments"
SECRET = "qpay-test-keys"
REGION = "me-central-1"


@dataclass
class World:
    ddb: Any
    env: dict[str, str]
    calls: dict[str, int] = field(default_factory=dict)

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": TABLE}
        while True:
            page = self.ddb.scan(**kwargs)
            out += page["Items"]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        from qpay.adapters.dynamo import from_ddb

        got = self.ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        return from_ddb(got.get("Item"))


def base_env(checkout_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": TABLE,
        "SECRET_ID": SECRET,
        "CHECKOUT_BASE_URL": checkout_url,
        "CHECKOUT_TIMEOUT_S": "2",
        "CHECKOUT_CONNECT_TIMEOUT_S": "1",
        "CHECKOUT_DEADLINE_S": "6",
        "PROCESSING_CHANNEL_ID": keys.PROCESSING_CHANNEL_ID,
        "PUBLIC_BASE_URL": "https://pay.example-shop.qa",
        "STOREFRONT_SUCCESS_URL": "https://shop.example.qa/orders/thanks",
        "STOREFRONT_FAILURE_URL": "https://shop.example.qa/orders/retry",
        "REFUND_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:123456789012:stateMachine:qpay-test-refunds",
    }


def secret_doc() -> dict[str, Any]:
    return {
        "checkout_secret_key": keys.CHECKOUT_SECRET_KEY,
        "webhook_signing_keys": [keys.WEBHOOK_SIGNING_KEY, keys.WEBHOOK_SIGNING_KEY_OLD],
        "merchant_api_keys": [keys.MERCHANT_API_KEY],
        "order_token_keys": {keys.ORDER_TOKEN_KID: keys.ORDER_TOKEN_KEY},
        "server_key": keys.SERVER_KEY,
    }


def create_resources() -> Any:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(**table_definition(TABLE))
    ddb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute()}
    )
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=SECRET, SecretString=json.dumps(secret_doc()))
    return ddb


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from qpay import deps

    env = base_env()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        ddb = create_resources()
        deps.reset()
        yield World(ddb=ddb, env=env)
    deps.reset()


@pytest.fixture
def sim(aws: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Checkout.com simulator on a loopback port; the handlers reach it through CHECKOUT_BASE_URL."""
    from cko_sim import SimConfig, Simulator
    from qpay import deps

    simulator = Simulator(
        SimConfig(
            webhook_urls=[],
            webhook_signing_key=keys.WEBHOOK_SIGNING_KEY,
            require_processing_channel=True,
            time_scale=0.001,
            timeout_hold_seconds=3.0,
            seed=7,
        )
    )
    simulator.start(host="127.0.0.1", port=0)
    monkeypatch.setenv("CHECKOUT_BASE_URL", simulator.base_url)
    deps.reset()
    try:
        yield simulator
    finally:
        simulator.stop()


# ---------------------------------------------------------------- invoking handlers
def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "ORD-1001",
        "amount": 12500,
        "currency": "QAR",
        "description": "Order 1001",
        "language": "en",
        "quantity": 1,
        "national_id": keys.NATIONAL_ID,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def invoke_create(
    body: Any, *, idem: str | None = None, auth: str | None = "merchant", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    from qpay.handlers import create_payment

    hdrs = dict(headers or {})
    if auth == "merchant":
        hdrs["authorization"] = f"Bearer {keys.MERCHANT_API_KEY}"
    if idem:
        hdrs["idempotency-key"] = idem
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return dict(create_payment.handler(http_event("POST", "/payments", raw_body=raw, headers=hdrs), FakeContext()))


def invoke_get(
    payment_id: str, *, auth: str | None = "merchant", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    from qpay.handlers import get_payment

    hdrs = dict(headers or {})
    if auth == "merchant":
        hdrs["authorization"] = f"Bearer {keys.MERCHANT_API_KEY}"
    event = http_event(
        "GET", f"/payments/{payment_id}", route="GET /payments/{id}", path_params={"id": payment_id}, headers=hdrs
    )
    return dict(get_payment.handler(event, FakeContext()))


def invoke_return(outcome: str, query: dict[str, str]) -> dict[str, Any]:
    from qpay.handlers import payment_return

    event = http_event("GET", f"/payments/return/{outcome}", query=query, body=None)
    return dict(payment_return.handler(event, FakeContext()))


def invoke_webhook(
    doc_or_raw: Any, *, signature: str | None = "auto", key: str = keys.WEBHOOK_SIGNING_KEY
) -> dict[str, Any]:
    from qpay.handlers import webhook

    raw = doc_or_raw if isinstance(doc_or_raw, bytes) else encode(doc_or_raw)
    headers = {"content-type": "application/json"}
    if signature == "auto":
        headers["cko-signature"] = sign(raw, key)
    elif signature is not None:
        headers["cko-signature"] = signature
    event = http_event("POST", "/webhooks/checkout", raw_body=raw, headers=headers)
    return dict(webhook.handler(event, FakeContext()))


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None

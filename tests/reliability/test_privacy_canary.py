"""Privacy canary: a distinctive national ID goes through every flow on the local stack. Only the
create request and the call to Checkout.com may carry it; it appears 0 times in logs, stored items,
stream records, responses and errors, and Step Functions execution histories."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from qpay import clock
from tests.e2e.conftest import Shop
from tests.reliability.conftest import table_items
from tests.support.keys import CANARY_NATIONAL_ID as CANARY


def _stream_records(shop: Shop) -> list[Any]:
    streams = shop.stack.client("dynamodbstreams")
    out: list[Any] = []
    for arn in shop.stack.stream_arns.values():
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
            for _ in range(50):
                page = streams.get_records(ShardIterator=it, Limit=1000)
                out += page["Records"]
                it = page.get("NextShardIterator")
                if not page["Records"] or not it:
                    break
    return out


def _histories(shop: Shop) -> list[Any]:
    sfn = shop.stack.client("stepfunctions")
    out: list[Any] = []
    for arn in shop.stack.state_machine_arns.values():
        for ex in sfn.list_executions(stateMachineArn=arn)["executions"]:
            out.append(sfn.describe_execution(executionArn=ex["executionArn"]))
            out += sfn.get_execution_history(executionArn=ex["executionArn"], maxResults=1000)["events"]
    return out


def test_national_id_appears_nowhere_but_the_create_call(shop: Shop, capfd, caplog, monkeypatch) -> None:
    """Create (new, replay, 409, 422s), pay, return, webhooks, a Dashboard refund, an expiry webhook,
    the sweep of an abandoned payment, a partial and a full refund through Step Functions → the canary
    is in none of: log lines, stdout/stderr, table items, stream records, responses, SFN histories."""
    caplog.set_level(logging.DEBUG)
    sim = shop.stack.sim
    assert sim is not None
    api, headers = shop.stack.api_url, {"Authorization": f"Bearer {shop.stack.keys.merchant_api_key}"}
    responses: list[str] = []

    def create(**extra: Any) -> Any:
        payment = shop.create(national_id=CANARY, **extra)
        responses.append(json.dumps(payment))
        return payment

    paid = create(amount=9000)
    body = {
        "reference": paid["reference"],
        "amount": 9000,
        "currency": "QAR",
        "description": "x",
        "language": "en",
        "quantity": 1,
    }
    for extra, idem in (
        ({}, "canary-1"),
        ({}, "canary-1"),
        ({"amount": 5}, "canary-1"),
        ({"currency": "EUR"}, None),
        ({"national_id": CANARY + "!"}, None),
        ({"national_id": CANARY, "reference": ""}, None),
    ):
        h = {**headers, **({"Idempotency-Key": idem} if idem else {})}
        payload = {**body, "national_id": CANARY, "reference": f"ORD-C-{time.monotonic_ns()}", **extra}
        responses.append(shop.http.post(f"{api}/payments", json=payload, headers=h).text)
    shop.pay(paid)
    responses.append(json.dumps(shop.get(paid["id"])))
    sim.dashboard_refund(shop.cko_id(paid), 1000)
    shop.stack.drain()
    for amount in (2000, None):
        r = shop.refund(paid["id"], amount)
        responses.append(r.text)
        assert r.status_code == 202, r.text
        shop.stack.drain(timeout=60)
    responses.append(shop.refund(paid["id"], 1).text)  # refused: nothing left
    responses.append(json.dumps(shop.get(paid["id"])))

    expired = create()
    sim.expire_payment(shop.cko_id(expired))
    shop.stack.drain()
    abandoned = create()
    sim.cancel(shop.cko_id(abandoned))
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + 3600)  # past the deadline: the sweep reconciles
    shop.stack.trigger_schedule("SweepFunction")
    monkeypatch.setattr(clock, "now", real_now)
    shop.stack.drain()
    for p in (expired, abandoned):
        responses.append(json.dumps(shop.get(p["id"])))
    assert shop.get(paid["id"])["status"] == "Refunded"
    assert shop.get(expired["id"])["status"] == "Expired"
    assert shop.get(abandoned["id"])["status"] == "Canceled"

    assert len(sim.payments) >= 4  # the creates did reach Checkout.com (the one place the ID must go)
    out, err = capfd.readouterr()
    blobs = {
        "stdout": out,
        "stderr": err,
        "log records": "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records),
        "responses": "\n".join(responses),
        "table": json.dumps(table_items(shop), default=str),
        "stream": json.dumps(_stream_records(shop), default=str),
        "step functions": json.dumps(_histories(shop), default=str),
        "webhooks sent": json.dumps(
            [e.body.decode() if isinstance(e.body, bytes) else e.body for e in sim.webhooks.events], default=str
        ),
    }
    for name, blob in blobs.items():
        assert blob.count(CANARY) == 0, name
    assert "national_id" not in blobs["table"]
    assert len(blobs["step functions"]) > 100 and len(blobs["stream"]) > 100  # they were really read


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

"""Every fixture under events/ replays through its handler (folder = the template's function) and
produces the outcome stated here. A fixture without an expectation, or a function without a fixture,
fails the suite."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from qpay.adapters.store import PaymentStore
from qpay.domain.records import Payment, Refund
from qpay.domain.states import TRANSITIONS, Stage
from tests.conftest import REGION
from tests.support.apigw import FakeContext
from tests.support.make_events import CKO_ID, PAYMENT_ID, REFUND_ID, all_events
from tests.support.template import template

FIXTURE_NOW = 1795600800 + 300  # 2026-11-25T10:05:00Z, five minutes after the fixtures' created_on
EVENTS = Path(__file__).resolve().parents[2] / "events"
FIXTURES = sorted(str(p.relative_to(EVENTS)) for p in EVENTS.rglob("*.json"))

# fixture → (seed, check). seed: "pending" | "captured" (captured with a Requested refund) | None
EXPECT: dict[str, tuple[str | None, Any]] = {
    "CreatePaymentFunction/create-merchant-key.json": (None, 201),
    "CreatePaymentFunction/create-order-token.json": (None, 201),
    "CreatePaymentFunction/create-invalid.json": (None, 422),
    "GetPaymentFunction/get.json": ("pending", 200),
    "PaymentReturnFunction/success.json": ("pending", 303),
    "PaymentReturnFunction/failure.json": ("pending", 303),
    "RefundRequestFunction/partial.json": ("captured-no-refund", 202),
    "RefundRequestFunction/full.json": ("captured-no-refund", 202),
    "WebhookFunction/bad-signature.json": ("pending", 401),
    "WebhookFunction/payment_pending.json": ("pending", ("applied", "Pending")),
    "WebhookFunction/payment_capture_pending.json": ("pending", ("applied", "Capture Pending")),
    "WebhookFunction/payment_captured.json": ("pending", ("applied", "Captured")),
    "WebhookFunction/payment_capture_declined.json": ("pending", ("applied", "Declined")),
    "WebhookFunction/payment_canceled.json": ("pending", ("applied", "Canceled")),
    "WebhookFunction/payment_expired.json": ("pending", ("applied", "Expired")),
    # published shape: no reference, no metadata; found by Checkout's id, matched by action id only
    "WebhookFunction/payment_refund_pending.json": ("captured", ("ignored", "Captured")),
    "WebhookFunction/payment_refunded.json": ("captured", ("applied", "Partially Refunded")),
    "WebhookFunction/payment_refund_declined.json": ("captured", ("applied", "Captured")),
    "ExpiryFunction/ttl-removal.json": ("pending-due", "rearmed"),
    "ExpiryFunction/user-delete.json": ("pending-due", "untouched"),
    "ExpiryFunction/poison.json": ("pending-due", "BatchProcessingError"),  # all failed: Lambda retries, then bisects
    "ExpiryFunction/mixed-batch.json": ("pending-due", "poison-failed"),
    "RefundTaskFunction/request.json": ("captured", "RefundRejected"),
    "RefundTaskFunction/await.json": ("captured", {"completed": False}),
    # the simulator does not know the seeded payment: Checkout never saw the refund → MarkFailed
    "RefundTaskFunction/reconcile.json": ("captured", "RefundRejected"),
    "RefundTaskFunction/fail.json": ("captured", {"state": "Failed"}),
    "RefundTaskFunction/attention.json": ("captured", {"flagged": True, "state": "Requested"}),
    "SweepFunction/scheduled.json": ("pending-due", {"counts": {"rearmed": 1}, "refunds": {}}),
    # order events: exactly the events each stream batch publishes (detail types, in order)
    "OutboxFunction/payment-captured.json": (None, ("published", ["Payment Captured"])),
    "OutboxFunction/refund-succeeded.json": (None, ("published", ["Payment Partially Refunded", "Refund Succeeded"])),
    "OutboxFunction/timer-rearmed.json": (None, ("published", [])),
    # the seeded payment's Checkout id is unknown to the simulator: reported, not repaired
    "ReconcileFunction/scheduled.json": (
        "captured-no-refund",
        lambda r: r["checked"] == 1 and r["counts"] == {"unknown_at_checkout_open": 1},
    ),
    "ReconcileFunction/window.json": (None, lambda r: r["checked"] == 0 and r["drift"] == 0),
}


def timeout_of(function: str) -> float:
    props = template()["Resources"][function]["Properties"]
    return float(props.get("Timeout", template()["Globals"]["Function"]["Timeout"]))


def handler_for(function: str) -> Any:
    handler = template()["Resources"][function]["Properties"]["Handler"]
    module, name = handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def seed(kind: str | None, store: PaymentStore, now: int) -> None:
    if kind is None:
        return
    deadline = now - 3600 if kind == "pending-due" else now + 1200
    payment = Payment(
        id=PAYMENT_ID,
        reference="ORD-FIXTURE-1",
        amount=12500,
        currency="QAR",
        description="Order",
        language="en",
        quantity=1,
        created_at=now - 7200 if kind == "pending-due" else now,
        updated_at=now,
        deadline=deadline,
        request_hash="h",
        lease_until=now,
        create_attempt="seed",
    )
    store.begin_create(payment, timer_at=deadline, now=now)
    store.complete_create(PAYMENT_ID, cko_id=CKO_ID, redirect_url="https://example.invalid/qpay", now=now)
    if kind.startswith("captured"):
        store.apply_transition(
            PAYMENT_ID,
            event_id="seed",
            event_type="payment_captured",
            rule=TRANSITIONS["payment_captured"],
            cko_id=CKO_ID,
            amount=12500,
            now=now,
        )
    if kind == "captured":
        store.reserve_refund(
            Refund(id=REFUND_ID, payment_id=PAYMENT_ID, amount=2500, created_at=now, updated_at=now), now=now
        )


def order_event_tap(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The order-events bus in moto with a catch-all rule to a queue; returns a reader of that queue."""
    from qpay import deps

    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="qpay-test-orders")
    url = sqs.create_queue(QueueName="qpay-test-order-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="qpay-test-orders", EventPattern='{"source": [{"exists": true}]}')
    events.put_targets(Rule="all", EventBusName="qpay-test-orders", Targets=[{"Id": "q", "Arn": arn}])
    monkeypatch.setenv("ORDER_EVENTS_BUS_NAME", "qpay-test-orders")
    deps.reset()

    def read() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]

    return read


def test_every_function_has_fixtures_and_every_fixture_an_expectation() -> None:
    assert sorted(EXPECT) == FIXTURES
    functions = {k for k, v in template()["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions <= {f.split("/")[0] for f in FIXTURES}


def test_fixtures_are_generated_from_the_generator() -> None:
    for rel, doc in all_events().items():
        assert json.loads((EVENTS / rel).read_text()) == doc, f"{rel} is stale: python -m tests.support.make_events"


def test_fixtures_hold_no_real_secrets_and_only_synthetic_ids() -> None:
    from tests.support import keys

    for rel in FIXTURES:
        text = (EVENTS / rel).read_text()
        assert "sk_prod" not in text and "sk_live" not in text
        for digits in [t for t in text.replace('"', " ").split() if t.isdigit() and len(t) == 11]:
            assert digits == keys.NATIONAL_ID, rel


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_replays_through_its_handler(fixture: str, aws, sim, monkeypatch) -> None:
    from qpay import clock, deps

    function = fixture.split("/", maxsplit=1)[0]
    kind, expected = EXPECT[fixture]
    store = deps.store()
    # the fixtures were recorded at a fixed time: replay them a few minutes later, not months later
    # (webhooks older than the de-duplication window are acknowledged and never applied)
    monkeypatch.setattr(clock, "now", lambda: FIXTURE_NOW)
    now = clock.now()
    seed(kind, store, now)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sfn.create_state_machine(
        name="qpay-test-refunds",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    tap = order_event_tap(monkeypatch) if function == "OutboxFunction" else None
    event = json.loads((EVENTS / fixture).read_text())
    handler = handler_for(function)
    if isinstance(expected, str) and expected[0].isupper():  # a named error the state machine catches
        with pytest.raises(Exception) as info:
            handler(event, FakeContext(timeout_of(function)))
        assert type(info.value).__name__ == expected
        return
    result = handler(event, FakeContext(timeout_of(function)))
    payment = store.get_payment(PAYMENT_ID)
    if tap is not None:
        assert result == {"batchItemFailures": []}
        assert [e["detail-type"] for e in tap()] == expected[1]
    elif callable(expected):
        assert expected(result), result
    elif isinstance(expected, int):
        assert result["statusCode"] == expected, result
    elif isinstance(expected, tuple):
        assert result["statusCode"] == 200, result
        assert json.loads(result["body"])["result"] == expected[0]
        assert payment is not None and payment.status.value == expected[1]
    elif expected == "rearmed":
        assert result == {"batchItemFailures": []}
        assert payment is not None and payment.expiry_attempts == 1 and payment.stage is Stage.PENDING
    elif expected == "untouched":
        assert result == {"batchItemFailures": []}
        assert payment is not None and payment.expiry_attempts == 0
    elif expected == "poison-failed":
        poison = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == "PAYMENT#"]
        assert result == {"batchItemFailures": [{"itemIdentifier": poison[0]["dynamodb"]["SequenceNumber"]}]}
    else:
        assert result == expected

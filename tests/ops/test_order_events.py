"""Order events: derived from OldImage → NewImage (pure), published with at-least-once semantics
(a refused PutEvents entry fails its record), and exactly these events per flow on the local stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qpay.domain import order_events as oe
from qpay.handlers import outbox
from qpay.service.outbox import OutboxPorts
from tests.e2e.conftest import SUCCESS_CARD, Shop, _stack
from tests.support.apigw import FakeContext
from tests.support.make_events import all_events

PID = "qpp_" + "a" * 26


def payment(stage: str, *, version: int, captured: int = 0, refunded: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "pk": f"PAYMENT#{PID}",
        "sk": "PAYMENT",
        "id": PID,
        "reference": "ORD-1",
        "amount": 12500,
        "currency": "QAR",
        "stage": stage,
        "captured_amount": captured,
        "refunded_amount": refunded,
        "version": version,
        "updated_at": 1795600800,
        **extra,
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (payment("Pending", version=1), payment("Capture Pending", version=2), ["Payment Capture Pending"]),
        (payment("Capture Pending", version=2), payment("Captured", version=3, captured=12500), ["Payment Captured"]),
        (payment("Expired", version=3), payment("Captured", version=4, captured=12500), ["Payment Captured"]),
        (payment("Pending", version=1), payment("Declined", version=2), ["Payment Declined"]),
        (payment("Pending", version=1), payment("Canceled", version=2), ["Payment Canceled"]),
        (payment("Pending", version=1), payment("Expired", version=2), ["Payment Expired"]),
        (
            payment("Captured", version=3, captured=12500),
            payment("Captured", version=4, captured=12500, refunded=2500),
            ["Payment Partially Refunded"],
        ),
        (  # a second partial refund: same status, more refunded
            payment("Captured", version=4, captured=12500, refunded=2500),
            payment("Captured", version=5, captured=12500, refunded=5000),
            ["Payment Partially Refunded"],
        ),
        (
            payment("Captured", version=5, captured=12500, refunded=5000),
            payment("Captured", version=6, captured=12500, refunded=12500),
            ["Payment Refunded"],
        ),
        # a reservation (refundable_amount only), a timer re-arm, a create: nothing the merchant acts on
        (payment("Captured", version=3, captured=12500), payment("Captured", version=4, captured=12500), []),
        (payment("Pending", version=1, deadline=1), payment("Pending", version=1, deadline=2), []),
        (None, payment("Pending", version=0), []),
        (
            payment("Pending", version=1, attention=False),
            payment("Pending", version=1, attention=True, attention_reason="still pending"),
            ["Payment Needs Attention"],
        ),
        (payment("Pending", version=1, attention=True), payment("Pending", version=1, attention=True), []),
    ],
)
def test_payment_events_from_image_diffs(old, new, expected) -> None:
    assert [e.detail_type for e in oe.events_for("PAYMENT", old, new)] == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Requested", "Pending", []),
        ("Pending", "Refunded", ["Refund Succeeded"]),
        ("Requested", "Refunded", ["Refund Succeeded"]),
        ("Pending", "Declined", ["Refund Declined"]),
        ("Requested", "Failed", ["Refund Failed"]),
        ("Refunded", "Refunded", []),  # the task token stored after the outcome: no second event
    ],
)
def test_refund_events_from_state_changes(old, new, expected) -> None:
    base = {"id": "qrf_" + "b" * 26, "payment_id": PID, "amount": 2500, "updated_at": 1795600800}
    got = oe.events_for(f"REFUND#{base['id']}", {**base, "state": old}, {**base, "state": new})
    assert [e.detail_type for e in got] == expected


def test_other_items_never_produce_events() -> None:
    customer = {"pk": f"PAYMENT#{PID}", "sk": "CUSTOMER", "name": "Test Shopper", "email": "s@example.com"}
    for sk in ("TIMER", "CUSTOMER", "EVENT#evt_1", "ACTION#act_1", "REFERENCE", "REPORT"):
        assert oe.events_for(sk, None, customer) == []


def test_event_ids_are_deterministic_and_distinct() -> None:
    old, new = payment("Capture Pending", version=2), payment("Captured", version=3, captured=12500)
    (a,) = oe.events_for("PAYMENT", old, new)
    (b,) = oe.events_for("PAYMENT", old, new)
    assert a.event_id == b.event_id == f"{PID}.v3.payment-captured" == a.detail["event_id"]
    (c,) = oe.events_for("PAYMENT", new, payment("Captured", version=4, captured=12500, refunded=1))
    assert c.event_id != a.event_id
    assert set(a.detail) == {
        "schema_version", "event_id", "payment_id", "reference", "status", "previous_status", "amount",
        "currency", "captured_amount", "refunded_amount", "cko_payment_id", "version", "occurred_at",
    }  # fmt: skip
    assert (a.detail["status"], a.detail["previous_status"], a.detail["occurred_at"]) == (
        "Captured",
        "Capture Pending",
        "2026-11-25T10:00:00Z",
    )


def test_every_documented_detail_type_is_in_the_catalogue() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs/events.md").read_text()
    for detail_type in oe.DETAIL_TYPES:
        assert f"`{detail_type}`" in doc, detail_type


# ---------------------------------------------------------------- at least once
class FlakyBus:
    """PutEvents that refuses entries of one detail type (EventBridge's partial failure)."""

    def __init__(self, refuse: str | None) -> None:
        self.refuse = refuse
        self.accepted: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        results = []
        for e in Entries:
            if e["DetailType"] == self.refuse:
                results.append({"ErrorCode": "InternalException", "ErrorMessage": "try again"})
            else:
                self.accepted.append(e)
                results.append({"EventId": "x"})
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def test_a_refused_entry_fails_its_record_and_only_its_record(monkeypatch) -> None:
    bus = FlakyBus(refuse="Refund Succeeded")
    monkeypatch.setattr(outbox, "_ports", lambda: OutboxPorts(events=bus, bus_name="orders", source="qpay.payments"))
    batch = all_events()["OutboxFunction/refund-succeeded.json"]
    result = outbox.handler(batch, FakeContext())
    refund_seq = batch["Records"][1]["dynamodb"]["SequenceNumber"]
    assert result == {"batchItemFailures": [{"itemIdentifier": refund_seq}]}
    assert [e["DetailType"] for e in bus.accepted] == ["Payment Partially Refunded"]
    # redelivered (Lambda retries from the failed record): the same ids, so consumers dedupe
    bus.refuse = None
    assert outbox.handler({"Records": batch["Records"][1:]}, FakeContext()) == {"batchItemFailures": []}
    detail = json.loads(bus.accepted[-1]["Detail"])
    assert detail["event_id"] == f"{detail['refund_id']}.refunded"
    assert bus.accepted[-1]["Source"] == "qpay.payments" and bus.accepted[-1]["EventBusName"] == "orders"


# ---------------------------------------------------------------- flows on the local stack
@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    yield from _stack()


def events_of(shop: Shop, payment_id: str) -> list[dict[str, Any]]:
    shop.stack.drain()
    tap = shop.stack.event_tap
    assert tap is not None
    return [e for e in tap.events() if e["detail"].get("payment_id") == payment_id]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail-type"] for e in events]


def test_paid_by_webhooks(shop: Shop) -> None:
    p = shop.create(customer={"name": "Test Shopper", "email": "shopper@example.com"})
    shop.stack.sim.pay(shop.cko_id(p), **SUCCESS_CARD)  # the shopper never comes back: webhooks only
    got = events_of(shop, p["id"])
    assert types(got) == ["Payment Capture Pending", "Payment Captured"]
    assert {e["source"] for e in got} == {"qpay.payments"}
    blob = json.dumps(got)
    assert "Test Shopper" not in blob and "shopper@example.com" not in blob and "national" not in blob
    assert got[1]["detail"]["captured_amount"] == 12500


def test_paid_with_the_shopper_returning(shop: Shop) -> None:
    p = shop.create()
    sim = shop.stack.sim
    sim.webhooks.pause()  # the return records the capture first; the webhooks then change nothing
    redirect = sim.pay(shop.cko_id(p), **SUCCESS_CARD)
    assert shop.http.get(redirect).status_code == 303
    sim.webhooks.resume()
    assert types(events_of(shop, p["id"])) == ["Payment Captured"]


def test_declined_and_canceled(shop: Shop) -> None:
    declined, canceled = shop.create(), shop.create()
    sim = shop.stack.sim
    sim.pay(shop.cko_id(declined), card="4000000000000002", expiry="12/30", pin="000000")
    sim.cancel(shop.cko_id(canceled))
    assert types(events_of(shop, declined["id"])) == ["Payment Declined"]
    assert types(events_of(shop, canceled["id"])) == ["Payment Canceled"]


def test_partial_then_full_refund(shop: Shop) -> None:
    p = shop.create()
    shop.pay(p)
    shop.stack.event_tap.clear()
    assert shop.refund(p["id"], 2500).status_code == 202
    shop.stack.drain()
    got = events_of(shop, p["id"])
    assert types(got) == ["Payment Partially Refunded", "Refund Succeeded"]
    assert got[1]["detail"]["reason"] == "test"
    assert got[1]["detail"]["requested_by"].startswith("arn:aws:iam::")
    assert shop.refund(p["id"]).status_code == 202
    shop.stack.drain()
    assert types(events_of(shop, p["id"])) == [
        "Payment Partially Refunded",
        "Refund Succeeded",
        "Payment Refunded",
        "Refund Succeeded",
    ]


def test_declined_refund(shop: Shop) -> None:
    p = shop.create()
    shop.pay(p)
    shop.stack.event_tap.clear()
    shop.stack.sim.faults.decline_refunds = True
    assert shop.refund(p["id"], 2500).status_code == 202
    shop.stack.drain()
    assert types(events_of(shop, p["id"])) == ["Refund Declined"]  # the payment's status did not change


def test_local_events_endpoint(shop: Shop) -> None:
    p = shop.create()
    shop.stack.sim.cancel(shop.cko_id(p))
    shop.stack.drain()
    r = httpx.get(f"{shop.stack.api_url}/_local/events", params={"detail-type": "Payment Canceled"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["buses"] == [f"{shop.stack.stack_name}-orders"]
    assert p["id"] in [e["detail"]["payment_id"] for e in doc["events"]]
    assert {e["detail-type"] for e in doc["events"]} == {"Payment Canceled"}


def test_payment_declined_says_why_when_checkout_said_it() -> None:
    reason = {"response_code": "20006", "response_summary": "Incorrect PIN"}
    (event,) = oe.payment_events(
        payment("Pending", version=1, decline=reason), payment("Declined", version=2, decline=reason)
    )
    assert event.detail_type == "Payment Declined" and event.detail["decline"] == reason
    (silent,) = oe.payment_events(payment("Pending", version=1), payment("Declined", version=2))
    assert silent.detail["decline"] is None  # no reason given: none invented
    (captured,) = oe.payment_events(payment("Pending", version=1), payment("Captured", version=2, captured=12500))
    assert "decline" not in captured.detail
    # the reason arriving after the decline changes no status: no second event
    assert oe.payment_events(payment("Declined", version=2), payment("Declined", version=2, decline=reason)) == []

"""Webhooks: the nine QPay types, Checkout's shape, signatures, retries, chaos."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re

import httpx
import pytest
from simhelpers import NATIONAL_ID, WEBHOOK_KEY, Sink, create

from cko_sim import QPAY_EVENT_TYPES, Simulator, verify

ISO_Z = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"


def _drive_all_nine(client: httpx.Client, sim: Simulator) -> dict[str, str]:
    """Produce every QPay webhook type; returns pay ids by scenario."""
    paid = create(client, reference="ORD-PAID")["id"]
    sim.pay(paid)
    declined = create(client, reference="ORD-DECL")["id"]
    sim.pay(declined, card="4000000000000002")
    canceled = create(client, reference="ORD-CANC")["id"]
    sim.cancel(canceled)
    expired = create(client, reference="ORD-EXP")["id"]
    sim.expire_payment(expired)
    assert client.post(f"/payments/{paid}/refunds", json={"amount": 100, "reference": "RF-1"}).status_code == 202
    assert sim.webhooks.wait_idle(5)
    sim.faults.decline_refunds = True
    assert client.post(f"/payments/{paid}/refunds", json={"amount": 50}).status_code == 202
    assert sim.webhooks.wait_idle(5)
    return {"paid": paid, "declined": declined, "canceled": canceled, "expired": expired}


def test_all_nine_types_delivered_signed_over_raw_body(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    ids = _drive_all_nine(client, sim)
    received = list(sink.received)
    types = {json.loads(raw)["type"] for _, raw in received}
    assert types == set(QPAY_EVENT_TYPES)
    for headers, raw in received:
        expected = hmac.new(WEBHOOK_KEY.encode(), raw, hashlib.sha256).hexdigest()
        assert headers["Cko-Signature"] == expected
        assert verify(raw, headers["Cko-Signature"], WEBHOOK_KEY)
        assert headers["Content-Type"] == "application/json"
        assert NATIONAL_ID.encode() not in raw
        # re-serialising the JSON breaks the signature (the common merchant bug)
        reserialised = json.dumps(json.loads(raw), indent=2).encode()
        assert not verify(reserialised, headers["Cko-Signature"], WEBHOOK_KEY)
    by_pay = {}
    for body in sink.bodies():
        by_pay.setdefault(body["data"]["id"], []).append(body["type"])
    assert by_pay[ids["paid"]] == [
        "payment_pending",
        "payment_capture_pending",
        "payment_captured",
        "payment_refund_pending",
        "payment_refunded",
        "payment_refund_pending",
        "payment_refund_declined",
    ]
    assert by_pay[ids["declined"]] == ["payment_pending", "payment_capture_declined"]
    assert by_pay[ids["canceled"]] == ["payment_pending", "payment_canceled"]
    assert by_pay[ids["expired"]] == ["payment_pending", "payment_expired"]


def test_notification_shape(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    refund = client.post(f"/payments/{pay_id}/refunds", json={"amount": 300, "reference": "RF-9"}).json()
    assert sim.webhooks.wait_idle(5)
    bodies = {b["type"]: b for b in sink.bodies()}
    captured = bodies["payment_captured"]
    assert set(captured) == {"id", "type", "version", "created_on", "data", "_links"}
    assert re.fullmatch(r"evt_[a-z2-7]{26}", captured["id"])
    assert re.fullmatch(r"1\.0\.\d+", captured["version"])
    assert re.fullmatch(ISO_Z, captured["created_on"])
    data = captured["data"]
    assert data["id"] == pay_id
    assert re.fullmatch(r"act_[a-z2-7]{26}", data["action_id"])
    assert data["reference"] == "ORD-1"
    assert data["amount"] == 1000
    assert data["currency"] == "QAR"
    assert re.fullmatch(ISO_Z, data["processed_on"])
    assert data["response_code"] == "10000"
    assert data["response_summary"] == "Approved"
    assert data["metadata"] == {"order_id": "ORD-1", "cart": 3}
    assert data["balances"] == {
        "total_authorized": 1000,
        "total_voided": 0,
        "available_to_void": 0,
        "total_captured": 1000,
        "available_to_capture": 0,
        "total_refunded": 0,
        "available_to_refund": 1000,
    }
    href = f"{sim.base_url}/payments/{pay_id}"
    assert captured["_links"] == {
        "self": {"href": f"{sim.base_url}/events/{captured['id']}"},
        "subject": {"href": f"{sim.base_url}/workflows/events/subject/{pay_id}"},
        "payment": {"href": href},
        "payment_actions": {"href": f"{href}/actions"},
    }
    assert data["event_links"] == {"payment": href, "payment_actions": f"{href}/actions", "refund": f"{href}/refunds"}
    actions = client.get(f"/payments/{pay_id}/actions").json()
    assert data["action_id"] == actions[-1]["id"]  # the capture action
    refunded = bodies["payment_refunded"]["data"]
    assert refunded["action_id"] == refund["action_id"]
    assert refunded["amount"] == 300
    assert refunded["reference"] == "RF-9"
    assert refunded["metadata"] == {"order_id": "ORD-1", "cart": 3}
    assert refunded["balances"]["total_refunded"] == 300
    assert bodies["payment_refund_pending"]["data"]["action_id"] == refund["action_id"]
    assert len({b["id"] for b in sink.bodies()}) == len(sink.bodies())


def test_refund_without_reference_has_no_reference(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    client.post(f"/payments/{pay_id}/refunds", json={"amount": 10})
    assert sim.webhooks.wait_idle(5)
    assert "reference" not in sim.webhooks.bodies("payment_refunded")[0]["data"]


def test_authorization_header_is_sent_when_configured(make_sim, sink: Sink) -> None:
    sim = make_sim(webhook_urls=[sink.url], webhook_authorization="Secret abc")
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        create(c)
    assert sim.webhooks.wait_idle(5)
    assert sink.received[0][0]["Authorization"] == "Secret abc"


def test_several_endpoints_each_get_every_event(make_sim, sink: Sink) -> None:
    other = Sink()
    try:
        sim = make_sim(webhook_urls=[sink.url, other.url])
        with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
            create(c)
        assert sim.webhooks.wait_idle(5)
        assert sink.types() == other.types() == ["payment_pending"]
    finally:
        other.stop()


def test_retry_schedule_with_compressed_time(make_sim, sink: Sink) -> None:
    sink.default_status = 500
    sim = make_sim(webhook_urls=[sink.url], time_scale=0.00002)
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        create(c)
    assert sim.webhooks.wait_idle(10)
    attempts = [d for d in sim.webhooks.deliveries if d.type == "payment_pending"]
    assert [d.attempt for d in attempts] == list(range(1, 10))  # first try + 8 retries, then give up
    assert all(d.result == 500 for d in attempts)
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(attempts)]
    schedule = [300, 600, 900, 1800, 3600, 14400, 43200, 43200]
    for gap, nominal in zip(gaps, schedule, strict=True):
        assert gap >= nominal * 0.00002 * 0.99
    assert len(sink.received) == 9


def test_retry_schedule_on_the_simulator_clock(make_sim, sink: Sink) -> None:
    sink.statuses.extend([503, 503])
    sim = make_sim(webhook_urls=[sink.url], time_scale=1.0)
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        create(c)
    sink.wait_for(1)
    assert not sim.webhooks.wait_idle(0.2)  # a retry is scheduled 5 minutes out
    sim.clock.advance(299)
    assert not sim.webhooks.wait_idle(0.2)
    assert len(sink.received) == 1
    sim.clock.advance(1)
    sink.wait_for(2)
    sim.clock.advance(600)  # second retry after 10 more minutes succeeds
    assert sim.webhooks.wait_idle(5)
    assert [d.result for d in sim.webhooks.deliveries] == [503, 503, 200]
    assert [d.attempt for d in sim.webhooks.deliveries] == [1, 2, 3]
    ids = {json.loads(raw)["id"] for _, raw in sink.received}
    assert len(ids) == 1  # retries carry the same event id


def test_connection_errors_and_slow_endpoints_are_retried(make_sim, sink: Sink) -> None:
    sim = make_sim(webhook_urls=["http://127.0.0.1:9/nothing-listens"], time_scale=1.0)
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        create(c)
    for _ in range(200):
        if sim.webhooks.deliveries:
            break
        sim.webhooks.wait_idle(0.02)
    assert str(sim.webhooks.deliveries[0].result).startswith("error")
    assert sim.webhooks.pending_count() == 1

    sink.sleep = 0.5
    slow = make_sim(webhook_urls=[sink.url], time_scale=1.0, webhook_timeout_seconds=0.2)
    with httpx.Client(base_url=slow.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        create(c)
    for _ in range(200):
        if slow.webhooks.deliveries:
            break
        slow.webhooks.wait_idle(0.02)
    assert slow.webhooks.deliveries[0].result == "timeout"
    assert slow.webhooks.pending_count() == 1  # will be retried


def test_duplicate_next(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    sim.webhooks.duplicate_next(1)
    create(client)
    create(client)
    assert sim.webhooks.wait_idle(5)
    ids = [json.loads(raw)["id"] for _, raw in sink.received]
    assert len(ids) == 3
    assert ids[0] == ids[1] != ids[2]


def test_drop_next(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    sim.webhooks.drop_next(2)
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    assert sim.webhooks.wait_idle(5)
    assert sink.types() == ["payment_captured"]
    assert [e.type for e in sim.webhooks.dropped] == ["payment_pending", "payment_capture_pending"]


def test_reorder_next_delivers_reversed(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    sim.webhooks.reorder_next(3)
    pay_id = create(client)["id"]
    assert sim.webhooks.wait_idle(1)
    assert sink.received == []  # held
    sim.pay(pay_id)
    assert sim.webhooks.wait_idle(5)
    assert sink.types() == ["payment_captured", "payment_capture_pending", "payment_pending"]


def test_release_held_early(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    sim.webhooks.reorder_next(5)
    pay_id = create(client)["id"]
    sim.cancel(pay_id)
    assert sim.webhooks.held_count() == 2
    sim.webhooks.release_held()
    assert sim.webhooks.wait_idle(5)
    assert sink.types() == ["payment_canceled", "payment_pending"]


def test_delay_next_holds_an_event_back(make_sim, sink: Sink) -> None:
    sim = make_sim(webhook_urls=[sink.url], time_scale=1.0)
    sim.webhooks.delay_next(1, 120)
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        pay_id = create(c)["id"]
    sim.cancel(pay_id)
    sink.wait_for(1)
    assert sink.types() == ["payment_canceled"]
    sim.clock.advance(120)
    assert sim.webhooks.wait_idle(5)
    assert sink.types() == ["payment_canceled", "payment_pending"]


def test_pause_and_resume(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    sim.webhooks.pause()
    create(client)
    assert not sim.webhooks.wait_idle(0.2)
    assert sink.received == []
    sim.webhooks.resume()
    assert sim.webhooks.wait_idle(5)
    assert sink.types() == ["payment_pending"]


@pytest.mark.parametrize("probability", ["drop", "duplicate"])
def test_chaos_by_probability(make_sim, sink: Sink, probability: str) -> None:
    sim = make_sim(webhook_urls=[sink.url], seed=7, **{f"webhook_{probability}_probability": 1.0})
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        create(c)
    assert sim.webhooks.wait_idle(5)
    assert len(sink.received) == (0 if probability == "drop" else 2)


def test_reorder_probability_shuffles_with_delays(make_sim, sink: Sink) -> None:
    sim = make_sim(webhook_urls=[sink.url], seed=3, webhook_reorder_probability=1.0, time_scale=0.001)
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer sk_sbox_" + "a" * 27}) as c:
        for _ in range(4):
            create(c)
    assert sim.webhooks.wait_idle(5)
    emitted = [e.id for e in sim.webhooks.events]
    delivered = [json.loads(raw)["id"] for _, raw in sink.received]
    assert sorted(emitted) == sorted(delivered)
    assert emitted != delivered


def test_events_without_endpoints_are_recorded(make_sim) -> None:
    sim = make_sim(serve=False)
    client = sim.flask_app.test_client()
    r = client.post(
        "/payments",
        json={"amount": 5, "currency": "QAR", "source": {"type": "qpay", "description": "d"}},
        headers={"Authorization": "sk_sbox_" + "a" * 27},
    )
    assert r.status_code == 202
    assert sim.webhooks.wait_idle(1)
    assert [e.type for e in sim.webhooks.events] == ["payment_pending"]
    assert sim.webhooks.deliveries == []


def test_wait_idle_sees_an_event_emitted_while_it_checks(client: httpx.Client, sim: Simulator, sink: Sink) -> None:
    """A refund that settles between wait_idle's two looks (queue, then open refunds) must not be missed:
    the settle moves it from 'open' to 'queued' in one step, so open refunds are looked at first."""
    create(client)
    assert sim.webhooks.wait_idle(5)
    before = len(sink.received)
    settled: list[bool] = []

    def settles_while_asked() -> bool:  # what the ticker does at the worst moment: emit, then say "none open"
        if not settled:
            settled.append(True)
            sim.webhooks.emit(sim.webhooks.events[-1])
        return False

    sim.webhooks.set_busy_check(settles_while_asked)
    assert sim.webhooks.wait_idle(5)
    assert settled and len(sink.received) == before + 1

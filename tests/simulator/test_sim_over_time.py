"""The simulator as strict as Checkout over days (issue 19 part 5), on a frozen clock, in process: refunds
pending for hours to days and unlisted meanwhile, idempotency keys that expire after 24 h, accept-then-5xx
on refunds, an account without QPay, a failed payment sending payment_canceled, seeded ids."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from simhelpers import AUTH, qpay_body

from cko_sim import Clock, SimConfig, Simulator
from cko_sim import ids as sim_ids


def make(**config: Any) -> Simulator:
    config.setdefault("background_ticker", False)
    return Simulator(SimConfig(**config), clock=Clock(start=datetime(2027, 1, 15, tzinfo=UTC), frozen=True))


@pytest.fixture
def slow_refunds() -> Iterator[Simulator]:
    sim = make(refund_settle_seconds=2 * 86400, seed=3)
    yield sim
    sim.stop()


def captured(client: FlaskClient, sim: Simulator) -> str:
    pay_id = str(client.post("/payments", json=qpay_body(), headers=AUTH).get_json()["id"])
    sim.pay(pay_id)
    return pay_id


def refund(client: FlaskClient, pay_id: str, key: str, amount: int = 100) -> Any:
    headers = {**AUTH, "Cko-Idempotency-Key": key}
    return client.post(f"/payments/{pay_id}/refunds", json={"amount": amount, "reference": key}, headers=headers)


def refund_actions(client: FlaskClient, pay_id: str) -> list[dict[str, Any]]:
    return [a for a in client.get(f"/payments/{pay_id}/actions", headers=AUTH).get_json() if a["type"] == "Refund"]


def test_a_refund_stays_pending_for_days_unlisted_then_settles(slow_refunds: Simulator) -> None:
    client = slow_refunds.flask_app.test_client()
    pay_id = captured(client, slow_refunds)
    assert refund(client, pay_id, "qrf_1").status_code == 202
    slow_refunds.clock.advance(47 * 3600)
    assert refund_actions(client, pay_id) == []  # not listed while pending (the worst case, documented)
    slow_refunds.clock.advance(3600 + 1)
    listed = refund_actions(client, pay_id)
    assert [(a["amount"], a["approved"]) for a in listed] == [(100, True)]


def test_the_same_key_after_24_hours_is_a_new_refund(slow_refunds: Simulator) -> None:
    client = slow_refunds.flask_app.test_client()
    pay_id = captured(client, slow_refunds)
    first = refund(client, pay_id, "qrf_1").get_json()["action_id"]
    slow_refunds.clock.advance(23 * 3600)
    assert refund(client, pay_id, "qrf_1").get_json()["action_id"] == first  # replayed inside the window
    slow_refunds.clock.advance(2 * 3600)
    second = refund(client, pay_id, "qrf_1").get_json()["action_id"]
    assert second != first  # processed as normal: two refunds pending for one request
    assert len(slow_refunds.get_payment(pay_id).pending_refunds) == 2


def test_a_refund_answered_503_after_it_was_accepted_is_made_again_by_a_retry(slow_refunds: Simulator) -> None:
    client = slow_refunds.flask_app.test_client()
    pay_id = captured(client, slow_refunds)
    slow_refunds.faults.fail_next(1, "accept_then_503", path_prefix=f"/payments/{pay_id}/refunds")
    assert refund(client, pay_id, "qrf_1").status_code == 503
    assert refund(client, pay_id, "qrf_1").status_code == 202
    assert len(slow_refunds.get_payment(pay_id).pending_refunds) == 2


def test_the_settle_time_is_drawn_between_the_bounds() -> None:
    sim = make(refund_settle_seconds=3600, refund_settle_max_seconds=3 * 86400, seed=5)
    client = sim.flask_app.test_client()
    pay_id = captured(client, sim)
    for n in range(6):
        refund(client, pay_id, f"k{n}", amount=10)
    start = sim.clock.now()
    waits = [(r.due - start).total_seconds() for r in sim.get_payment(pay_id).pending_refunds]
    assert all(3600 <= w <= 3 * 86400 for w in waits) and len(set(waits)) == 6


@pytest.mark.parametrize("code", ["payee_not_onboarded", "apm_service_unavailable"])
def test_an_account_without_qpay_is_refused(code: str) -> None:
    sim = make(refuse_payments_with=(code,))
    answer = sim.flask_app.test_client().post("/payments", json=qpay_body(), headers=AUTH)
    assert answer.status_code == 422 and answer.get_json()["error_codes"] == [code]
    assert sim.payments == {}


def test_a_failed_payment_can_send_payment_canceled() -> None:
    sim = make(failed_payment_sends_canceled=True)
    client = sim.flask_app.test_client()
    pay_id = str(client.post("/payments", json=qpay_body(), headers=AUTH).get_json()["id"])
    sim.pay(pay_id, pin="000000")
    assert [e.type for e in sim.webhooks.events] == ["payment_pending", "payment_canceled"]
    assert sim.get_payment(pay_id).status.value == "Canceled"


def test_ids_come_from_a_seeded_generator_when_asked() -> None:
    try:
        sim_ids.use_random(random.Random(9))
        first = [sim_ids.new_id("pay"), sim_ids.new_pun()]
        sim_ids.use_random(random.Random(9))
        assert [sim_ids.new_id("pay"), sim_ids.new_pun()] == first
    finally:
        sim_ids.use_random(None)
    assert sim_ids.new_id("pay") != first[0]

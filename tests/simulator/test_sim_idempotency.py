"""Cko-Idempotency-Key: replay for 24 h, errors not cached, in-flight conflicts, lost responses."""

from __future__ import annotations

import threading

import httpx
import pytest
from simhelpers import AUTH, create, qpay_body

from cko_sim import Simulator


def _post(client: httpx.Client, key: str, **overrides) -> httpx.Response:
    return client.post("/payments", json=qpay_body(**overrides), headers={"Cko-Idempotency-Key": key})


def test_replay_returns_original_response(client: httpx.Client, sim: Simulator) -> None:
    first = _post(client, "key-1")
    second = _post(client, "key-1")
    assert first.status_code == second.status_code == 202
    assert first.content == second.content
    assert len(sim.payments) == 1
    assert len(sim.webhooks.bodies("payment_pending")) == 1
    third = _post(client, "key-2")
    assert third.json()["id"] != first.json()["id"]
    assert len(sim.payments) == 2


def test_errors_are_not_cached(client: httpx.Client, sim: Simulator) -> None:
    bad = _post(client, "key-err", amount=-1)
    assert bad.status_code == 422
    good = _post(client, "key-err")
    assert good.status_code == 202
    assert _post(client, "key-err").content == good.content


def test_server_fault_is_not_cached(client: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next(1, status=503)
    assert _post(client, "key-503").status_code == 503
    ok = _post(client, "key-503")
    assert ok.status_code == 202
    assert len(sim.payments) == 1


def test_keys_expire_after_24h_on_the_simulator_clock(client: httpx.Client, sim: Simulator) -> None:
    first = _post(client, "key-day")
    sim.clock.advance(24 * 3600 - 1)
    assert _post(client, "key-day").content == first.content
    sim.clock.advance(2)
    later = _post(client, "key-day")
    assert later.status_code == 202
    assert later.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("conflict_status", [409, 429])
def test_same_key_in_flight_is_refused(make_sim, conflict_status: int) -> None:
    sim = make_sim(idempotency_conflict_status=conflict_status)
    sim.faults.slow_next(1, seconds=0.5)
    results: dict[str, httpx.Response] = {}

    def slow() -> None:
        results["first"] = httpx.post(
            f"{sim.base_url}/payments", json=qpay_body(), headers={**AUTH, "Cko-Idempotency-Key": "k"}
        )

    thread = threading.Thread(target=slow)
    thread.start()
    # wait until the first request is being held
    for _ in range(100):
        if sim.faults.pending == []:
            break
        threading.Event().wait(0.01)
    threading.Event().wait(0.05)
    second = httpx.post(f"{sim.base_url}/payments", json=qpay_body(), headers={**AUTH, "Cko-Idempotency-Key": "k"})
    thread.join(5)
    assert second.status_code == conflict_status
    assert results["first"].status_code == 202
    third = httpx.post(f"{sim.base_url}/payments", json=qpay_body(), headers={**AUTH, "Cko-Idempotency-Key": "k"})
    assert third.content == results["first"].content
    assert len(sim.payments) == 1


def test_lost_response_then_retry_creates_one_payment(client: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next(1, status="accept_then_timeout", path_prefix="/payments", seconds=0.3)
    with pytest.raises(httpx.TransportError):
        client.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": "lost"}, timeout=0.2)
    assert len(sim.payments) == 1  # Checkout accepted it
    retry = client.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": "lost"})
    assert retry.status_code == 202
    assert retry.json()["id"] == next(iter(sim.payments))
    assert len(sim.payments) == 1
    assert [r.fault for r in sim.requests] == ["accept_then_timeout", None]


def test_refund_retry_with_same_key_refunds_once(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    sim.faults.fail_next(1, status="accept_then_close", path_prefix="/payments/*/refunds")
    headers = {"Cko-Idempotency-Key": "refund-1"}
    with pytest.raises(httpx.TransportError):
        client.post(f"/payments/{pay_id}/refunds", json={"amount": 400}, headers=headers)
    again = client.post(f"/payments/{pay_id}/refunds", json={"amount": 400}, headers=headers)
    assert again.status_code == 202
    again2 = client.post(f"/payments/{pay_id}/refunds", json={"amount": 400}, headers=headers)
    assert again2.content == again.content
    assert sim.webhooks.wait_idle(5)
    payment = sim.get_payment(pay_id)
    assert payment.total_refunded == 400
    assert payment.status.value == "Partially Refunded"
    assert len(sim.webhooks.bodies("payment_refunded")) == 1


def test_key_scoped_by_path(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    first = _post(client, "shared")
    refund = client.post(f"/payments/{pay_id}/refunds", json={}, headers={"Cko-Idempotency-Key": "shared"})
    assert refund.status_code == 202
    assert "action_id" in refund.json()
    assert first.json()["id"] != pay_id

"""API faults, payment expiry, and the in-process (socket-free) WSGI app."""

from __future__ import annotations

import time

import httpx
import pytest
from simhelpers import AUTH, create, qpay_body
from werkzeug.test import Client

from cko_sim import SimulatedConnectionDrop, Simulator


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_fail_next_statuses(client: httpx.Client, sim: Simulator, status: int) -> None:
    sim.faults.fail_next(2, status=status)
    assert client.post("/payments", json=qpay_body()).status_code == status
    assert client.get("/payments/pay_" + "a" * 26).status_code == status
    assert client.post("/payments", json=qpay_body()).status_code == 202
    assert len(sim.payments) == 1  # failed calls changed nothing
    assert [r.status for r in sim.requests] == [status, status, 202]


def test_fault_only_for_a_path(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    sim.faults.fail_next(1, status=502, path_prefix="/payments/*/refunds")
    assert client.get(f"/payments/{pay_id}").status_code == 200
    assert create(client)["status"] == "Pending"
    assert client.post(f"/payments/{pay_id}/refunds", json={}).status_code == 502
    assert client.post(f"/payments/{pay_id}/refunds", json={}).status_code == 202


def test_timeout_holds_then_closes_without_processing(client: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next(1, status="timeout", seconds=0.5)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/payments", json=qpay_body(), timeout=0.2)
    assert time.monotonic() - started < 0.45
    assert sim.payments == {}
    sim.faults.fail_next(1, status="timeout", seconds=0.1)
    with pytest.raises(httpx.TransportError):  # held briefly, then closed without an answer
        client.post("/payments", json=qpay_body(), timeout=2)
    assert sim.payments == {}


def test_close_drops_the_connection(client: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next(1, status="close")
    with pytest.raises(httpx.TransportError):
        client.post("/payments", json=qpay_body())
    assert sim.payments == {}
    assert sim.requests[0].status is None
    assert sim.requests[0].fault == "close"


def test_stop_releases_held_connections(make_sim) -> None:
    sim = make_sim()
    sim.faults.fail_next(1, status="timeout", seconds=60)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{sim.base_url}/payments", json=qpay_body(), headers=AUTH, timeout=0.2)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 2


def test_unknown_fault_kind_is_rejected(sim: Simulator) -> None:
    with pytest.raises(ValueError):
        sim.faults.fail_next(1, status="explode")  # type: ignore[arg-type]


def test_expire_payment_and_automatic_expiry(client: httpx.Client, make_sim) -> None:
    sim = make_sim(payment_expiry_seconds=600)
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        manual = create(c)["id"]
        auto = create(c)["id"]
        sim.expire_payment(manual)
        assert c.get(f"/payments/{manual}").json()["status"] == "Expired"
        sim.clock.advance(599)
        assert c.get(f"/payments/{auto}").json()["status"] == "Pending"
        sim.clock.advance(1)
        assert c.get(f"/payments/{auto}").json()["status"] == "Expired"
        assert sim.webhooks.wait_idle(5)
        expired = [b["data"]["id"] for b in sim.webhooks.bodies("payment_expired")]
        assert expired == [manual, auto]
        page = httpx.get(create(c)["_links"]["redirect"]["href"])
        assert page.status_code == 200


def test_expired_payment_cannot_be_paid(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client)["id"]
    sim.expire_payment(pay_id)
    with pytest.raises(Exception, match="Expired"):
        sim.pay(pay_id)


def test_wsgi_app_without_a_socket(make_sim) -> None:
    sim = make_sim(serve=False)
    client = sim.flask_app.test_client()
    created = client.post("/payments", json=qpay_body(), headers=AUTH)
    assert created.status_code == 202
    pay_id = created.get_json()["id"]
    assert created.get_json()["_links"]["self"]["href"] == f"http://localhost/payments/{pay_id}"
    sim.pay(pay_id)
    assert client.get(f"/payments/{pay_id}", headers=AUTH).get_json()["status"] == "Captured"
    sim.faults.fail_next(1, status="accept_then_close")
    with pytest.raises(SimulatedConnectionDrop):
        client.post(f"/payments/{pay_id}/refunds", json={"amount": 5}, headers=AUTH)
    assert sim.get_payment(pay_id).pending_refunds or sim.get_payment(pay_id).total_refunded == 5

    raw = Client(sim.wsgi_app)
    assert raw.get(f"/payments/{pay_id}", headers=AUTH).status_code == 200


@pytest.mark.parametrize(("kind", "status"), [("accept_then_500", 500), ("accept_then_503", 503)])
def test_accept_then_5xx_processes_caches_nothing_and_a_retry_creates_a_second_payment(
    client: httpx.Client, sim: Simulator, kind: str, status: int
) -> None:
    """Checkout keeps no idempotent result after a 5xx: the retry is processed again (fidelity R4)."""
    sim.faults.fail_next(1, status=kind, path_prefix="/payments", method="POST")  # type: ignore[arg-type]
    body = qpay_body(metadata={"qpay_payment_id": "qpp_one"})
    headers = {"Cko-Idempotency-Key": "qpp_one"}
    first = client.post("/payments", json=body, headers=headers)
    assert first.status_code == status
    if status == 500:
        assert first.content == b""
    else:
        assert first.json()["error_type"] == "service_unavailable"
    assert len(sim.payments) == 1  # processed although the answer was a 5xx
    retry = client.post("/payments", json=body, headers=headers)
    assert retry.status_code == 202
    assert len(sim.payments) == 2
    (one, two) = sorted(sim.payments.values(), key=lambda p: p.requested_on)
    assert retry.json()["id"] == two.id != one.id
    assert one.metadata == two.metadata == {"qpay_payment_id": "qpp_one"}
    replay = client.post("/payments", json=body, headers=headers)  # the 2xx is cached as usual
    assert replay.json()["id"] == two.id
    assert len(sim.payments) == 2
    assert [(r.status, r.fault) for r in sim.requests] == [(status, kind), (202, None), (202, None)]
    assert sim.webhooks.wait_idle(5)
    pendings = sim.webhooks.bodies("payment_pending")
    assert [b["data"]["id"] for b in pendings] == [one.id, two.id]
    assert all(b["data"]["metadata"] == {"qpay_payment_id": "qpp_one"} for b in pendings)


def test_accept_then_503_on_a_refund_refunds_twice_on_retry(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    sim.faults.fail_next(1, status="accept_then_503", path_prefix="/payments/*/refunds")
    headers = {"Cko-Idempotency-Key": "qrf_1"}
    assert client.post(f"/payments/{pay_id}/refunds", json={"amount": 100}, headers=headers).status_code == 503
    assert client.post(f"/payments/{pay_id}/refunds", json={"amount": 100}, headers=headers).status_code == 202
    assert sim.webhooks.wait_idle(5)
    assert sim.get_payment(pay_id).total_refunded == 200


def test_accept_then_timeout_still_caches_the_answer(client: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next(1, status="accept_then_timeout", seconds=0.05)
    with pytest.raises(httpx.TransportError):
        client.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": "k1"}, timeout=2)
    again = client.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": "k1"})
    assert again.status_code == 202
    assert len(sim.payments) == 1


def test_due_work_is_found_without_looking_at_every_payment(make_sim) -> None:
    """Expiries and refund settlements are kept in due order: the clock's tick looks at the payments
    that are due, not at every payment the simulator holds (a long load run holds thousands)."""
    sim = make_sim(serve=False, payment_expiry_seconds=600)
    c = sim.flask_app.test_client()
    held = [c.post("/payments", json=qpay_body(), headers=AUTH).get_json()["id"] for _ in range(40)]
    sim.clock.advance(300)
    late = [c.post("/payments", json=qpay_body(), headers=AUTH).get_json()["id"] for _ in range(3)]

    looked: list[str] = []
    payments = sim._payments

    class Counting(dict):  # type: ignore[type-arg]
        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            looked.append(key)
            return super().get(key, default)

        def values(self):  # type: ignore[no-untyped-def]
            raise AssertionError("run_due walked every payment")

    sim._payments = Counting(payments)
    sim.clock.advance(300)  # the first 40 are due now, the last 3 in 300 s
    assert sorted(looked) == sorted(held)
    sim._payments = payments
    assert {sim.get_payment(p).status.value for p in held} == {"Expired"}
    assert {sim.get_payment(p).status.value for p in late} == {"Pending"}

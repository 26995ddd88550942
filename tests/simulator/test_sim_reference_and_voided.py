"""``GET /payments?reference=`` (Checkout's "Get payment lists") and the ``Voided`` status switch.

The list is modelled on ``nas_spec/paths/payments.yaml`` (``get``: ``reference`` required, ``limit``
1..100 default 10, ``skip`` ≥ 0 default 0, latest first) and ``PaymentPaged.yaml``
(``{limit, skip, total_count, data}``) in Checkout's API reference (the later revision cited in
tests/contracts/README.md), and https://www.checkout.com/docs/payments/manage-payments/get-a-list-of-payments.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from simhelpers import AUTH, create

from cko_sim import Simulator


def test_list_by_reference_latest_first(client: httpx.Client, sim: Simulator) -> None:
    first = create(client, reference="ORD-77")["id"]
    sim.clock.advance(1)
    create(client, reference="ORD-OTHER")
    sim.clock.advance(1)
    second = create(client, reference="ORD-77")["id"]
    sim.pay(second)
    response = client.get("/payments", params={"reference": "ORD-77"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"limit", "skip", "total_count", "data"}
    assert (body["limit"], body["skip"], body["total_count"]) == (10, 0, 2)
    assert [p["id"] for p in body["data"]] == [second, first]
    assert [p["status"] for p in body["data"]] == ["Captured", "Pending"]
    assert body["data"][0] == client.get(f"/payments/{second}").json()


def test_list_pages_with_limit_and_skip(client: httpx.Client, sim: Simulator) -> None:
    made = []
    for _ in range(5):
        made.append(create(client, reference="ORD-PAGE")["id"])
        sim.clock.advance(1)
    page = client.get("/payments", params={"reference": "ORD-PAGE", "limit": 2, "skip": 1}).json()
    assert page["total_count"] == 5
    assert [p["id"] for p in page["data"]] == list(reversed(made))[1:3]
    empty = client.get("/payments", params={"reference": "ORD-NONE"}).json()
    assert empty == {"limit": 10, "skip": 0, "total_count": 0, "data": []}


def test_list_needs_an_exact_reference(client: httpx.Client) -> None:
    create(client, reference="ORD-1")
    assert client.get("/payments", params={"reference": "ORD"}).json()["total_count"] == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "reference_required"),
        ({"reference": "ORD-1", "limit": 0}, "paging_limit_invalid"),
        ({"reference": "ORD-1", "limit": 101}, "paging_limit_invalid"),
        ({"reference": "ORD-1", "limit": "ten"}, "paging_limit_invalid"),
        ({"reference": "ORD-1", "skip": -1}, "paging_skip_invalid"),
    ],
)
def test_list_refuses_bad_paging(client: httpx.Client, params: dict, code: str) -> None:
    response = client.get("/payments", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error_type"] == "request_invalid"
    assert body["error_codes"] == [code]


def test_list_needs_auth(sim: Simulator) -> None:
    assert httpx.get(f"{sim.base_url}/payments", params={"reference": "ORD-1"}).status_code == 401


def test_finds_the_second_payment_of_a_create_answered_503(client: httpx.Client, sim: Simulator) -> None:
    """The product's use: a create that never completed on its side is found by reference."""
    sim.faults.fail_next(1, status="accept_then_503", path_prefix="/payments", method="POST")
    lost = client.post("/payments", json=_body("ORD-LOST"), headers={"Cko-Idempotency-Key": "k-lost"})
    assert lost.status_code == 503
    found = client.get("/payments", params={"reference": "ORD-LOST"}).json()
    assert found["total_count"] == 1
    assert found["data"][0]["metadata"] == {"qpay_payment_id": "qpp_lost"}


def _body(reference: str) -> dict:
    return {
        "amount": 500,
        "currency": "QAR",
        "reference": reference,
        "source": {"type": "qpay", "description": "Order"},
        "metadata": {"qpay_payment_id": "qpp_lost"},
    }


def test_expired_reports_expired_by_default(client: httpx.Client, sim: Simulator) -> None:
    pay_id = create(client, reference="ORD-EXP")["id"]
    sim.expire_payment(pay_id)
    assert client.get(f"/payments/{pay_id}").json()["status"] == "Expired"


def test_expired_can_report_voided(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(expired_payment_status="Voided", payment_expiry_seconds=60)
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        pay_id = create(c, reference="ORD-V")["id"]
        assert c.get(f"/payments/{pay_id}").json()["status"] == "Pending"
        sim.clock.advance(60)  # abandoned: Checkout voids it and sends payment_expired
        got = c.get(f"/payments/{pay_id}").json()
        assert got["status"] == "Voided"
        assert got["approved"] is False
        assert "refund" not in got["_links"]
        assert c.get("/payments", params={"reference": "ORD-V"}).json()["data"][0]["status"] == "Voided"
        assert c.post(f"/payments/{pay_id}/refunds", json={}).status_code == 403
    assert sim.webhooks.wait_idle(5)
    assert [b["type"] for b in sim.webhooks.bodies()] == ["payment_pending", "payment_expired"]

"""POST /payments/{id}/refunds: partial, full, over balance, 403, 404, declines, dashboard refunds."""

from __future__ import annotations

import re

import httpx
import pytest
from simhelpers import create

from cko_sim import Simulator


@pytest.fixture
def captured(client: httpx.Client, sim: Simulator) -> str:
    pay_id = create(client)["id"]
    sim.pay(pay_id)
    assert sim.webhooks.wait_idle(5)
    return pay_id


def _refund(client: httpx.Client, pay_id: str, **body) -> httpx.Response:
    return client.post(f"/payments/{pay_id}/refunds", json=body)


def test_partial_then_full(client: httpx.Client, sim: Simulator, captured: str) -> None:
    r = _refund(client, captured, amount=300, reference="RF-1")
    assert r.status_code == 202
    body = r.json()
    assert re.fullmatch(r"act_[a-z2-7]{26}", body["action_id"])
    assert body["reference"] == "RF-1"
    assert body["_links"]["payment"]["href"].endswith(f"/payments/{captured}")
    assert sim.webhooks.wait_idle(5)
    got = client.get(f"/payments/{captured}").json()
    assert got["status"] == "Partially Refunded"
    assert got["balances"]["total_refunded"] == 300
    assert got["balances"]["available_to_refund"] == 700

    rest = _refund(client, captured)  # default: the rest
    assert rest.status_code == 202
    assert "reference" not in rest.json()
    assert sim.webhooks.wait_idle(5)
    got = client.get(f"/payments/{captured}").json()
    assert got["status"] == "Refunded"
    assert got["balances"] == {
        "total_authorized": 1000,
        "total_voided": 0,
        "available_to_void": 0,
        "total_captured": 1000,
        "available_to_capture": 0,
        "total_refunded": 1000,
        "available_to_refund": 0,
    }
    assert "refund" not in got["_links"]
    assert _refund(client, captured, amount=1).status_code == 403


def test_body_is_optional(client: httpx.Client, sim: Simulator, captured: str) -> None:
    r = client.post(f"/payments/{captured}/refunds")
    assert r.status_code == 202
    assert sim.webhooks.wait_idle(5)
    assert sim.get_payment(captured).status.value == "Refunded"


def test_pending_refund_reduces_available_balance(client: httpx.Client, make_sim) -> None:
    sim = make_sim(time_scale=1.0, refund_settle_seconds=60)
    with httpx.Client(base_url=sim.base_url, headers=client.headers) as c:
        pay_id = create(c)["id"]
        sim.pay(pay_id)
        assert _refund(c, pay_id, amount=600).status_code == 202
        got = c.get(f"/payments/{pay_id}").json()
        assert got["status"] == "Captured"
        assert got["balances"]["available_to_refund"] == 400
        assert got["balances"]["total_refunded"] == 0
        over = _refund(c, pay_id, amount=500)
        assert over.status_code == 422
        assert over.json()["error_codes"] == ["amount_exceeds_balance"]
        sim.clock.advance(60)
        got = c.get(f"/payments/{pay_id}").json()
        assert got["status"] == "Partially Refunded"
        assert got["balances"]["total_refunded"] == 600


def test_over_balance_is_422(client: httpx.Client, captured: str) -> None:
    r = _refund(client, captured, amount=1001)
    assert r.status_code == 422
    body = r.json()
    assert body["error_type"] == "request_invalid"
    assert body["error_codes"] == ["amount_exceeds_balance"]


@pytest.mark.parametrize("amount", [0, -1, 1.5, "10"])
def test_invalid_amount(client: httpx.Client, captured: str, amount) -> None:
    r = _refund(client, captured, amount=amount)
    assert r.status_code == 422
    assert r.json()["error_codes"] == ["amount_invalid"]


def test_invalid_json(client: httpx.Client, captured: str) -> None:
    r = client.post(f"/payments/{captured}/refunds", content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error_codes"] == ["request_json_invalid"]


@pytest.mark.parametrize("how", ["pending", "canceled", "declined", "expired"])
def test_not_captured_is_403(client: httpx.Client, sim: Simulator, how: str) -> None:
    pay_id = create(client)["id"]
    if how == "canceled":
        sim.cancel(pay_id)
    elif how == "declined":
        sim.pay(pay_id, card="1111222233334444")
    elif how == "expired":
        sim.expire_payment(pay_id)
    r = _refund(client, pay_id, amount=100)
    assert r.status_code == 403
    assert r.content == b""


def test_unknown_payment_is_404(client: httpx.Client) -> None:
    r = _refund(client, "pay_" + "z" * 26, amount=100)
    assert r.status_code == 404
    assert r.content == b""


def test_declined_refund(client: httpx.Client, sim: Simulator, captured: str) -> None:
    sim.faults.decline_refunds = True
    r = _refund(client, captured, amount=200, reference="RF-D")
    assert r.status_code == 202  # a 202 is not a refund
    assert sim.webhooks.wait_idle(5)
    types = [b["type"] for b in sim.webhooks.bodies()]
    assert types[-2:] == ["payment_refund_pending", "payment_refund_declined"]
    declined = sim.webhooks.bodies("payment_refund_declined")[0]["data"]
    assert declined["action_id"] == r.json()["action_id"]
    assert declined["response_code"] == "20006"
    assert declined["reference"] == "RF-D"
    payment = sim.get_payment(captured)
    assert payment.status.value == "Captured"
    assert payment.available_to_refund == 1000
    actions = client.get(f"/payments/{captured}/actions").json()
    assert actions[0]["type"] == "Refund"
    assert actions[0]["approved"] is False


def test_dashboard_refund_emits_webhooks_with_foreign_reference(
    client: httpx.Client, sim: Simulator, captured: str
) -> None:
    action_id = sim.dashboard_refund(captured, 250)
    assert sim.webhooks.wait_idle(5)
    pending = sim.webhooks.bodies("payment_refund_pending")[-1]["data"]
    refunded = sim.webhooks.bodies("payment_refunded")[-1]["data"]
    assert pending["action_id"] == refunded["action_id"] == action_id
    assert refunded["amount"] == 250
    assert refunded["reference"] != "ORD-1"
    assert refunded["reference"].startswith("DASHBOARD-")
    assert sim.get_payment(captured).status.value == "Partially Refunded"
    assert not any(r.path.endswith("/refunds") for r in sim.requests)  # no API refund call was made

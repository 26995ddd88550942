"""Admin routes accept the merchant's own ids; JSON everywhere, in Checkout's error shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from simhelpers import AUTH, create

from cko_sim import Simulator


def _admin(sim: Simulator, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{sim.base_url}/_sim{path}", **kwargs)


def _assert_checkout_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"request_id", "error_type", "error_codes"}
    assert body["request_id"]
    assert code in body["error_codes"]


def _merchant_payment(client: httpx.Client, qpp: str, reference: str) -> dict[str, Any]:
    return create(client, reference=reference, metadata={"qpay_payment_id": qpp})


@pytest.mark.parametrize("which", ["pay_id", "pun", "merchant_id", "reference"])
def test_pay_by_any_id(client: httpx.Client, sim: Simulator, which: str) -> None:
    created = _merchant_payment(client, "qpp_a1", "ORD-A1")
    pun = parse_qs(urlsplit(created["_links"]["redirect"]["href"]).query)["pun"][0]
    ident = {"pay_id": created["id"], "pun": pun, "merchant_id": "qpp_a1", "reference": "ORD-A1"}[which]
    paid = _admin(sim, "POST", f"/payments/{ident}/pay", json={"card": "4215375500883243", "pin": "123456"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["id"] == created["id"]
    assert paid.json()["status"] == "Captured"
    shown = _admin(sim, "GET", f"/payments/{ident}").json()
    assert shown["id"] == created["id"]
    assert shown["metadata"] == {"qpay_payment_id": "qpp_a1"}


def test_cancel_expire_and_dashboard_refund_by_merchant_id(client: httpx.Client, sim: Simulator) -> None:
    _merchant_payment(client, "qpp_c", "ORD-C")
    _merchant_payment(client, "qpp_e", "ORD-E")
    refundable = _merchant_payment(client, "qpp_r", "ORD-R")
    assert _admin(sim, "POST", "/payments/qpp_c/cancel").json()["redirect_url"].startswith("https://shop.example/fail")
    assert _admin(sim, "POST", "/payments/qpp_e/expire").json()["ok"] is True
    sim.pay(refundable["id"])
    refund = _admin(sim, "POST", "/payments/qpp_r/dashboard-refund", json={"amount": 100})
    assert refund.json()["action_id"].startswith("act_")
    assert sim.webhooks.wait_idle(5)
    statuses = {p.reference: p.status.value for p in sim.payments.values()}
    assert statuses == {"ORD-C": "Canceled", "ORD-E": "Expired", "ORD-R": "Partially Refunded"}


def test_shared_merchant_id_prefers_the_latest_payment_in_a_usable_state(client: httpx.Client, sim: Simulator) -> None:
    old = _merchant_payment(client, "qpp_dup", "ORD-DUP")["id"]
    sim.clock.advance(1)
    new = _merchant_payment(client, "qpp_dup", "ORD-DUP")["id"]
    sim.cancel(new)
    # the only Pending one is the older payment
    paid = _admin(sim, "POST", "/payments/qpp_dup/pay", json={}).json()
    assert paid["id"] == old
    assert _admin(sim, "GET", "/payments/qpp_dup").json()["id"] == new  # plain lookup: the latest


def test_metadata_key_is_configurable(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(merchant_id_metadata_key="order_uid")
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        created = create(c, metadata={"order_uid": "u-42"})
    assert _admin(sim, "GET", "/payments/u-42").json()["id"] == created["id"]
    _assert_checkout_error(_admin(sim, "GET", "/payments/qpp_x"), 404, "payment_not_found")


def test_admin_errors_use_checkouts_shape(client: httpx.Client, sim: Simulator) -> None:
    _assert_checkout_error(_admin(sim, "POST", "/payments/qpp_nope/pay"), 404, "payment_not_found")
    created = create(client)
    assert _admin(sim, "POST", f"/payments/{created['id']}/expire").status_code == 200
    again = _admin(sim, "POST", f"/payments/{created['id']}/expire")
    _assert_checkout_error(again, 409, "payment_not_pending")
    _assert_checkout_error(_admin(sim, "POST", "/clock/advance", json={"seconds": "soon"}), 422, "seconds_invalid")
    _assert_checkout_error(_admin(sim, "POST", "/faults/fail-next", json={"status": "boom"}), 422, "fault_invalid")


def test_index_and_unknown_routes_answer_json(sim: Simulator) -> None:
    index = _admin(sim, "GET", "")
    assert index.status_code == 200
    routes = index.json()["routes"]
    assert "POST /_sim/payments/{id}/pay" in routes
    assert "GET /_sim/health" in routes
    _assert_checkout_error(httpx.get(f"{sim.base_url}/"), 404, "route_not_found")
    _assert_checkout_error(_admin(sim, "GET", "/nope"), 404, "route_not_found")
    _assert_checkout_error(httpx.get(f"{sim.base_url}/favicon.ico"), 404, "route_not_found")
    _assert_checkout_error(_admin(sim, "DELETE", "/health"), 405, "http_405")
    # Checkout's own API keeps its empty 404 bodies
    api_404 = httpx.get(f"{sim.base_url}/payments/pay_x/unknown/deeper", headers=AUTH)
    assert api_404.status_code == 404
    assert api_404.content == b""


def test_every_indexed_route_exists(sim: Simulator) -> None:
    rules = {(m, r.rule) for r in sim.flask_app.url_map.iter_rules() for m in (r.methods or ()) if m in ("GET", "POST")}
    for line in _admin(sim, "GET", "").json()["routes"]:
        method, path = line.split(" ", 1)
        flask_path = path.replace("{id}", "<ident>")
        assert (method, flask_path) in rules, line

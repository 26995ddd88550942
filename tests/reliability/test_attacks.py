"""The attack run, over HTTP against the local stack (issue 13, "Inputs an attacker picks"): each case was
reproduced against ``make run`` on c17bcee. Nothing here may answer 5xx (a 5xx feeds the alarm that
rolls back canary deploys: anyone could force a rollback), and nothing may change stored money."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Shop
from tests.reliability.conftest import snapshot, table_items


def _merchant(shop: Shop) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.stack.keys.merchant_api_key}"}


def _body(reference: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "reference": reference or f"ORD-{uuid.uuid4().hex[:10]}",
        "amount": 1000,
        "currency": "QAR",
        "description": "Attack run",
        "national_id": "28763400000",
        **extra,
    }


def _signed(shop: Shop, doc: Any) -> tuple[bytes, dict[str, str]]:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    sig = hmac.new(shop.stack.keys.webhook_signing_key.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Cko-Signature": sig, "Content-Type": "application/json"}


def _captured(shop: Shop) -> dict[str, Any]:
    payment = shop.create(amount=1000)
    shop.pay(payment)
    assert shop.get(payment["id"])["status"] == "Captured"
    return payment


def test_b1_non_ascii_signature_is_401(shop: Shop) -> None:
    raw, _ = _signed(shop, {"id": "evt_x", "type": "payment_captured", "data": {}})
    r = shop.http.post(
        f"{shop.stack.api_url}/webhooks/checkout",
        content=raw,
        headers={"Cko-Signature": "ÿ".encode("latin-1") * 64, "Content-Type": "application/json"},
    )
    assert r.status_code == 401


@pytest.mark.parametrize("route", ["/payments", "/webhooks/checkout"])
def test_b2_w3_deeply_nested_bodies_are_4xx(shop: Shop, route: str) -> None:
    deep = b"[" * 100_000
    headers = _signed(shop, deep)[1] if route.startswith("/webhooks") else {"Content-Type": "application/json"}
    r = shop.http.post(f"{shop.stack.api_url}{route}", content=deep, headers=headers)
    assert r.status_code in (400, 413, 422), r.text


def test_b3_a_refund_outcome_naming_no_refund_of_ours_breaks_nothing(shop: Shop) -> None:
    payment = _captured(shop)
    cko = shop.cko_id(payment)
    doc = {
        "id": f"evt_{uuid.uuid4().hex[:26]}",
        "type": "payment_refunded",
        "created_on": "2030-01-01T00:00:00Z",
        "data": {
            "id": cko,
            "action_id": f"act_{uuid.uuid4().hex[:26]}",
            "reference": "qrf_" + "z" * 26,
            "amount": 100,
            "currency": "QAR",
            "metadata": {"qpay_payment_id": payment["id"]},
        },
    }
    raw, headers = _signed(shop, doc)
    for _ in range(2):  # and its retry
        assert (
            shop.http.post(f"{shop.stack.api_url}/webhooks/checkout", content=raw, headers=headers).status_code == 200
        )
    assert not [i for i in table_items(shop, payment["id"]) if i["sk"] == "REFUND#qrf_" + "z" * 26]
    assert shop.get(payment["id"])["refunded_amount"] == 100  # a Dashboard-style refund, counted once


@pytest.mark.parametrize(
    ("amount", "currency"), [(50_000, "QAR"), (100, "USD"), (2**80, "QAR")], ids=["over", "usd", "huge"]
)
def test_w1_signed_refunds_that_do_not_add_up_are_parked(shop: Shop, amount: int, currency: str) -> None:
    payment = _captured(shop)
    before = shop.get(payment["id"])
    doc = {
        "id": f"evt_{uuid.uuid4().hex[:26]}",
        "type": "payment_refunded",
        "data": {
            "id": shop.cko_id(payment),
            "action_id": f"act_{uuid.uuid4().hex[:26]}",
            "amount": amount,
            "currency": currency,
            "metadata": {"qpay_payment_id": payment["id"]},
        },
    }
    raw, headers = _signed(shop, doc)
    r = shop.http.post(f"{shop.stack.api_url}/webhooks/checkout", content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["result"] == "parked"
    after = shop.get(payment["id"])
    assert (after["refunded_amount"], after["status"]) == (before["refunded_amount"], before["status"])


def test_w4_anonymous_return_hits_are_bounded_per_payment(shop: Shop) -> None:
    payment = shop.create()
    sim = shop.stack.sim
    assert sim is not None
    before = len([r for r in sim.requests if r.method == "GET"])
    for _ in range(25):
        r = shop.http.get(
            f"{shop.stack.api_url}/payments/return/success",
            params={"payment_id": payment["id"]},
            follow_redirects=False,
        )
        assert r.status_code == 303
    asked = len([r for r in sim.requests if r.method == "GET"]) - before
    assert asked <= 2  # one per few seconds per container, not one per hit


def test_w5_m6_a_payment_is_not_readable_without_credentials(shop: Shop) -> None:
    payment = shop.create()
    url = f"{shop.stack.api_url}/payments/{payment['id']}"
    assert shop.http.get(url).status_code == 401
    assert shop.http.get(url, headers={"X-Client-Secret": payment["id"] + "_secret_guess"}).status_code == 404
    ok = shop.http.get(url, headers={"X-Client-Secret": payment["client_secret"]})
    assert ok.status_code == 200 and ok.json()["id"] == payment["id"]


def _race(n: int, call: Any) -> list[httpx.Response]:
    barrier = threading.Barrier(n)
    out: list[httpx.Response] = []
    lock = threading.Lock()

    def run() -> None:
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            r = call(http)
        with lock:
            out.append(r)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_w7_concurrent_creates_with_one_key_make_one_payment(any_shop: Shop) -> None:
    shop, body, key = any_shop, _body(), f"race-{uuid.uuid4().hex}"
    answers = _race(
        30,
        lambda http: http.post(
            f"{shop.stack.api_url}/payments", json=body, headers={**_merchant(shop), "Idempotency-Key": key}
        ),
    )
    codes = Counter(r.status_code for r in answers)
    assert not [c for c in codes if c >= 500], {r.status_code: r.text for r in answers if r.status_code >= 500}
    assert codes[201] >= 1 and set(codes) <= {201, 409}, codes
    created = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(created) == 1  # replays of the one payment
    sim = shop.stack.sim
    assert sim is not None
    assert len([p for p in sim.payments.values() if p.reference == body["reference"]]) == 1


def test_w7_concurrent_creates_of_one_order_make_one_payment(any_shop: Shop) -> None:
    shop, reference = any_shop, f"ORD-{uuid.uuid4().hex[:10]}"
    answers = _race(
        20, lambda http: http.post(f"{shop.stack.api_url}/payments", json=_body(reference), headers=_merchant(shop))
    )
    codes = Counter(r.status_code for r in answers)
    assert not [c for c in codes if c >= 500], {r.status_code: r.text for r in answers if r.status_code >= 500}
    assert codes[201] == 1 and codes[409] == 19, codes
    sim = shop.stack.sim
    assert sim is not None
    assert len([p for p in sim.payments.values() if p.reference == reference]) == 1
    before = snapshot(shop)
    again = shop.http.post(f"{shop.stack.api_url}/payments", json=_body(reference), headers=_merchant(shop))
    assert again.status_code == 409 and snapshot(shop) == before

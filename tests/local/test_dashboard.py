"""The local dashboard's JSON endpoints: payments (search by reference or id) and per payment a
timeline of our status changes, Checkout webhooks and our answers, API calls, refunds, order events
and expiry timers; the page and its assets are served locally, without external assets."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from qpay_local import sigv4
from qpay_local.activity import Activity
from qpay_local.banner import TEST_NATIONAL_ID, example_create_body
from qpay_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack():
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, dashboard=True) as s:
        yield s


def create(stack, reference):
    headers = {"Authorization": f"Bearer {stack.keys.merchant_api_key}", "Idempotency-Key": f"dash-{reference}"}
    r = httpx.post(f"{stack.api_url}/payments", json=example_create_body(reference), headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def cko_id(stack, reference):
    return next(p.id for p in stack.sim.payments.values() if p.reference == reference)


def refund(stack, pid, amount):
    url = f"{stack.api_url}/payments/{pid}/refunds"
    body = json.dumps({"amount": amount}).encode()
    headers = sigv4.sign_headers(
        method="POST",
        url=url,
        body=body,
        credentials=stack.botocore_credentials,
        region=stack.region,
        headers={"content-type": "application/json", "idempotency-key": f"refund-{pid}"},
    )
    r = httpx.post(url, content=body, headers=headers, timeout=30)
    assert r.status_code == 202, r.text


def detail(stack, ident, want=lambda d: True, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        stack.drain()
        r = httpx.get(f"{stack.api_url}/_local/api/payments/{ident}", timeout=10)
        doc = r.json()
        if r.status_code != 200 or want(doc) or time.monotonic() > deadline:
            return r.status_code, doc
        time.sleep(0.2)


@pytest.fixture(scope="module")
def paid(stack):
    pid = create(stack, "ORD-DASH-1")
    stack.sim.pay(cko_id(stack, "ORD-DASH-1"))
    stack.drain()
    refund(stack, pid, 1000)
    other = create(stack, "ORD-DASH-2")
    stack.sim.cancel(cko_id(stack, "ORD-DASH-2"))
    return pid, other


def titles(doc, kind):
    return [e["title"] for e in doc["timeline"] if e["kind"] == kind]


def test_list_and_search(stack, paid):
    pid, other = paid
    stack.drain()
    everything = httpx.get(f"{stack.api_url}/_local/api/payments").json()["payments"]
    assert {p["id"] for p in everything} >= {pid, other}
    found = httpx.get(f"{stack.api_url}/_local/api/payments", params={"q": "dash-1"}).json()["payments"]
    assert [p["id"] for p in found] == [pid]
    by_id = httpx.get(f"{stack.api_url}/_local/api/payments", params={"q": other[:12]}).json()["payments"]
    assert [p["reference"] for p in by_id] == ["ORD-DASH-2"]
    assert by_id[0]["status"] == "Canceled" and by_id[0]["amount"] == 12500


def test_timeline_of_a_paid_and_refunded_payment(stack, paid):
    pid, _ = paid
    status, doc = detail(
        stack,
        pid,
        lambda d: (
            d["refunds"]
            and d["refunds"][0]["state"] == "Refunded"
            and any("Refund Succeeded" in t for t in titles(d, "event"))
        ),
    )
    assert status == 200
    assert doc["payment"]["status"] == "Partially Refunded"
    assert doc["payment"]["refunded_amount"] == 1000
    assert doc["payment"]["cko_id"] == cko_id(stack, "ORD-DASH-1")
    assert doc["timer"] is not None and doc["timer"]["attempt"] == 0
    kinds = {e["kind"] for e in doc["timeline"]}
    assert kinds >= {"status", "webhook", "api", "refund", "event", "timer"}
    assert titles(doc, "status")[0] == "created: Pending"
    assert any(t.endswith("→ Captured") for t in titles(doc, "status"))
    webhooks = titles(doc, "webhook")
    assert "Checkout webhook payment_captured → 200 (applied)" in webhooks
    assert any(t.startswith("Checkout webhook payment_refunded → 200") for t in webhooks)
    assert f"POST /payments/{pid}/refunds → 202" in titles(doc, "api")
    refunds = titles(doc, "refund")
    assert refunds[0].endswith(": Requested") and refunds[-1].endswith("→ Refunded")
    assert "order event Payment Captured" in titles(doc, "event")
    assert titles(doc, "timer")[0].startswith("expiry timer armed for")
    times = [(e["at"], e["seq"]) for e in doc["timeline"]]
    assert times == sorted(times)
    assert TEST_NATIONAL_ID not in json.dumps(doc)  # never the shopper's national ID


def test_by_reference_and_unknown(stack, paid):
    pid, _ = paid
    status, doc = detail(stack, "ORD-DASH-1")
    assert status == 200 and doc["payment"]["id"] == pid
    r = httpx.get(f"{stack.api_url}/_local/api/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert r.status_code == 404 and r.json() == {"message": "no such payment"}


def test_page_and_assets_are_local(stack):
    for path in ("/_local", "/_local/"):
        r = httpx.get(stack.api_url + path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        html = r.text
        assert 'data-base="/_local"' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), assets  # nothing from another host
    for asset in ("/_local/static/dashboard.css", "/_local/static/dashboard.js"):
        r = httpx.get(stack.api_url + asset)
        assert r.status_code == 200
        assert "http://" not in r.text and "https://" not in r.text
    assert httpx.get(stack.api_url + "/_local/static/../dashboard.py").status_code == 404
    assert httpx.get(stack.api_url + "/_local/events").json()["buses"]  # the events route still answers


def test_timer_fired_by_ttl_is_told_apart_from_a_delete():
    activity = Activity()
    keys = {"pk": {"S": "PAYMENT#qpp_t"}, "sk": {"S": "TIMER"}}
    old = {**keys, "expires_at_epoch": {"N": "1795600800"}, "attempt": {"N": "1"}}
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    activity.on_stream_batch(
        "LocalDashboard",
        {
            "Records": [
                {"eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": old}},
                {"eventName": "REMOVE", "dynamodb": {"Keys": keys, "OldImage": old}, "userIdentity": ttl},
                {"eventName": "REMOVE", "dynamodb": {"Keys": keys, "OldImage": old}},
            ]
        },
    )
    got = [e["title"] for e in activity.timeline("qpp_t")]
    assert got[0].startswith("expiry timer armed for") and "attempt 1" in got[0]
    assert got[1].startswith("expiry timer fired (TTL")
    assert got[2] == "expiry timer removed"

"""Faults end to end over HTTP on the local stack: Checkout.com times out after accepting a create,
and our webhook endpoint is down for a while."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from qpay import deps
from tests.e2e.conftest import Shop
from tests.reliability.conftest import event_records, table_items


def test_create_timeout_after_checkout_accepted_ends_with_one_payment(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkout.com processes the create and never answers (accept_then_timeout), then answers 503 →
    our 503; the storefront retries with the same Idempotency-Key → 201, and Checkout.com holds one
    payment for the order (the retry reused the key as Cko-Idempotency-Key)."""
    monkeypatch.setenv("CHECKOUT_TIMEOUT_S", "1")
    deps.reset()
    try:
        sim = shop.stack.sim
        assert sim is not None
        reference = f"ORD-{uuid.uuid4().hex[:8]}"
        body = {
            "reference": reference,
            "amount": 4000,
            "currency": "QAR",
            "description": "Order",
            "language": "en",
            "quantity": 1,
            "national_id": "28763400000",
        }
        headers = {
            "Authorization": f"Bearer {shop.stack.keys.merchant_api_key}",
            "Idempotency-Key": f"idem-{reference}",
        }
        sim.faults.fail_next(1, "accept_then_timeout")
        sim.faults.fail_next(5, 503)
        first = shop.http.post(f"{shop.stack.api_url}/payments", json=body, headers=headers)
        assert first.status_code == 503, first.text
        assert set(first.json()) == {"code", "message", "fields", "request_id"}
        sim.faults.reset()
        second = shop.http.post(f"{shop.stack.api_url}/payments", json=body, headers=headers)
        assert second.status_code == 201, second.text
        third = shop.http.post(f"{shop.stack.api_url}/payments", json=body, headers=headers)
        assert third.json() == second.json()
        assert [p.id for p in sim.payments.values() if p.reference == reference] == [
            shop.item(second.json()["id"])["cko_id"]
        ]
    finally:
        monkeypatch.delenv("CHECKOUT_TIMEOUT_S")
        deps.reset()


def test_webhook_endpoint_down_then_up_every_event_applied_once(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook function fails (5xx) for its next 5 deliveries; Checkout's retry schedule
    (time-compressed) redelivers → every event the simulator emitted for the payment ends delivered
    with a 2xx, is applied once (one applied-event record each), and the payment is Captured."""
    import qpay.handlers.webhook as webhook_handler

    payment = shop.create(amount=12500)
    shop.stack.drain()
    real = webhook_handler.handle
    lock = threading.Lock()
    down = {"left": 5}

    def flaky(*args: Any, **kwargs: Any) -> str:
        with lock:
            if down["left"] > 0:
                down["left"] -= 1
                raise ConnectionError("webhook function is down")
        return real(*args, **kwargs)

    monkeypatch.setattr(webhook_handler, "handle", flaky)
    shop.pay(payment)  # follows the return and drains (waits for every retry to settle)
    shop.stack.drain(timeout=60)
    assert down["left"] == 0
    sim = shop.stack.sim
    assert sim is not None
    cko = shop.cko_id(payment)
    events = [e for e in sim.webhooks.events if e.payment_id == cko]
    deliveries = [d for d in sim.webhooks.deliveries if d.payment_id == cko]
    assert {"payment_capture_pending", "payment_captured"} <= {e.type for e in events}
    assert any(not (isinstance(d.result, int) and d.result < 300) for d in deliveries)  # it was down
    for e in events:
        results = [d.result for d in deliveries if d.event_id == e.id]
        assert any(isinstance(r, int) and 200 <= r < 300 for r in results), (e.type, results)
    items = table_items(shop, payment["id"])
    payment_events = [e for e in events if "refund" not in e.type]
    for e in payment_events:
        assert len(event_records(items, e.id)) <= 1
    assert shop.get(payment["id"])["status"] == "Captured"
    assert shop.item(payment["id"])["captured_amount"] == 12500

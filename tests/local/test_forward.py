"""``--forward-events-to``: every order event reaches the merchant's endpoint as the EventBridge
envelope, signed per Standard Webhooks with the forwarding secret (verified here with the spec's own
``standardwebhooks`` library), retried with backoff when the endpoint fails; every attempt is on the
dashboard's timeline, and the dashboard resends one on request."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from qpay_local import forwarder, keys
from qpay_local.banner import example_create_body
from qpay_local.stack import LocalStack


class Receiver:
    """A merchant endpoint that fails its first request (500), then accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 500 if not outer.received else 200
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The spec's test vector (standard-webhooks/standard-webhooks, libraries' tests and spec examples)
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_headers_are_standard_webhooks_and_match_the_spec_vector():
    msg_id, ts, body = VECTOR
    headers = forwarder.signed_headers(VECTOR_SECRET, msg_id, body, ts)
    assert headers == {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": VECTOR_SIGNATURE}


def test_a_receiver_with_the_library_accepts_ours_and_refuses_tampering_and_staleness():
    secret = keys.standard_webhooks_secret()
    body = b'{"detail-type":"Payment Captured"}'
    now = int(time.time())
    good = forwarder.signed_headers(secret, "evt-1", body, now)
    assert Webhook(secret).verify(body.decode(), good) == {"detail-type": "Payment Captured"}
    for bad_body, headers in (
        (body + b" ", good),
        (body, forwarder.signed_headers(keys.standard_webhooks_secret(), "evt-1", body, now)),
        (body, forwarder.signed_headers(secret, "evt-1", body, now - 3600)),  # replayed an hour later
        (body, {**good, "webhook-id": "evt-2"}),
    ):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(bad_body.decode(), headers)


def test_the_forwarding_secret_is_in_the_spec_format_and_an_old_one_is_replaced():
    fresh = keys.LocalKeys.generate()
    assert keys.is_standard_webhooks_secret(fresh.forwarding_secret)
    doc = {**fresh.to_doc(), "event_forwarding_secret": "whsec_fwd_0123456789abcdef0123456789abcdef"}
    upgraded = keys.LocalKeys.from_doc(doc)
    assert keys.is_standard_webhooks_secret(upgraded.forwarding_secret)
    assert upgraded.merchant_api_key == fresh.merchant_api_key
    assert keys.LocalKeys.from_doc(fresh.to_doc()).forwarding_secret == fresh.forwarding_secret


def test_backoff_grows_is_capped_and_jittered():
    rng = random.Random(7)
    delays = [forwarder.backoff_s(a, 0.5, 8.0, rng) for a in range(1, 8)]
    for attempt, d in enumerate(delays, 1):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= d <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)


def test_gives_up_after_a_few_attempts(caplog):
    fwd = forwarder.EventForwarder(
        "http://127.0.0.1:9/never", keys.standard_webhooks_secret(), max_attempts=3, base_delay_s=0.01, seed=1
    )
    fwd.start()
    try:
        with caplog.at_level(logging.INFO, logger="qpay_local.forward"):
            fwd.submit({"id": "e1", "detail-type": "Payment Captured"})
            assert fwd.wait_idle(10)
    finally:
        fwd.stop()
    assert [d.attempt for d in fwd.deliveries] == [1, 2, 3]
    assert fwd.given_up == ["e1"]
    assert "gave up" in caplog.text


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_order_events_reach_the_merchant_signed_with_a_retry(receiver, caplog):
    with (
        caplog.at_level(logging.INFO, logger="qpay_local.forward"),
        LocalStack(
            api_port=0,
            sim_port=0,
            time_scale=0.001,
            schedule_interval_s=None,
            forward_events_to=receiver.url,
            events_batching_window_s=0,
            dashboard=True,
        ) as stack,
    ):
        assert stack.events_batching == (10.0, 0)  # the template's window, and the one asked for
        fwd = stack.forwarder
        assert fwd is not None
        fwd.base_delay_s = 0.05
        headers = {"Authorization": f"Bearer {stack.keys.merchant_api_key}", "Idempotency-Key": "fwd-1"}
        r = httpx.post(f"{stack.api_url}/payments", json=example_create_body("ORD-FWD-1"), headers=headers, timeout=30)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        stack.sim.pay(next(p.id for p in stack.sim.payments.values() if p.reference == "ORD-FWD-1"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stack.drain()
            accepted = [b for _, b, s in receiver.received if s == 200]
            types = [json.loads(b)["detail-type"] for b in accepted]
            if "Payment Captured" in types:
                break
            time.sleep(0.1)
        secret = stack.keys.forwarding_secret
        # the dashboard shows every attempt (the failed one too) and resends an event on request
        timeline = httpx.get(f"{stack.api_url}/_local/api/payments/{pid}", timeout=10).json()
        deliveries = [e for e in timeline["timeline"] if e["kind"] == "delivery"]
        assert [d["ok"] for d in deliveries][:2] == [False, True], deliveries
        assert "500" in deliveries[0]["title"] and "attempt 1" in deliveries[0]["title"]
        assert timeline["forwarding"] is True
        captured_id = next(
            json.loads(b)["id"] for _, b, st in receiver.received if st == 200 and b"Payment Captured" in b
        )
        before = len(receiver.received)
        resent = httpx.post(f"{stack.api_url}/_local/api/events/{captured_id}/resend", timeout=10)
        assert resent.status_code == 202, resent.text
        assert httpx.post(f"{stack.api_url}/_local/api/events/evt-unknown/resend", timeout=10).status_code == 404
        stack.drain()
        again = receiver.received[before:]
        assert [json.loads(b)["id"] for _, b, _ in again] == [captured_id]
        assert again[0][0]["webhook-id"] == captured_id  # the same message id: a de-duplicating receiver ignores it
        titles = [
            e["title"] for e in httpx.get(f"{stack.api_url}/_local/api/payments/{pid}", timeout=10).json()["timeline"]
        ]
        assert any("resent" in t for t in titles), titles
    assert "Payment Captured" in types, receiver.received
    first_headers, first_body, first_status = receiver.received[0]
    assert first_status == 500
    # the failed event came again, the same bytes and webhook-id, freshly signed
    retried = [(h, b) for h, b, s in receiver.received[1:] if b == first_body]
    assert retried and retried[0][0]["webhook-id"] == first_headers["webhook-id"]
    for h, body, _ in receiver.received:
        envelope = Webhook(secret).verify(body.decode(), h)
        assert h["webhook-id"] == envelope["id"]
        assert {"id", "detail-type", "source", "time", "detail"} <= set(envelope)
        assert envelope["detail"]["payment_id"] == pid
    assert "attempt 1 of 5); retrying in" in caplog.text
    assert "forwarded Payment Captured" in caplog.text

"""``--forward-events-to``: every order event reaches the merchant's endpoint as the EventBridge
envelope, signed with the forwarding secret, retried with backoff when the endpoint fails."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from qpay_local import forwarder
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


def test_signature_round_trip_and_staleness():
    body = b'{"detail-type":"Payment Captured"}'
    header = forwarder.signature("whsec_fwd_x", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert forwarder.verify("whsec_fwd_x", body, header, now=1_700_000_100)
    assert not forwarder.verify("whsec_fwd_x", body + b" ", header, now=1_700_000_100)
    assert not forwarder.verify("other", body, header, now=1_700_000_100)
    assert not forwarder.verify("whsec_fwd_x", body, header, now=1_700_001_000)  # older than 5 minutes


def test_backoff_grows_is_capped_and_jittered():
    rng = random.Random(7)
    delays = [forwarder.backoff_s(a, 0.5, 8.0, rng) for a in range(1, 8)]
    for attempt, d in enumerate(delays, 1):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= d <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)


def test_gives_up_after_a_few_attempts(caplog):
    fwd = forwarder.EventForwarder("http://127.0.0.1:9/never", "s", max_attempts=3, base_delay_s=0.01, seed=1)
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
            api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, forward_events_to=receiver.url
        ) as stack,
    ):
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
    assert "Payment Captured" in types, receiver.received
    first_headers, first_body, first_status = receiver.received[0]
    assert first_status == 500
    # the failed event came again, the same bytes, freshly signed
    retried = [(h, b) for h, b, s in receiver.received[1:] if b == first_body]
    assert retried and retried[0][0]["qpay-event-id"] == first_headers["qpay-event-id"]
    for h, body, _ in receiver.received:
        assert forwarder.verify(secret, body, h["qpay-signature"]), h
        envelope = json.loads(body)
        assert {"id", "detail-type", "source", "time", "detail"} <= set(envelope)
        assert envelope["detail"]["payment_id"] == pid
    assert "attempt 1 of 5); retrying in" in caplog.text
    assert "forwarded Payment Captured" in caplog.text

"""Shared helpers for the simulator tests (a webhook sink and request builders)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SECRET_KEY = "sk_sbox_" + "m" * 26 + "#"
AUTH = {"Authorization": f"Bearer {SECRET_KEY}"}
WEBHOOK_KEY = "whsec_test_signing_key"
NATIONAL_ID = "070AYY010BU234M"


def qpay_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": 1000,
        "currency": "QAR",
        "reference": "ORD-1",
        "source": {
            "type": "qpay",
            "description": "QPay Demo Payment",
            "language": "en",
            "quantity": "1",
            "national_id": NATIONAL_ID,
        },
        "success_url": "https://shop.example/ok?order=ORD-1",
        "failure_url": "https://shop.example/fail",
        "metadata": {"order_id": "ORD-1", "cart": 3},
    }
    body.update(overrides)
    return body


class Sink:
    """A real HTTP webhook receiver on 127.0.0.1:<ephemeral> recording raw bodies and headers."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: deque[int] = deque()
        self.default_status = 200
        self.sleep = 0.0
        #: When set, every request waits here: it passes only while as many requests as the barrier has
        #: parties are inside the receiver at once (proof of overlapping deliveries, whatever the timing).
        self.gate: threading.Barrier | None = None
        self.overlapped = 0
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/checkout"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        raw = request.get_data()
        with self._lock:
            self.received.append((dict(request.headers), raw))
            status = self.statuses.popleft() if self.statuses else self.default_status
        if self.sleep:
            time.sleep(self.sleep)
        gate = self.gate
        if gate is not None:
            try:
                gate.wait()
            except threading.BrokenBarrierError:
                return Response("not overlapped", status=500)(environ, start_response)
            with self._lock:
                self.overlapped += 1
        return Response("ok", status=status)(environ, start_response)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(raw) for _, raw in self.received]

    def types(self) -> list[str]:
        return [b["type"] for b in self.bodies()]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return
            time.sleep(0.01)
        raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def create(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/payments", json=qpay_body(**overrides))
    assert response.status_code == 202, response.text
    return dict(response.json())

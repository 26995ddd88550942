"""Forward every order event to the merchant's endpoint, like ``stripe listen --forward-to``.

``make run ARGS="--forward-events-to http://localhost:8080/hooks"``: each event put on the stack's
order-events bus is POSTed as the EventBridge envelope a rule target would receive (JSON, unchanged),
signed per the Standard Webhooks spec with the forwarding secret (``whsec_<base64>``, kept with the
stable keys, printed in the banner), so a receiver verifies it with the spec's maintained libraries
(``standardwebhooks`` on npm and PyPI; the clients in ``clients/`` wrap them):

    webhook-id: <the event's id, the same on every retry and resend: de-duplicate on it>
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">

(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md). A non-2xx
answer, a connection error or a timeout is retried with exponential backoff and jitter, a few times, then
given up (logged). Retries never block other events. One log line per attempt; every attempt is also
reported to ``on_delivery`` (the dashboard's timeline), and ``resend(event_id)`` sends one again.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

log = logging.getLogger("qpay_local.forward")


def signed_headers(secret: str, message_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt, signed with the spec's own library."""
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": Webhook(secret).sign(message_id, when, body.decode()),
    }


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Delay before retry ``attempt`` (1-based): exponential, capped, with equal jitter."""
    ceiling = min(cap_s, base_s * float(2 ** max(0, attempt - 1)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass
class Delivery:
    event_id: str
    detail_type: str
    attempt: int
    status: int | None  # None: no HTTP answer
    error: str | None
    duration_ms: float
    at: float = field(default_factory=time.time)
    payment_id: str = ""
    resend: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event: dict[str, Any] = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=1, compare=False)
    resend: bool = field(default=False, compare=False)


class EventForwarder:
    def __init__(
        self,
        url: str,
        secret: str,
        *,
        max_attempts: int = 5,
        base_delay_s: float = 0.5,
        max_delay_s: float = 8.0,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
        keep_events: int = 500,
    ) -> None:
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.clock = clock
        self.deliveries: list[Delivery] = []
        self.given_up: list[str] = []
        self.on_delivery = on_delivery
        self._keep_events = keep_events
        self._events: dict[str, tuple[dict[str, Any], bytes]] = {}  # event id -> (event, body), for resend
        self._http = client or httpx.Client(timeout=timeout_s, headers={"User-Agent": "qpay-local-forwarder/1"})
        self._rng = random.Random(seed)
        self._jobs: list[_Job] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._busy = 0
        self._thread: threading.Thread | None = None

    def submit(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        with self._cond:
            self._events[str(event.get("id", ""))] = (event, body)
            while len(self._events) > self._keep_events:
                self._events.pop(next(iter(self._events)))
            heapq.heappush(self._jobs, _Job(time.monotonic(), next(self._seq), event, body))
            self._cond.notify()

    def resend(self, event_id: str) -> bool:
        """Send an event again (the same body and ``webhook-id``: a receiver that de-duplicates ignores it),
        with its own retries. False if the event is not one this forwarder has seen."""
        with self._cond:
            known = self._events.get(event_id)
            if known is None:
                return False
            heapq.heappush(self._jobs, _Job(time.monotonic(), next(self._seq), known[0], known[1], resend=True))
            self._cond.notify()
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="qpay-local-forwarder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._http.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued, waiting for a retry or in flight."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._jobs or self._jobs[0].due > time.monotonic()):
                    wait = self._jobs[0].due - time.monotonic() if self._jobs else None
                    self._cond.wait(wait)
                if self._stop:
                    return
                job = heapq.heappop(self._jobs)
                self._busy += 1
            try:
                self._attempt(job)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, job: _Job) -> None:
        event_id = str(job.event.get("id", "?"))
        detail_type = str(job.event.get("detail-type", "?"))
        headers = {
            "Content-Type": "application/json",
            **signed_headers(self.secret, event_id, job.body, int(self.clock())),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            status = self._http.post(self.url, content=job.body, headers=headers).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        detail = job.event.get("detail")
        delivery = Delivery(
            event_id,
            detail_type,
            job.attempt,
            status,
            error,
            (time.perf_counter() - started) * 1000,
            payment_id=str(detail.get("payment_id", "")) if isinstance(detail, dict) else "",
            resend=job.resend,
        )
        self.deliveries.append(delivery)
        if self.on_delivery is not None:
            try:
                self.on_delivery(delivery)
            except Exception:
                log.exception("on_delivery failed")
        outcome = str(status) if status is not None else error
        label = f"{detail_type} {event_id} -> {self.url}"
        if delivery.ok:
            log.info("forwarded %s: %s in %.0f ms (attempt %d)", label, outcome, delivery.duration_ms, job.attempt)
            return
        if job.attempt >= self.max_attempts:
            self.given_up.append(event_id)
            log.warning("forwarding %s failed: %s (attempt %d); gave up", label, outcome, job.attempt)
            return
        delay = backoff_s(job.attempt, self.base_delay_s, self.max_delay_s, self._rng)
        log.warning(
            "forwarding %s failed: %s (attempt %d of %d); retrying in %.1f s",
            label,
            outcome,
            job.attempt,
            self.max_attempts,
            delay,
        )
        with self._cond:
            heapq.heappush(
                self._jobs,
                _Job(time.monotonic() + delay, next(self._seq), job.event, job.body, job.attempt + 1, job.resend),
            )
            self._cond.notify()

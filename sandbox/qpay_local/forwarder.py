"""Forward every order event to the merchant's endpoint, like ``stripe listen --forward-to``.

``make run ARGS="--forward-events-to http://localhost:8080/hooks"``: each event put on the stack's
order-events bus is POSTed as the EventBridge envelope a rule target would receive (JSON, unchanged),
signed with the forwarding secret (kept with the stable keys, printed in the banner):

    Qpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">

A non-2xx answer, a connection error or a timeout is retried with exponential backoff and jitter, a
few times, then given up (logged). Retries never block other events. One log line per attempt.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("qpay_local.forward")

SIGNATURE_HEADER = "Qpay-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None, tolerance_s: int = 300) -> bool:
    """What a receiver does (the README shows it in Node and Python): recompute and compare, and refuse
    stale timestamps so a captured request cannot be replayed later."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


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
    ) -> None:
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.clock = clock
        self.deliveries: list[Delivery] = []
        self.given_up: list[str] = []
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
            heapq.heappush(self._jobs, _Job(time.monotonic(), next(self._seq), event, body))
            self._cond.notify()

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
            SIGNATURE_HEADER: signature(self.secret, job.body, int(self.clock())),
            "Qpay-Event-Id": event_id,
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            status = self._http.post(self.url, content=job.body, headers=headers).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        delivery = Delivery(event_id, detail_type, job.attempt, status, error, (time.perf_counter() - started) * 1000)
        self.deliveries.append(delivery)
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
                self._jobs, _Job(time.monotonic() + delay, next(self._seq), job.event, job.body, job.attempt + 1)
            )
            self._cond.notify()

"""Webhook signing and at-least-once delivery on Checkout's retry schedule, with chaos on demand.

Checkout delivers each event independently, at least once and in no guaranteed order
(https://www.checkout.com/docs/workflows, "set up your webhook receiver", 20 Nov 2024; fidelity review
S7 and F-22): a retry or a duplicate can arrive while an earlier attempt of the same event is still in
flight, and different events of one payment can be in flight at once. ``SimConfig.webhook_workers``
delivers from several threads, ``overlap_next`` / ``webhook_overlap_probability`` send two copies of an
event at the same instant, and ``burst_next`` releases several events at the same instant.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx

from cko_sim.clock import Clock
from cko_sim.config import SimConfig

log = logging.getLogger("cko_sim.webhooks")

#: The nine webhook types Checkout.com sends for QPay.
QPAY_EVENT_TYPES = (
    "payment_pending",
    "payment_capture_pending",
    "payment_captured",
    "payment_capture_declined",
    "payment_canceled",
    "payment_expired",
    "payment_refund_pending",
    "payment_refunded",
    "payment_refund_declined",
)

_POLL_SECONDS = 0.02
_REORDER_MAX_DELAY = 60.0


def sign(body: bytes, key: str) -> str:
    """``Cko-Signature``: lowercase hex HMAC-SHA256 of the raw body bytes."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, key: str) -> bool:
    return hmac.compare_digest(sign(body, key), signature)


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    payment_id: str
    body: bytes
    created_on: datetime


class Delivery(NamedTuple):
    """One delivery attempt: ``result`` is the HTTP status or an error string."""

    event_id: str
    type: str
    payment_id: str
    attempt: int
    result: int | str
    at: datetime


@dataclass(order=True)
class _Job:
    due: datetime
    seq: int
    event: WebhookEvent = field(compare=False)
    url: str = field(compare=False)
    attempt: int = field(compare=False, default=1)
    #: Further events (or copies of ``event``) POSTed at the same instant, each from its own thread.
    together: tuple[WebhookEvent, ...] = field(compare=False, default=())


class WebhookDispatcher:
    """Queues events per endpoint and delivers them from ``SimConfig.webhook_workers`` background threads."""

    def __init__(self, config: SimConfig, clock: Clock, rng: random.Random) -> None:
        self._config = config
        self._clock = clock
        self._rng = rng
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._held: list[WebhookEvent] = []
        self._seq = 0
        self._in_progress = 0
        self._paused = False
        self._stopping = False
        self._closed = False
        self._threads: dict[int, threading.Thread] = {}
        self._duplicate_next = 0
        self._overlap_next = 0
        self._burst_next = 0
        self._burst: list[WebhookEvent] = []
        self._reorder_next = 0
        self._drop_next = 0
        self._delay_next = 0
        self._delay_next_seconds = 0.0
        self._busy_check: Callable[[], bool] = lambda: False
        #: Every event emitted, in emission order (including dropped and held ones).
        self.events: list[WebhookEvent] = []
        #: Every delivery attempt, in the order they finished.
        self.deliveries: list[Delivery] = []
        #: Events the drop fault swallowed.
        self.dropped: list[WebhookEvent] = []
        clock.add_listener(self._wake)

    # -- configuration -------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return self._config.webhook_urls

    def set_busy_check(self, check: Callable[[], bool]) -> None:
        """``wait_idle`` also waits while ``check()`` is true (e.g. refunds about to settle)."""
        self._busy_check = check

    def pause(self) -> None:
        """Queue events without delivering them until ``resume()``."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def duplicate_next(self, n: int = 1) -> None:
        """Deliver each of the next ``n`` events twice (same event id)."""
        with self._cond:
            self._duplicate_next += n

    def overlap_next(self, n: int = 1) -> None:
        """Deliver each of the next ``n`` events twice at the same instant (same event id, same bytes):
        a redelivery that arrives while the first attempt is still in flight."""
        with self._cond:
            self._overlap_next += n

    def burst_next(self, n: int = 2) -> None:
        """Hold the next ``n`` events, then POST them all at the same instant, each from its own thread
        (different events of one payment in flight together, finishing in any order)."""
        with self._cond:
            self._burst_next += n

    def set_workers(self, n: int) -> None:
        """Deliver from ``n`` threads from now on (``SimConfig.webhook_workers``); extra threads retire
        once their current delivery is done."""
        with self._cond:
            self._config.webhook_workers = max(1, n)
            self._cond.notify_all()
        self._ensure_worker()

    def reorder_next(self, n: int = 2) -> None:
        """Hold the next ``n`` events, then deliver them in reverse order."""
        with self._cond:
            self._reorder_next += n

    def drop_next(self, n: int = 1) -> None:
        """Never deliver the next ``n`` events."""
        with self._cond:
            self._drop_next += n

    def delay_next(self, n: int, seconds: float) -> None:
        """Deliver the next ``n`` events ``seconds`` (simulated, scaled) late."""
        with self._cond:
            self._delay_next += n
            self._delay_next_seconds = seconds

    def release_held(self) -> None:
        """Deliver events held by ``reorder_next`` now (reversed) and by ``burst_next`` (together), even
        if fewer than ``n`` arrived."""
        with self._cond:
            self._reorder_next = self._burst_next = 0
            self._release_locked()
            self._release_burst_locked()

    def reset_chaos(self) -> None:
        with self._cond:
            self._duplicate_next = self._reorder_next = self._drop_next = self._delay_next = 0
            self._overlap_next = self._burst_next = 0
            self._release_locked()
            self._release_burst_locked()

    def clear(self) -> None:
        """Forget queued events and history (the worker keeps running)."""
        with self._cond:
            self._queue.clear()
            self._held.clear()
            self._burst.clear()
            self.events.clear()
            self.deliveries.clear()
            self.dropped.clear()

    # -- emission ------------------------------------------------------------------------------

    def emit(self, event: WebhookEvent) -> None:
        with self._cond:
            self.events.append(event)
            if self._drop_next > 0:
                self._drop_next -= 1
                self.dropped.append(event)
                return
            if self._rng.random() < self._config.webhook_drop_probability:
                self.dropped.append(event)
                return
            copies = 1
            overlap = False
            if self._overlap_next > 0:
                self._overlap_next -= 1
                overlap = True
            elif self._rng.random() < self._config.webhook_overlap_probability:
                overlap = True
            if self._duplicate_next > 0:
                self._duplicate_next -= 1
                copies = 2
            elif self._rng.random() < self._config.webhook_duplicate_probability:
                copies = 2
            delay = self._config.webhook_delay_seconds
            if self._delay_next > 0:
                self._delay_next -= 1
                delay += self._delay_next_seconds
            if self._rng.random() < self._config.webhook_reorder_probability:
                delay += self._rng.uniform(0, _REORDER_MAX_DELAY)
            if self._burst_next > 0:
                self._burst.extend([event] * (copies + overlap))
                self._burst_next -= 1
                if self._burst_next == 0:
                    self._release_burst_locked()
                return
            if self._reorder_next > 0:
                self._held.extend([event] * copies)
                self._reorder_next -= 1
                if self._reorder_next == 0:
                    self._release_locked()
                return
            for _ in range(copies):
                self._enqueue_locked(event, delay, together=(event,) if overlap else ())
        self._ensure_worker()

    def _release_burst_locked(self) -> None:
        burst, self._burst = self._burst, []
        if burst:
            self._enqueue_locked(burst[0], 0.0, together=tuple(burst[1:]))

    def _release_locked(self) -> None:
        held, self._held = self._held, []
        for event in reversed(held):
            self._enqueue_locked(event, 0.0)
        if held:
            self._cond.notify_all()

    def _enqueue_locked(self, event: WebhookEvent, delay: float, together: tuple[WebhookEvent, ...] = ()) -> None:
        due = self._clock.now() + timedelta(seconds=delay * self._config.time_scale)
        for url in self._config.webhook_urls:
            self._seq += 1
            self._queue.append(_Job(due, self._seq, event, url, together=together))
        self._cond.notify_all()

    # -- worker --------------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            self._closed = False
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        with self._cond:
            if self._closed or not self._config.webhook_urls:
                return
            self._threads = {i: t for i, t in self._threads.items() if t.is_alive()}
            self._stopping = False
            for index in range(max(1, self._config.webhook_workers)):
                if index not in self._threads:
                    thread = threading.Thread(
                        target=self._run, args=(index,), name=f"cko-sim-webhooks-{index}", daemon=True
                    )
                    self._threads[index] = thread
                    thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._closed = True
            self._cond.notify_all()
            threads, self._threads = list(self._threads.values()), {}
        for thread in threads:
            thread.join(timeout)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _next_ready_locked(self) -> _Job | None:
        if self._paused or not self._queue:
            return None
        job = min(self._queue)
        if job.due <= self._clock.now():
            self._queue.remove(job)
            return job
        return None

    def _run(self, index: int = 0) -> None:
        with httpx.Client(timeout=self._config.webhook_timeout_seconds) as client:
            while True:
                with self._cond:
                    if self._stopping:
                        return
                    if index >= max(1, self._config.webhook_workers):  # set_workers(fewer): retire
                        if self._threads.get(index) is threading.current_thread():
                            del self._threads[index]
                        return
                    job = self._next_ready_locked()
                    if job is None:
                        self._cond.wait(self._wait_seconds_locked())
                        continue
                    self._in_progress += 1
                try:
                    results = self._send_together(job) if job.together else [(job, self._send(client, job))]
                finally:
                    with self._cond:
                        self._in_progress -= 1
                for sent, result in results:
                    self._record(sent, result)

    def _wait_seconds_locked(self) -> float:
        if self._paused or not self._queue:
            return _POLL_SECONDS * 5
        remaining = (min(self._queue).due - self._clock.now()).total_seconds()
        return max(min(remaining, _POLL_SECONDS), 0.001)

    def _send_together(self, job: _Job) -> list[tuple[_Job, int | str]]:
        """POST ``job.event`` and ``job.together`` at the same instant, one thread and connection each."""
        events = (job.event, *job.together)
        jobs = [_Job(job.due, job.seq, e, job.url, job.attempt) for e in events]
        results: list[int | str] = ["error: not sent"] * len(jobs)
        start = threading.Barrier(len(jobs))

        def deliver(index: int) -> None:
            with httpx.Client(timeout=self._config.webhook_timeout_seconds) as client:
                with contextlib.suppress(threading.BrokenBarrierError):  # a sibling never started: send anyway
                    start.wait(self._config.webhook_timeout_seconds)
                results[index] = self._send(client, jobs[index])

        threads = [
            threading.Thread(target=deliver, args=(i,), name=f"cko-sim-webhook-overlap-{i}", daemon=True)
            for i in range(len(jobs))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return list(zip(jobs, results, strict=True))

    def _send(self, client: httpx.Client, job: _Job) -> int | str:
        headers = {
            "Content-Type": "application/json",
            "Cko-Signature": sign(job.event.body, self._config.webhook_signing_key),
            "User-Agent": "cko-sim-webhooks/1.0",
        }
        if self._config.webhook_authorization:
            headers["Authorization"] = self._config.webhook_authorization
        try:
            response = client.post(job.url, content=job.event.body, headers=headers)
        except httpx.TimeoutException:
            return "timeout"
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}"
        return response.status_code

    def _record(self, job: _Job, result: int | str) -> None:
        now = self._clock.now()
        ok = isinstance(result, int) and 200 <= result < 300
        log.info("webhook %s %s attempt %d -> %s", job.event.type, job.event.id, job.attempt, result)
        with self._cond:
            self.deliveries.append(
                Delivery(job.event.id, job.event.type, job.event.payment_id, job.attempt, result, now)
            )
            schedule = self._config.retry_schedule
            if not ok and job.attempt <= len(schedule):
                delay = schedule[job.attempt - 1] * self._config.time_scale
                self._seq += 1
                self._queue.append(_Job(now + timedelta(seconds=delay), self._seq, job.event, job.url, job.attempt + 1))
            self._cond.notify_all()

    # -- inspection ----------------------------------------------------------------------------

    def pending_count(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_progress

    def held_count(self) -> int:
        with self._cond:
            return len(self._held)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, in flight, or about to be emitted. ``False`` on timeout.

        Events held by ``reorder_next`` (waiting for more events) do not count as pending.
        """
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.daemon = True
        timer.start()
        try:
            while not deadline.is_set():
                with self._cond:
                    idle = not self._queue and self._in_progress == 0
                    if not idle:
                        self._cond.wait(_POLL_SECONDS)
                        continue
                if not self._busy_check():
                    return True
                deadline.wait(_POLL_SECONDS / 2)
            return False
        finally:
            timer.cancel()

    def bodies(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Decoded bodies of emitted events (optionally of one type), in emission order."""
        with self._cond:
            events = list(self.events)
        return [json.loads(e.body) for e in events if event_type is None or e.type == event_type]

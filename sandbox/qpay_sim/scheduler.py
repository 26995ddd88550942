"""One virtual clock and a deterministic scheduler of processes (greenlets on one thread).

A *process* is one Lambda invocation, one webhook delivery, one sweep run: a function started at a
virtual time. It runs until it reaches a *yield point* (every Checkout.com request and every DynamoDB
call, hooked in the transport and in botocore), where the scheduler may park it and run another process:
the sweep reads a snapshot, a create retry takes the intent over and is parked inside its Checkout call,
the sweep writes. Which process runs next is drawn from the seed's RNG, so a seed replays exactly.

Calls take time: a yield point has a *latency* (whole seconds; a DynamoDB call 0, a Checkout.com call
drawn by the transport, a backoff sleep its length). A process parked at a call with a latency is "on the
wire" until ``ready_at`` (the clock may move there; processes due meanwhile start first, which is how a
storefront retry lands between a sweep's read and its write); at a 0 s call it is parked only for other
processes ready at the same second. The scheduler is event-driven: it always goes to the earliest thing
that can happen (a parked call completing, a process due) and draws among those that are due together.
Nothing runs on another thread.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import greenlet


class LambdaKilled(BaseException):
    """Raised at a yield point to model an invocation that dies there (timeout, OOM, instance lost).
    BaseException: the product's ``except Exception`` does not swallow a dead sandbox."""


@dataclass(order=True)
class _Job:
    at: int
    seq: int
    label: str = field(compare=False)
    fn: Callable[[], Any] = field(compare=False)
    subjects: tuple[str, ...] = field(compare=False, default=())
    killable: bool = field(compare=False, default=False)
    on_killed: Callable[[], Any] | None = field(compare=False, default=None)
    kill_at: str | None = field(compare=False, default=None)


@dataclass
class Process:
    label: str
    glet: greenlet.greenlet
    parked_at: int = 0
    ready_at: int = 0  # its call completes then (parked_at + the call's latency)
    subjects: tuple[str, ...] = ()
    killable: bool = False
    kill_at: str | None = None  # dies at the first yield point whose label starts with this


class VirtualClock:
    """Integer epoch seconds; listeners (the simulator's clock) follow every move."""

    def __init__(self, start: int) -> None:
        self._now = start
        self._listeners: list[Callable[[int], None]] = []

    def now(self) -> int:
        return self._now

    def listen(self, fn: Callable[[int], None]) -> None:
        self._listeners.append(fn)

    def advance_to(self, when: int) -> None:
        if when < self._now:
            return
        self._now = when
        for fn in self._listeners:
            fn(when)


class Scheduler:
    def __init__(
        self,
        clock: VirtualClock,
        rng: random.Random,
        *,
        switch_probability: float = 0.3,
        max_latency_s: int = 30,
        kill_probability: float = 0.0,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.switch_probability = switch_probability
        self.max_latency_s = max_latency_s
        self.kill_probability = kill_probability
        self._queue: list[_Job] = []
        self._seq = itertools.count()
        self._parked: list[Process] = []
        self._current: Process | None = None
        self._main = greenlet.getcurrent()
        self.on_step: Callable[[str, tuple[str, ...], str], None] = lambda label, subjects, what: None
        self.on_finish: Callable[[Process, BaseException | None], None] = lambda proc, exc: None

    # -- scheduling ----------------------------------------------------------------------------
    def at(
        self,
        when: int,
        label: str,
        fn: Callable[[], Any],
        *,
        subjects: tuple[str, ...] = (),
        killable: bool = False,
        on_killed: Callable[[], Any] | None = None,
        kill_at: str | None = None,
    ) -> None:
        """Start ``fn`` as a process at virtual time ``when`` (never in the past). ``killable``: the
        invocation may die at a yield point (then ``on_killed`` runs, e.g. the caller retries)."""
        when = max(when, self.clock.now())
        heapq.heappush(self._queue, _Job(when, next(self._seq), label, fn, subjects, killable, on_killed, kill_at))

    def after(self, delay: int, label: str, fn: Callable[[], Any], **kw: Any) -> None:
        self.at(self.clock.now() + max(0, int(delay)), label, fn, **kw)

    def now(self) -> int:
        return self.clock.now()

    @property
    def current(self) -> Process | None:
        return self._current

    def next_time(self) -> int | None:
        return self._queue[0].at if self._queue else None

    def idle(self) -> bool:
        return not self._queue and not self._parked

    # -- yield points (called from inside a process) -------------------------------------------
    def point(self, what: str, latency: int = 0) -> None:
        """A call that takes ``latency`` seconds: another process may run first (any that is due before
        the call completes; at a 0 s call, one ready at the same second, drawn). No-op outside a process."""
        proc = self._current
        if proc is None or greenlet.getcurrent() is not proc.glet:
            return
        if proc.kill_at is not None and what.startswith(proc.kill_at):
            proc.kill_at, proc.killable = None, False
            raise LambdaKilled(f"{proc.label} died at {what}")
        if proc.killable and self.kill_probability and self.rng.random() < self.kill_probability:
            proc.killable = False
            raise LambdaKilled(f"{proc.label} died at {what}")
        latency = max(0, min(int(latency), self.max_latency_s))
        now = self.clock.now()
        if not self._others_ready(now + latency):
            return  # nothing else can happen before this call completes: time inside a call is not kept
        if latency == 0 and self.rng.random() >= self.switch_probability:
            return
        proc.parked_at, proc.ready_at = now, now + latency
        self._parked.append(proc)
        self._current = None
        self._main.switch()
        # resumed here by the scheduler
        self._current = proc

    def _others_ready(self, horizon: int) -> bool:
        if any(p.ready_at <= horizon for p in self._parked):
            return True
        nxt = self.next_time()
        return nxt is not None and nxt <= horizon

    # -- the loop (called from the main greenlet) ----------------------------------------------
    def run_until(self, end: int) -> None:
        while True:
            choice = self._choose(end)
            if choice is None:
                break
            if isinstance(choice, Process):
                self._parked.remove(choice)
                self.clock.advance_to(choice.ready_at)
                self._resume(choice)
            else:
                self.clock.advance_to(choice.at)
                self._start(choice)
        if self.clock.now() < end:
            self.clock.advance_to(end)

    def _choose(self, end: int) -> Process | _Job | None:
        """The earliest thing that can happen: a parked call completing or a process due (jobs after
        ``end`` wait for the next round; a parked call always completes). Ties are drawn."""
        nxt = self._queue[0] if self._queue and self._queue[0].at <= end else None
        if not self._parked:
            if nxt is None:
                return None
            return heapq.heappop(self._queue)
        first = min(p.ready_at for p in self._parked)
        if nxt is not None:
            first = min(first, nxt.at)
        first = max(first, self.clock.now())
        candidates: list[Process | None] = [p for p in self._parked if p.ready_at <= first]
        if nxt is not None and nxt.at <= first:
            candidates.append(None)
        pick = candidates[self.rng.randrange(len(candidates))]
        if pick is None:
            return heapq.heappop(self._queue)
        return pick

    def _start(self, job: _Job) -> None:
        proc = Process(
            job.label, greenlet.greenlet(self._body(job)), subjects=job.subjects, killable=job.killable,
            kill_at=job.kill_at,
        )  # fmt: skip
        self.on_step(job.label, job.subjects, "start")
        self._resume(proc)

    def _body(self, job: _Job) -> Callable[[], None]:
        def run() -> None:
            proc = self._current
            assert proc is not None
            error: BaseException | None = None
            try:
                job.fn()
            except LambdaKilled as exc:
                error = exc
                if job.on_killed is not None:
                    job.on_killed()
            except Exception as exc:  # a process's failure is recorded, the world goes on
                error = exc
            self._current = None
            self.on_finish(proc, error)

        return run

    def _resume(self, proc: Process) -> None:
        self._current = proc
        proc.glet.switch()
        self._current = None
        if proc.glet.dead:
            return

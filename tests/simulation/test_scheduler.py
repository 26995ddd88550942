"""The scheduler's time: a call with a latency lets what is due meanwhile run first (a storefront retry
landing between a sweep's read and its write), a 0 s call lets nothing from the future in."""

from __future__ import annotations

import random

import pytest
from qpay_sim.scheduler import Scheduler, VirtualClock

T0 = 1_000


def _sched(seed: int = 0) -> tuple[Scheduler, list[tuple[int, str]]]:
    return Scheduler(VirtualClock(T0), random.Random(seed), switch_probability=1.0), []


@pytest.mark.parametrize("seed", range(10))
def test_a_process_due_while_a_call_is_on_the_wire_runs_before_the_call_completes(seed: int) -> None:
    sched, log = _sched(seed)

    def sweep() -> None:
        log.append((sched.now(), "sweep read"))
        sched.point("checkout GET /payments", 3)
        log.append((sched.now(), "sweep list answered"))

    sched.at(T0, "sweep", sweep)
    sched.at(T0 + 2, "retry", lambda: log.append((sched.now(), "retry takes over")))
    sched.run_until(T0 + 60)
    assert log == [(T0, "sweep read"), (T0 + 2, "retry takes over"), (T0 + 3, "sweep list answered")]


@pytest.mark.parametrize("seed", range(10))
def test_a_zero_second_call_lets_nothing_from_the_future_in(seed: int) -> None:
    sched, log = _sched(seed)

    def sweep() -> None:
        for i in range(10):
            sched.point(f"dynamodb Query {i}")
        log.append((sched.now(), "sweep done"))

    sched.at(T0, "sweep", sweep)
    sched.at(T0 + 1, "retry", lambda: log.append((sched.now(), "retry")))
    sched.run_until(T0 + 60)
    assert log == [(T0, "sweep done"), (T0 + 1, "retry")]


def _two_at_once(seed: int) -> list[tuple[int, str]]:
    sched, log = _sched(seed)

    def proc(name: str) -> None:
        for i in range(3):
            log.append((sched.now(), f"{name}{i}"))
            sched.point("dynamodb GetItem")

    sched.at(T0, "a", lambda: proc("a"))
    sched.at(T0, "b", lambda: proc("b"))
    sched.run_until(T0 + 5)
    return log


def test_processes_due_at_the_same_second_interleave_at_zero_second_calls() -> None:
    logs = [_two_at_once(seed) for seed in range(30)]
    assert all({t for t, _ in log} == {T0} for log in logs)  # no time passes at 0 s calls
    assert len({tuple(name for _, name in log) for log in logs}) > 3  # the seed draws the interleaving
    assert _two_at_once(7) == _two_at_once(7)


def test_a_call_completes_when_its_latency_has_passed_even_past_the_round() -> None:
    sched, log = _sched()

    def slow() -> None:
        sched.point("checkout POST /payments", 12)
        log.append((sched.now(), "answered"))

    sched.at(T0, "slow", slow)
    sched.at(T0 + 1, "other", lambda: log.append((sched.now(), "other")))
    sched.run_until(T0 + 5)  # a call on the wire at the round's end completes, at its time
    assert log == [(T0 + 1, "other"), (T0 + 12, "answered")]
    assert sched.now() == T0 + 12

"""The fixed CI seeds of the simulation (docs/simulation.md): each runs 30 virtual days of traffic against
the real product and must end with no checker violated. A seed that fails prints its reproduction
(``make simulate SEED=n``) and the steps that touched the payment that broke.

A seed listed in ``OPEN_FINDINGS`` fails today because of a product bug that is reported and not fixed
yet; it is a strict xfail, so the day the fix lands the test turns red until the entry is removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from qpay_sim.__main__ import CI_DAYS, CI_SEEDS
from qpay_sim.run import run_seed

ROOT = Path(__file__).resolve().parents[2]

#: seed -> the open finding that makes it fail (none may stay here once its fix is merged)
OPEN_FINDINGS: dict[int, str] = {}


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=OPEN_FINDINGS[s])) if s in OPEN_FINDINGS else s
        for s in CI_SEEDS
    ],
)
@pytest.mark.timeout(1200)  # a month of virtual time: ~1-2 minutes on two busy cores
def test_a_month_of_traffic_breaks_no_invariant(seed: int) -> None:
    # in its own process, exactly as `make simulate SEED=n` runs it: no state of the other tests leaks in
    done = subprocess.run(
        [sys.executable, "-m", "qpay_sim", "--seed", str(seed), "--days", str(CI_DAYS)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "sandbox"))},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"reproduce: make simulate SEED={seed} DAYS={CI_DAYS}\n{done.stdout[-6000:]}{done.stderr[-3000:]}")
    assert f"seed {seed}: ok" in done.stdout  # the month really ran and passed


def test_a_seed_replays_exactly() -> None:
    first = run_seed(3, days=2, stop_at_first=False)
    again = run_seed(3, days=2, stop_at_first=False)
    assert first.stats == again.stats
    assert [(v.checker, v.subject) for v in first.violations] == [(v.checker, v.subject) for v in again.violations]

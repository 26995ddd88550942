"""The fixed CI seeds of the simulation (docs/simulation.md): the seeds that caught fidelity F-1, F-2 and
correctness F4 on the code before their fixes, for the 8 virtual days they needed there, and one month of
traffic, each against the real product, must end with no checker violated. A seed that fails prints its reproduction
(``make simulate SEED=n``) and the steps that touched the payment that broke.

A seed listed in ``OPEN_FINDINGS`` fails today because of a product bug that is reported and not fixed
yet; it is a strict xfail, so the day the fix lands the test turns red until the entry is removed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from qpay_sim.__main__ import CI_SEEDS

ROOT = Path(__file__).resolve().parents[2]

#: seed -> the open finding that makes it fail (none may stay here once its fix is merged)
OPEN_FINDINGS: dict[int, str] = {}


@pytest.mark.parametrize(
    ("seed", "days"),
    [
        pytest.param(s, d, marks=pytest.mark.xfail(strict=True, reason=OPEN_FINDINGS[s]))
        if s in OPEN_FINDINGS
        else (s, d)
        for s, d in CI_SEEDS.items()
    ],
)
@pytest.mark.timeout(1200)  # a month of virtual time: ~1-2 minutes on two busy cores
def test_a_ci_seed_breaks_no_invariant(seed: int, days: int) -> None:
    # in its own process, exactly as `make simulate SEED=n` runs it: no state of the other tests leaks in
    done = subprocess.run(
        [sys.executable, "-m", "qpay_sim", "--seed", str(seed), "--days", str(days)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "sandbox"))},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"reproduce: make simulate SEED={seed} DAYS={days}\n{done.stdout[-6000:]}{done.stderr[-3000:]}")
    assert f"seed {seed}: ok" in done.stdout  # the month really ran and passed


def _verdict(seed: int, days: int, hash_seed: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "qpay_sim", "--seed", str(seed), "--days", str(days)],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONHASHSEED": hash_seed,
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "sandbox")),
        },
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    return re.sub(r", [0-9.]+ s\)", ")", done.stdout)  # all but the wall time


@pytest.mark.timeout(1200)
def test_a_seed_replays_exactly() -> None:
    """Two processes (different string hashing), the same seed: the same steps at the same virtual times
    with the same ids (the trace's digest), the same verdict."""
    first, again = _verdict(3, 2, "1"), _verdict(3, 2, "2")
    assert "trace " in first and first == again

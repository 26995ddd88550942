"""The fixed CI seeds of the simulation (docs/simulation.md): each runs 30 virtual days of traffic against
the real product and must end with no checker violated. A seed that fails prints its reproduction
(``make simulate SEED=n``) and the steps that touched the payment that broke.

A seed listed in ``OPEN_FINDINGS`` fails today because of a product bug that is reported and not fixed
yet; it is a strict xfail, so the day the fix lands the test turns red until the entry is removed."""

from __future__ import annotations

import pytest
from qpay_sim.__main__ import CI_DAYS, CI_SEEDS
from qpay_sim.run import run_seed

#: seed -> the open finding that makes it fail (none may stay here once its fix is merged)
OPEN_FINDINGS: dict[int, str] = {}


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=OPEN_FINDINGS[s])) if s in OPEN_FINDINGS else s
        for s in CI_SEEDS
    ],
)
def test_a_month_of_traffic_breaks_no_invariant(seed: int) -> None:
    result = run_seed(seed, days=CI_DAYS)
    if not result.ok:
        first = result.violations[0]
        pytest.fail(
            f"{first.checker} on {first.subject}: {first.message}\n"
            f"reproduce: make simulate SEED={seed} DAYS={CI_DAYS}\n{result.story}",
            pytrace=False,
        )
    assert result.stats["steps"] > 100  # the month really ran


def test_a_seed_replays_exactly() -> None:
    first = run_seed(3, days=2, stop_at_first=False)
    again = run_seed(3, days=2, stop_at_first=False)
    assert first.stats == again.stats
    assert [(v.checker, v.subject) for v in first.violations] == [(v.checker, v.subject) for v in again.violations]

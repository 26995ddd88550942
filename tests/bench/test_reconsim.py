"""The reconciliation simulation's policy part (the slice against the simulator runs in the bench only:
it makes hundreds of payments)."""

from __future__ import annotations

import pytest

from qpay_bench import reconsim


def test_the_share_asked_falls_with_sample_every_but_never_below_what_needs_it() -> None:
    mix = reconsim.Mix()
    every = reconsim.asked(5_000, mix, 1)
    assert every["skipped"] == 0 and every["sample"] > 4_900
    scaled = reconsim.asked(5_000, mix, 10**6)
    always = {k: v for k, v in scaled.items() if k not in ("skipped", "sample")}
    assert always and set(always) <= {"open", "attention", "refund_open"}
    assert sum(always.values()) == sum(v for k, v in every.items() if k in always)  # same payments, same reasons


def test_the_plan_finds_the_widest_share_that_fits_the_read_budget() -> None:
    mix = reconsim.Mix()
    p = reconsim.smallest_share(1000.0 * 86_400, 5_000, mix, budget_rps=30.0, spread_hours=8.0)
    assert p.fits and p.read_rps <= 30.0
    tighter = reconsim.plan(1000.0 * 86_400, reconsim.asked(5_000, mix, p.sample_every // 2), 5_000,
                            sample_every=p.sample_every // 2, budget_rps=30.0, spread_hours=8.0)  # fmt: skip
    assert not tighter.fits  # half the share would not fit: this is the widest
    assert p.ceiling_payments_per_s >= 1000.0
    assert p.ceiling_payments_per_s == pytest.approx(30.0 * 8 * 3600 / (p.reads_per_day / (1000.0 * 86_400)) / 86_400)


def test_the_reconciliation_costs_less_per_payment_when_it_asks_less() -> None:
    per = reconsim.PerPayment()
    assert per.usd(0.01) < per.usd(1.0)
    assert per.usd(0.01) > 0

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


def test_the_fan_out_plan_sets_the_templates_parameters_for_each_volume() -> None:
    """1,000,000 a day and 1,000 payments/s each get ReconcileParts and ReconcileConcurrency whose invocations
    fit 80 % of 15 minutes and whose run fits the spread; the template's defaults carry the first volume's
    needs only when they fit it (the parameters are the operator's to raise: docs/capacity.md)."""
    per = reconsim.PerPayment(cpu_ms_skipped=1.9, cpu_ms_asked=1.7)
    day = reconsim.fanout_plan(1_000_000, 0.505, per, budget_rps=30.0, spread_hours=8.0)
    assert day.fits and day.invocation_s <= 720 and day.run_hours <= 8
    busy = reconsim.fanout_plan(1000.0 * 86_400, 0.0075, per, budget_rps=30.0, spread_hours=8.0)
    assert busy.fits and busy.parts >= day.parts and busy.concurrency >= day.concurrency
    assert busy.concurrency <= 32  # ReconcileConcurrency's MaxValue
    # fewer parts would not fit: the plan is the smallest
    fewer = reconsim.fanout_plan(1000.0 * 86_400, 0.0075, per, budget_rps=30.0, spread_hours=0.01)
    assert not fewer.fits

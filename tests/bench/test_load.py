"""Payments through the local stack with duplicated and reordered webhooks; invariants afterwards.
Deterministic assertions only (final states, no event applied twice, nothing lost); no timings."""

from __future__ import annotations

from qpay_bench.loadrun import run


def test_load_invariants_hold() -> None:
    result = run(payments=60, clients=8, deadline_s=90)
    assert result.problems == [], result.summary()

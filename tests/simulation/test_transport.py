"""The transport's fault plan: refund POSTs accepted then failed (fidelity F-2's setting) at the seed's rate,
drawn apart from the other faults; each call's latency from the seed."""

from __future__ import annotations

import random
from typing import Any

from qpay_sim.transport import REFUND_ACCEPT_FAULTS, FaultPlan, SimPool


def _pool(plan: FaultPlan, seed: int = 0) -> SimPool:
    sim: Any = None  # _draw never touches the simulator
    return SimPool(sim, random.Random(seed), plan, lambda what, latency: None, random.Random(f"{seed}/x"))


def test_refund_posts_are_accepted_then_failed_at_the_seed_rate_and_nothing_else_is() -> None:
    pool = _pool(FaultPlan(refund_accept_rate=0.3))
    drawn = [pool._draw("POST", f"/payments/pay_{i}/refunds") for i in range(1000)]
    assert {d for d in drawn if d is not None} <= set(REFUND_ACCEPT_FAULTS)
    assert 230 < sum(d is not None for d in drawn) < 370
    assert all(pool._draw("POST", "/payments") is None for _ in range(200))
    assert all(pool._draw("GET", "/payments/pay_1/actions") is None for _ in range(200))


def test_the_refund_fault_draw_moves_no_other_draw() -> None:
    """The other faults come from the pool's own generator, consumed exactly as without the refund faults."""
    plain, refunds = _pool(FaultPlan(write_rate=0.1)), _pool(FaultPlan(write_rate=0.1, refund_accept_rate=0.5))
    paths = [("POST", "/payments/pay_1/refunds"), ("POST", "/payments"), ("GET", "/payments/pay_1")] * 100
    a = [plain._draw(m, p) for m, p in paths]
    b = [refunds._draw(m, p) for m, p in paths]
    assert any(y in REFUND_ACCEPT_FAULTS for y in b)
    assert all(x == y for x, y in zip(a, b, strict=True) if y not in REFUND_ACCEPT_FAULTS)


def test_a_seeds_fault_plan_is_fixed() -> None:
    assert FaultPlan.draw(12) == FaultPlan.draw(12)
    assert {FaultPlan.draw(s).refund_accept_rate for s in range(40)} == {0.0, 0.1, 0.3, 0.5}

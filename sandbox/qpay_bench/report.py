"""The bench table (plain text) and its JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from qpay_bench.coldstart import ColdResult
from qpay_bench.cost import Assumptions, Estimate
from qpay_bench.warm import TARGET as WARM_TARGET
from qpay_bench.warm import WarmResult

NOTE = "Figures measure THIS machine (2 cores, shared, Python {py}), not AWS Lambda; the ratios carry over."


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(
    cold: list[ColdResult], warm: list[WarmResult], cost: Estimate, sens: list[tuple[str, float]], py: str
) -> str:
    lines = [
        NOTE.format(py=py),
        "",
        "COLD START (packaged artefact, checked-hash pyc; median wall ms; import+first event)",
    ]
    lines.append(
        f"{'function':24} {'runs':>4} {'handler':>8} {'floor':>7} {'ratio':>6} {'target':>6} {'cpu':>6}  result  heaviest imports (self ms)"
    )
    for c in cold:
        heavy = ", ".join(f"{name} {ms:.0f}" for name, ms in c.heaviest[:5])
        status = _mark(c.met) if c.ok_response else "BAD RESPONSE"
        lines.append(
            f"{c.function:24} {c.runs:>4} {c.median_ms:>8.0f} {c.floor_ms:>7.0f} {c.ratio:>6.2f} {c.target:>6.1f} {c.cpu_ms:>6.0f}  {status:6}  {heavy}"
        )
    lines += ["", f"WARM PATH (thread CPU µs per invocation; target ≤ {WARM_TARGET}x floor)"]
    lines.append(f"{'route':30} {'median':>7} {'p99':>7} {'floor':>7} {'fl p99':>7} {'ratio':>6}  result  round trips")
    for w in warm:
        trips = ", ".join(f"{k} {v}" for k, v in sorted(w.round_trips.items()) if v)
        lines.append(
            f"{w.route:30} {w.median_us:>7.0f} {w.p99_us:>7.0f} {w.floor_median_us:>7.0f} {w.floor_p99_us:>7.0f} {w.ratio:>6.2f}  {_mark(w.met):6}  {trips}"
        )
    a = Assumptions()
    lines += ["", "COST per 1,000 payments (us-east-1 list prices 2025; excl. Checkout.com fees; target ≤ $0.035)"]
    for name, usd in sorted(cost.items.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name:16} ${usd:.5f}")
    dom, usd = cost.dominant
    lines.append(f"  {'TOTAL':16} ${cost.total:.5f}  ({_mark(cost.total <= 0.035)}); dominant: {dom} ${usd:.5f}")
    lines.append(f"  assumptions: {asdict(a)}")
    lines.append("  sensitivity: " + "; ".join(f"{label}: ${total:.4f}" for label, total in sens))
    return "\n".join(lines)


def as_json(
    cold: list[ColdResult], warm: list[WarmResult], cost: Estimate, sens: list[tuple[str, float]], py: str
) -> dict[str, Any]:
    return {
        "note": NOTE.format(py=py),
        "cold_start": [{**asdict(c), "ratio": c.ratio, "met": c.met} for c in cold],
        "warm": [{**asdict(w), "ratio": w.ratio, "met": w.met} for w in warm],
        "cost_per_1000_payments": {"items": cost.items, "total": cost.total, "dominant": cost.dominant[0],
                                   "assumptions": asdict(Assumptions()), "sensitivity": dict(sens)},
    }  # fmt: skip

"""MemorySize per function (qpay_bench.memory): the rules pick the smallest size that keeps memory, latency
and timeouts, and template.yaml carries what they pick for the functions at 128 MB and the reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from qpay_bench import memory
from qpay_local.template import Template

ROOT = Path(__file__).resolve().parents[2]


def demand(**kw: object) -> memory.Demand:
    base: dict[str, object] = {"function": "F", "cpu_ms": 4.0, "wait_ms": 300.0, "cold_cpu_ms": 300.0,
                               "rss_mb": 50.0, "timeout_s": 20.0, "shopper_facing": False}  # fmt: skip
    return memory.Demand(**{**base, **kw})  # type: ignore[arg-type]


def test_a_wait_bound_background_function_gets_the_smallest_size_its_memory_allows() -> None:
    assert memory.choose(demand(), 512).chosen_mb == 128
    assert memory.choose(demand(rss_mb=70.0), 512).chosen_mb == 256  # 2 x 70 MB does not fit 128 MB


def test_a_shopper_facing_function_keeps_a_cold_start_within_the_ratio() -> None:
    sized = memory.choose(demand(shopper_facing=True), 512)
    assert sized.chosen_mb == 512  # the cold start is CPU: 256 MB would double it
    assert "cold start" in sized.reason
    assert memory.choose(demand(shopper_facing=True, cold_cpu_ms=0.0, cpu_ms=0.1), 512).chosen_mb == 128


def test_the_worst_invocation_must_fit_a_quarter_of_the_timeout() -> None:
    # 128 MB: a cold start (300 ms x 13.8) and 38 items of 4 ms x 13.8 + 300 ms: 17.6 s > 25 % of 60 s; 256 MB: 14.5 s
    assert memory.choose(demand(timeout_s=60.0, batch=38), 512).chosen_mb == 256


def test_the_reconciliation_keeps_the_size_its_fan_out_ceiling_needs() -> None:
    functions = Template(ROOT / "template.yaml").functions()
    d = demand(function="ReconcileFunction", cpu_ms=memory.RECONCILE_CHECK_CPU_MS, wait_ms=0.0,
               timeout_s=float(functions["ReconcileFunction"].timeout),
               checks_per_invocation=memory.RECONCILE_CHECKS_AT_1000_PER_S)  # fmt: skip
    assert memory.choose(d, 512).chosen_mb == functions["ReconcileFunction"].memory == 512


def test_the_template_sizes_follow_the_rules_kind_by_kind() -> None:
    functions = Template(ROOT / "template.yaml").functions()
    for name, fn in functions.items():
        shopper = any(e.get("Type") == "HttpApi" for e in fn.events.values())
        assert fn.memory in memory.SIZES, name
        if shopper:
            assert fn.memory == 512, name  # their cold start is CPU (the rule above)
    assert {n for n, f in functions.items() if f.memory == 128} == {"ExpiryFunction", "OutboxFunction",
                                                                     "RefundTaskFunction"}  # fmt: skip


@pytest.mark.parametrize("handler", ["qpay.handlers.expiry.handler", "qpay.handlers.outbox.handler"])
def test_a_128_mb_function_s_process_fits_half_its_memory(handler: str) -> None:
    """Measured: a fresh process that imports the handler and makes every AWS client the product uses."""
    rss = memory.peak_rss_mb(handler, ROOT)
    print(f"[memory] {handler}: peak RSS {rss:.1f} MB")
    assert 10 < rss <= 128 / memory.RSS_HEADROOM

"""MemorySize per function, from what the bench measured: CPU time against waiting.

Lambda gives CPU in proportion to memory, one full vCPU at 1,769 MB
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), and bills GB-seconds
(https://aws.amazon.com/lambda/pricing/). An invocation's billed time at ``M`` MB is therefore its CPU time
on a full core x 1769 / M plus its waits (DynamoDB, Checkout.com, other AWS calls): CPU costs the same
GB-seconds at any size below 1,769 MB, while a wait costs in proportion to ``M``. A wait-bound function is
cheaper smaller; the rules below say how small before memory, latency or a timeout suffers:

1. memory: at least twice the process's measured peak RSS after import and client creation
   (:func:`peak_rss_mb`; Lambda's runtime and a batch need the rest);
2. shopper-facing functions (behind an API route): the cold start, which is CPU (imports, clients, TLS) and
   scales with 1769 / M if INIT is throttled like the handler (AWS does not document otherwise), and the
   warm latency both stay within :data:`LATENCY_RATIO` of today's size;
3. background functions: the worst invocation (a cold start plus a full batch, with its waits) takes at most
   :data:`TIMEOUT_SHARE` of the function's timeout;
4. the reconciliation: one invocation still reads what the 1,000 payments/s fan-out gives it
   (:data:`RECONCILE_CHECKS_AT_1000_PER_S`, at least ``reconcile_max_payments``) within
   :data:`CHECKING_SHARE` of its 15 minutes (the fan-out's ceiling per (shard, part) depends on it).

The choice is the smallest size in :data:`SIZES` that keeps every rule. It is a model of Lambda on a 2-core
x86 machine: an AWS Lambda Power Tuning run in me-central-1 (docs/cost.md) confirms or corrects it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qpay_bench.cost import Assumptions, PathUse
    from qpay_local.template import Template

FULL_VCPU_MB = 1769
SIZES = (128, 256, 512, 1024)
LATENCY_RATIO = 1.2  # the cold and warm ratios' own bound (issue 21)
TIMEOUT_SHARE = 0.25
CHECKING_SHARE = 0.8  # of the reconciliation's timeout: the rest is the index queries and the report
RSS_HEADROOM = 2.0
#: The reconciliation's CPU per payment read, measured by qpay_bench.reconsim on a full core (docs/capacity.md,
#: "How many invocations"); the bench's own per-check figure (the return that asks Checkout) is lower.
RECONCILE_CHECK_CPU_MS = 1.9
#: Payments one fan-out invocation reads at 1,000 payments/s: 86.4 M a day over 32 shards x 32 parts.
RECONCILE_CHECKS_AT_1000_PER_S = 86_400_000 // (32 * 32)

_PROBE = """
import importlib, re, sys
importlib.import_module(sys.argv[1])
from qpay import deps
for service in ("dynamodb", "stepfunctions", "events", "secretsmanager"):
    getattr(deps, service)()
with open("/proc/self/status") as status:  # VmHWM: this process's peak RSS (ru_maxrss survives exec)
    print(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
"""


def peak_rss_mb(handler: str, root: Path) -> float:
    """Peak RSS (MB) of a fresh process that imports ``handler``'s module and creates every AWS client the
    product uses (an upper bound for any one function)."""
    module = handler.rsplit(".", 1)[0]
    env = {**os.environ, "PYTHONPATH": str(root / "functions"), "AWS_DEFAULT_REGION": "me-central-1",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", _PROBE, module], check=True, capture_output=True, text=True,
                          env=env, cwd=root, timeout=120)  # fmt: skip
    return float(done.stdout.splitlines()[-1]) / 1024


@dataclass(frozen=True)
class Demand:
    """One function's heaviest invocation as measured (CPU on a full core) and modelled (waits)."""

    function: str
    cpu_ms: float  # warm CPU of one invocation (one batch item for stream functions)
    wait_ms: float
    cold_cpu_ms: float
    rss_mb: float
    timeout_s: float
    shopper_facing: bool
    batch: int = 1  # items in the largest batch one invocation carries
    checks_per_invocation: int = 0  # the reconciliation: payments one invocation must check


@dataclass(frozen=True)
class Sizing:
    demand: Demand
    current_mb: int
    chosen_mb: int
    reason: str

    def warm_ms(self, mb: int) -> float:
        return billed_ms(self.demand.cpu_ms, self.demand.wait_ms, mb)

    def cpu_share(self, mb: int) -> float:
        """Share of a warm invocation's billed time that is CPU at ``mb``."""
        cpu = self.demand.cpu_ms * scale(mb)
        return cpu / max(1e-9, cpu + self.demand.wait_ms)


def scale(mb: int) -> float:
    return max(1.0, FULL_VCPU_MB / mb)


def billed_ms(cpu_ms: float, wait_ms: float, mb: int) -> float:
    return cpu_ms * scale(mb) + wait_ms


def _fails(d: Demand, mb: int, current_mb: int) -> str | None:
    """Why ``mb`` breaks a rule for ``d`` (None: it keeps them all)."""
    if mb < RSS_HEADROOM * d.rss_mb:
        return f"memory: peak RSS {d.rss_mb:.0f} MB needs >= {RSS_HEADROOM * d.rss_mb:.0f} MB"
    if d.shopper_facing:
        if d.cold_cpu_ms * scale(mb) > LATENCY_RATIO * d.cold_cpu_ms * scale(current_mb):
            return f"cold start {d.cold_cpu_ms * scale(mb):.0f} ms > {LATENCY_RATIO} x today's"
        if billed_ms(d.cpu_ms, d.wait_ms, mb) > LATENCY_RATIO * billed_ms(d.cpu_ms, d.wait_ms, current_mb):
            return f"warm latency {billed_ms(d.cpu_ms, d.wait_ms, mb):.0f} ms > {LATENCY_RATIO} x today's"
    worst_s = (d.cold_cpu_ms * scale(mb) + d.batch * billed_ms(d.cpu_ms, d.wait_ms, mb)) / 1000
    if worst_s > TIMEOUT_SHARE * d.timeout_s:
        return f"worst invocation {worst_s:.1f} s > {TIMEOUT_SHARE:.0%} of its {d.timeout_s:.0f} s timeout"
    checking_s = d.checks_per_invocation * d.cpu_ms * scale(mb) / 1000
    if checking_s > CHECKING_SHARE * d.timeout_s:
        return f"{d.checks_per_invocation:,} checks take {checking_s:.0f} s of CPU > {CHECKING_SHARE:.0%} of {d.timeout_s:.0f} s"
    return None


def choose(d: Demand, current_mb: int) -> Sizing:
    """The smallest size in :data:`SIZES` that keeps every rule (today's size if none smaller does)."""
    reasons: list[str] = []
    for mb in SIZES:
        why = _fails(d, mb, current_mb)
        if why is None:
            kept = "; ".join(reasons) or "every rule holds"
            return Sizing(d, current_mb, mb, f"{mb} MB: smaller breaks {kept}" if reasons else kept)
        reasons.append(f"{mb} MB: {why}")
    return Sizing(d, current_mb, current_mb, "; ".join(reasons))


def report(sizings: list[Sizing], gb_s_price: float, per_day: dict[str, float]) -> list[str]:
    """One line per function: CPU share, billed time and cost a day at today's and the chosen size."""
    lines = ["function | CPU share @512 | billed ms @today -> @chosen | template MB -> rule MB | $/day saved | why"]
    for s in sizings:
        d = s.demand
        n = per_day.get(d.function, 0.0)
        saved = n * (s.warm_ms(s.current_mb) * s.current_mb - s.warm_ms(s.chosen_mb) * s.chosen_mb) / 1000 / 1024
        lines.append(
            f"{d.function} | {s.cpu_share(512):.0%} | {s.warm_ms(s.current_mb):.0f} -> {s.warm_ms(s.chosen_mb):.0f}"
            f" | {s.current_mb} -> {s.chosen_mb} | {saved * gb_s_price:.4f} | {s.reason}"
        )
    return lines


def demands(paths: dict[str, PathUse], a: Assumptions, template: Template, rss_mb: dict[str, float]) -> list[Demand]:
    """Each function's heaviest measured path (CPU on a full core plus the model's waits), its template
    timeout, batch size and whether an API route reaches it."""
    from dataclasses import fields  # noqa: PLC0415

    from qpay.settings import Settings  # noqa: PLC0415

    (field,) = [f for f in fields(Settings) if f.name == "reconcile_max_payments"]
    max_payments = int(str(field.default))
    functions = template.functions()
    out = []
    for name, fn in sorted(functions.items()):
        mine = [p for p in paths.values() if p.function == name]
        if not mine:
            continue

        def wait(p: PathUse) -> float:
            return (
                p.ddb_calls * a.ddb_latency_ms
                + p.aws_calls * a.aws_latency_ms
                + p.checkout_calls * a.checkout_latency_ms
            )

        heaviest = max(mine, key=lambda p: p.cpu_ms + wait(p))
        stream = [e for e in fn.events.values() if e.get("Type") == "DynamoDB"]
        batch = int(stream[0].get("Properties", {}).get("BatchSize", 100)) if stream else 1
        is_reconcile = name == "ReconcileFunction"
        out.append(
            Demand(
                function=name,
                cpu_ms=max(heaviest.cpu_ms, RECONCILE_CHECK_CPU_MS) if is_reconcile else heaviest.cpu_ms,
                wait_ms=0.0 if is_reconcile else wait(heaviest),  # its checks wait side by side
                cold_cpu_ms=heaviest.init_ms,
                rss_mb=rss_mb.get(name, 0.0),
                timeout_s=float(fn.timeout),
                shopper_facing=any(e.get("Type") == "HttpApi" for e in fn.events.values()),
                batch=batch,
                checks_per_invocation=max(max_payments, RECONCILE_CHECKS_AT_1000_PER_S) if is_reconcile else 0,
            )
        )
    return out

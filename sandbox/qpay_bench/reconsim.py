"""``python -m qpay_bench.reconsim``: the reconciliation at a million payments a day and at 1,000/s.

Two parts, both running the product's own code:

1. **Policy at scale** — a day of synthetic payments (the mix below; 1,000,000 by default) goes through the
   product's :func:`qpay.service.reconcile_select.why_ask`; what it asks, per reason, gives Checkout.com
   reads per day, the read rate over the run's spread, the ``sample_every`` that fits a read budget, and
   the ceiling in payments/s. Figures for 1,000 payments/s (86.4 M a day) scale the same shares.
2. **The simulator** — a slice of that day (``--slice`` payments) is made for real: created through the
   create handler against the Checkout.com simulator (moto for AWS), captured with their webhooks, some
   expired, some with the capture webhook lost, one Dashboard refund whose webhook is lost. The fanned-out
   run then reconciles it as production would: 32 shard invocations at once, each paced at its share of the
   read budget (its own token bucket). Measured at the simulator's client: Checkout GETs, the most in any
   one second, wall time, and the drift found.

Cost per payment (me-central-1 prices, :mod:`qpay_bench.cost`): one item read per payment in the window,
its share of the index pages, and Lambda time (CPU per payment from ``make bench``'s measured paths when
bench-results/bench.json exists, else the defaults below, printed as such).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpay_bench.cost import FULL_VCPU_MB, prices

ROOT = Path(__file__).resolve().parents[2]
SECONDS_PER_DAY = 86_400
CHECKOUT_READ_LIMIT = 100.0  # per account: https://checkout.com/docs/developer-resources/api/api-rate-limits
INDEX_ENTRY_BYTES = 100  # a KEYS_ONLY changed-by-day entry: pk, sk, changed_day


@dataclass(frozen=True)
class Mix:
    """Shares of a day's payments as the run finds them the next morning (assumptions, printed)."""

    captured: float = 0.80
    expired: float = 0.12  # abandoned at QPay: Checkout's payment_expired (or its GET) ended them
    declined: float = 0.05
    canceled: float = 0.02
    still_open: float = 0.002  # every webhook lost and the return never came: still open next morning
    attention: float = 0.0005
    refunds: float = 0.05  # of captured
    refund_still_open: float = 0.02  # of refunds: outcome lost, still open at the run


def population(n: int, mix: Mix, seed: int = 21) -> Iterator[tuple[Any, list[Any]]]:
    from qpay.domain.records import Payment, Refund  # noqa: PLC0415
    from qpay.domain.refund_states import RefundState  # noqa: PLC0415
    from qpay.domain.states import Stage  # noqa: PLC0415

    rng = random.Random(seed)
    stages = [(Stage.CAPTURED, mix.captured), (Stage.EXPIRED, mix.expired), (Stage.DECLINED, mix.declined),
              (Stage.CANCELED, mix.canceled), (Stage.PENDING, mix.still_open)]  # fmt: skip
    names, weights = zip(*stages, strict=True)
    for i in range(n):
        stage = rng.choices(names, weights)[0]
        p = Payment(id=f"qpp_{i:026d}", reference=f"ORD-{i}", amount=12500, currency="QAR", description="",
                    language="en", quantity=1, stage=stage, cko_id=f"pay_{i:026d}",
                    attention=rng.random() < mix.attention)  # fmt: skip
        refunds = []
        if stage is Stage.CAPTURED and rng.random() < mix.refunds:
            state = RefundState.PENDING if rng.random() < mix.refund_still_open else RefundState.REFUNDED
            refunds.append(Refund(id=f"qrf_{i:026d}", payment_id=p.id, amount=100, state=state))
        yield p, refunds


def asked(n: int, mix: Mix, sample_every: int, day: str = "2026-12-07") -> Counter[str]:
    from qpay.service.reconcile_select import why_ask  # noqa: PLC0415

    out: Counter[str] = Counter()
    for p, refunds in population(n, mix):
        out[why_ask(p, refunds, day=day, sample_every=sample_every) or "skipped"] += 1
    return out


@dataclass(frozen=True)
class Plan:
    payments_per_day: float
    sample_every: int
    reads_per_day: float
    budget_rps: float
    spread_hours: float  # the run's 32 shard invocations spread over this many hours

    @property
    def read_rps(self) -> float:
        return self.reads_per_day / (self.spread_hours * 3600)

    @property
    def fits(self) -> bool:
        return self.read_rps <= self.budget_rps

    @property
    def ceiling_payments_per_s(self) -> float:
        """Payments/s whose reconciliation reads fit the budget with this policy (reads scale linearly)."""
        per_payment = self.reads_per_day / self.payments_per_day
        return self.budget_rps * self.spread_hours * 3600 / per_payment / SECONDS_PER_DAY


def plan(payments_per_day: float, shares: Counter[str], n: int, *, sample_every: int, budget_rps: float,
         spread_hours: float) -> Plan:  # fmt: skip
    reads = payments_per_day * sum(v for k, v in shares.items() if k != "skipped") / n
    return Plan(payments_per_day, sample_every, reads, budget_rps, spread_hours)


def smallest_share(payments_per_day: float, n: int, mix: Mix, *, budget_rps: float, spread_hours: float) -> Plan:
    """The smallest ``sample_every`` (most coverage) whose reads fit the budget (powers of two)."""
    every = 1
    while True:
        p = plan(payments_per_day, asked(n, mix, every), n, sample_every=every, budget_rps=budget_rps,
                 spread_hours=spread_hours)  # fmt: skip
        if p.fits or every >= 2**20:
            return p
        every *= 2


@dataclass(frozen=True)
class PerPayment:
    """What reconciling one payment of the window costs (me-central-1)."""

    item_read_rru: float = 1.0  # get_payment_with_refunds: one Query of the payment's items, strongly consistent
    cpu_ms_skipped: float = 1.9  # full-core CPU for a payment read and left (bench: GET /payments/{id} warm)
    cpu_ms_asked: float = 1.7  # full-core CPU for a Checkout GET and its parse (bench: return-open warm)
    ddb_wait_ms: float = 6.0
    checkout_wait_ms: float = 300.0
    concurrency: int = 8
    memory_mb: int = 512

    def usd(self, asked_share: float, region: str = "me-central-1") -> float:
        p = prices(region)
        gb = self.memory_mb / 1024
        cpu_scale = max(1.0, FULL_VCPU_MB / self.memory_mb)
        cpu = (self.cpu_ms_skipped + asked_share * self.cpu_ms_asked) * cpu_scale
        wait = (self.ddb_wait_ms + asked_share * self.checkout_wait_ms) / self.concurrency
        lambda_usd = (cpu + wait) / 1000 * gb * p["lambda_gb_s"]
        index_rru = INDEX_ENTRY_BYTES / 4096 * 0.5  # its share of the KEYS_ONLY pages (eventually consistent)
        ddb_usd = (self.item_read_rru + index_rru) * p["ddb_rru"]
        return lambda_usd + ddb_usd


@dataclass(frozen=True)
class FanOutPlan:
    """The template's fan-out settings (ReconcileParts, ReconcileConcurrency) for one volume: every
    invocation's CPU and paced Checkout reads fit ``run_share`` of its 15 minutes, and the whole run fits
    ``spread_hours``. CPU is the full-core figure x 1769/MemorySize (checks run in 8 threads but share one
    function's CPU); reads are paced at ``budget_rps / concurrency`` per invocation."""

    payments_per_day: float
    asked_share: float
    parts: int
    concurrency: int
    invocation_s: float
    run_hours: float
    fits: bool

    @property
    def invocations(self) -> int:
        return 32 * self.parts


def fanout_plan(payments_per_day: float, asked_share: float, per: PerPayment, *, budget_rps: float,
                spread_hours: float, timeout_s: float = 900.0, run_share: float = 0.8) -> FanOutPlan:  # fmt: skip
    """The fewest parts, then the fewest invocations at once (powers of two up to 32), that fit."""
    cpu_ms = (per.cpu_ms_skipped + asked_share * per.cpu_ms_asked) * max(1.0, FULL_VCPU_MB / per.memory_mb)
    best = None
    for parts in (1, 2, 4, 8, 16, 32):
        for concurrency in (1, 2, 4, 8, 16, 32):
            payments = payments_per_day / (32 * parts)
            cpu_s = payments * cpu_ms / 1000
            reads_s = payments * asked_share / (budget_rps / concurrency)
            invocation_s = max(cpu_s, reads_s)
            run_hours = 32 * parts * invocation_s / concurrency / 3600
            best = FanOutPlan(payments_per_day, asked_share, parts, concurrency, invocation_s, run_hours,
                              invocation_s <= run_share * timeout_s and run_hours <= spread_hours)  # fmt: skip
            if best.fits:
                return best
    assert best is not None
    return best


def per_payment_from_bench(path: Path) -> PerPayment:
    if not path.exists():
        return PerPayment()
    doc = json.loads(path.read_text())
    paths = (doc.get("cost_per_1000_payments") or {}).get("paths") or {}
    get, ret = paths.get("get"), paths.get("return-open")
    if not get or not ret:
        return PerPayment()
    return PerPayment(cpu_ms_skipped=float(get["cpu_ms"]), cpu_ms_asked=float(ret["cpu_ms"]))


# ----------------------------------------------------------------------------- the simulator slice
def simulator_slice(
    n: int, *, sample_every: int, budget_rps: float, concurrency: int = 1, parts: int = 1, seed: int = 21
) -> dict[str, Any]:
    """Make ``n`` payments at the simulator and reconcile them as the template schedules it: the fan-out
    state machine (infra/reconcile.asl.yaml, run by moto's Step Functions engine) invoking the product's
    handler once per (shard, part), ``concurrency`` at once sharing ``budget_rps``."""

    from moto import mock_aws  # noqa: PLC0415

    from tests.conftest import base_env, create_resources  # noqa: PLC0415

    for k, v in base_env().items():
        os.environ[k] = v
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        create_resources()
        return _slice(n, sample_every=sample_every, budget_rps=budget_rps, concurrency=concurrency, parts=parts,
                      seed=seed)  # fmt: skip


def _slice(  # noqa: PLR0915
    n: int, *, sample_every: int, budget_rps: float, concurrency: int, parts: int, seed: int
) -> dict[str, Any]:

    from cko_sim import SimConfig, Simulator  # noqa: PLC0415
    from qpay import deps  # noqa: PLC0415
    from qpay.adapters.store.keys import SHARDS, change_day  # noqa: PLC0415
    from qpay.domain.states import Stage  # noqa: PLC0415
    from qpay.handlers import reconcile as handler  # noqa: PLC0415
    from qpay.observability import logger  # noqa: PLC0415
    from qpay.service.reconcile_select import sampled  # noqa: PLC0415
    from tests.conftest import body_of, create_body, invoke_create  # noqa: PLC0415
    from tests.ops.conftest import CARD, deliver  # noqa: PLC0415
    from tests.support import keys  # noqa: PLC0415

    logger.use_stderr()
    sim = Simulator(SimConfig(webhook_urls=[], webhook_signing_key=keys.WEBHOOK_SIGNING_KEY,
                              require_processing_channel=True, time_scale=0.001, timeout_hold_seconds=3.0, seed=7))  # fmt: skip
    sim.start(host="127.0.0.1", port=0)
    os.environ["CHECKOUT_BASE_URL"] = sim.base_url
    deps.reset()
    rng = random.Random(seed)
    fates: dict[str, str] = {}
    made_at = time.monotonic()
    try:
        for i in range(n):
            reference = f"ORD-SIM-{i}"
            response = invoke_create(create_body(reference=reference))
            pid = body_of(response)["id"]
            cko = next(p.id for p in sim.payments.values() if p.reference == reference)
            roll = rng.random()
            if roll < 0.02:  # every webhook lost, the shopper never came back
                sim.pay(cko, **CARD)
                fates[pid] = "lost_capture"
            elif roll < 0.14:
                sim.expire_payment(cko)
                deliver("payment_expired", pid, cko)
                fates[pid] = "expired"
            else:
                sim.pay(cko, **CARD)
                deliver("payment_captured", pid, cko)
                fates[pid] = "captured"
        quiet = [p for p, f in fates.items() if f == "captured"]
        dashboard = quiet[0]
        sim.dashboard_refund(_cko_of(dashboard), 3000)  # its webhook is lost (no webhook URL configured)
        made_s = time.monotonic() - made_at
        _serialise_moto(deps.store())
        stamps: list[float] = []
        lock = threading.Lock()
        base = handler.ports()
        real_get = base.checkout.get_payment

        def get_payment(cko_id: str) -> dict[str, Any]:
            with lock:
                stamps.append(time.monotonic())
            return real_get(cko_id)

        base.checkout.get_payment = get_payment  # type: ignore[method-assign,assignment]
        now = int(time.time())
        reports: list[dict[str, Any]] = []

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            result = handler.handler(event, _Context())
            with lock:
                reports.append(result)
            return result

        started = time.monotonic()
        execution_input = {"parts": parts, "concurrency": concurrency,
                           "options": {"sample_every": sample_every, "checkout_rps": budget_rps,
                                       "runs_at_once": concurrency}}  # fmt: skip
        status = _run_fan_out(invoke, execution_input)
        wall = time.monotonic() - started
        stamps.sort()
        most = max((sum(1 for t in stamps if a <= t < a + 1.0) for a in stamps), default=0)
        findings = [f for r in reports for f in _findings(r, now)]
        repaired = {f["payment_id"] for f in findings if f["fixed"]}
        lost = {p for p, f in fates.items() if f == "lost_capture"}
        store = deps.store()
        return {
            "payments": n,
            "made_in_s": round(made_s, 1),
            "fates": dict(Counter(fates.values())),
            "fan_out": {
                **execution_input,
                "execution": status,
                "invocations": len(reports),
                "scopes": len({r.get("scope") for r in reports}),
                "shards": SHARDS,
            },
            "checked": sum(r["checked"] for r in reports),
            "asked": dict(sum((Counter(r["asked"]) for r in reports), Counter())),
            "checkout_gets": len(stamps),
            "most_gets_in_any_second": most,
            "budget_rps": budget_rps,
            "wall_s": round(wall, 2),
            "lost_captures_repaired": f"{len(lost & repaired)} of {len(lost)}",
            "all_lost_captured_now": all(store.get_payment(p).stage is Stage.CAPTURED for p in lost),  # type: ignore[union-attr]
            "dashboard_refund_found": any(f["payment_id"] == dashboard and f["kind"] == "refund" for f in findings),
            "dashboard_refund_in_todays_share": sampled(dashboard, day=change_day(now), sample_every=sample_every),
            "errors": sum(r["errors"] for r in reports),
        }
    finally:
        sim.stop()
        deps.reset()


class _Context:
    """What the handler reads of Lambda's context: the time left (its 15 minutes)."""

    deadline = 0.0

    def __init__(self) -> None:
        self.deadline = time.monotonic() + 900

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def _findings(result: dict[str, Any], now: int) -> list[dict[str, Any]]:
    """A shard's findings, from the report item its invocation wrote (the handler returns the summary)."""
    from qpay import deps  # noqa: PLC0415
    from qpay.adapters.dynamo import from_ddb  # noqa: PLC0415
    from qpay.adapters.store.keys import change_day  # noqa: PLC0415
    from qpay.service.reconcile import report_key  # noqa: PLC0415

    key = "REPORT#" + report_key(change_day(now), str(result.get("scope", "")))
    item = deps.dynamodb().get_item(TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": key}, "sk": {"S": "REPORT"}})
    doc = from_ddb(item.get("Item")) or {}
    return list(doc.get("findings", []))


def _run_fan_out(invoke: Any, execution_input: dict[str, Any]) -> str:
    """The template's fan-out ASL on moto's engine, its Lambda tasks routed to ``invoke``."""
    import boto3  # noqa: PLC0415

    from qpay_local import sfn  # noqa: PLC0415

    lam, iam, states = boto3.client("lambda"), boto3.client("iam"), boto3.client("stepfunctions")
    arn = sfn.create_lambda(lam, iam, "qpay-reconcile", "qpay.handlers.reconcile.handler", 900, 512)
    uninstall = sfn.install(lambda name: "qpay-reconcile" in name, lambda _name, event: invoke(event))
    try:
        definition = sfn.render_definition(ROOT / "infra/reconcile.asl.yaml",
                                           {"ReconcileFunctionArn": arn, "RetryIntervalSeconds": 1})  # fmt: skip
        role = sfn.ensure_role(iam, "qpay-reconcile-machine", "states.amazonaws.com")
        machine = states.create_state_machine(name="reconcile", definition=definition, roleArn=role)
        started = states.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(execution_input))
        while True:
            status = str(states.describe_execution(executionArn=started["executionArn"])["status"])
            if status != "RUNNING":
                return status
            time.sleep(0.2)
    finally:
        uninstall()


def _serialise_moto(store: Any) -> None:
    """moto's DynamoDB is not thread-safe (a query iterating the table while another thread inserts an item
    raises): one lock around the client's calls. A test-double limit only; DynamoDB serves these at once."""
    client = store._db
    real = client._make_api_call
    lock = threading.Lock()

    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return real(*args, **kwargs)

    client._make_api_call = call


def _cko_of(payment_id: str) -> str:
    from qpay import deps  # noqa: PLC0415

    payment = deps.store().get_payment(payment_id)
    assert payment is not None
    assert payment.cko_id is not None
    return payment.cko_id


def main() -> None:
    parser = argparse.ArgumentParser(prog="qpay_bench.reconsim", description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=int, default=1_000_000, help="payments a day for the policy part")
    parser.add_argument("--budget", type=float, default=30.0, help="Checkout reads/s the reconciliation may use")
    parser.add_argument("--spread", type=float, default=8.0, help="hours the 32 shard runs are spread over")
    parser.add_argument("--slice", type=int, default=300, help="payments made at the simulator (0: skip)")
    parser.add_argument("--sample", type=int, default=200_000, help="synthetic payments the policy runs over")
    args = parser.parse_args()
    mix = Mix()
    n = min(args.day, args.sample)
    print(f"RECONCILIATION AT SCALE — policy: the product's why_ask over {n:,} synthetic payments (shares scaled "
          f"to each day's volume); mix {mix}")  # fmt: skip
    per = per_payment_from_bench(ROOT / "bench-results" / "bench.json")
    print(f"  per-payment inputs: {per}")
    rows = []
    for label, per_day in (("1,000,000 a day", float(args.day)), ("1,000 payments/s", 1000.0 * SECONDS_PER_DAY),
                           ("10,000 payments/s", 10_000.0 * SECONDS_PER_DAY)):  # fmt: skip
        p = smallest_share(per_day, n, mix, budget_rps=args.budget, spread_hours=args.spread)
        shares = asked(n, mix, p.sample_every)
        asked_share = 1 - shares["skipped"] / n
        rows.append((label, p, shares, asked_share))
        print(f"  {label:18} sample_every {p.sample_every:>5}: Checkout reads {p.reads_per_day:>12,.0f}/day = "
              f"{p.read_rps:6.1f}/s over {p.spread_hours:.0f} h (budget {p.budget_rps:.0f}/s of Checkout's "
              f"{CHECKOUT_READ_LIMIT:.0f}) {'fits' if p.fits else 'DOES NOT FIT'}; asked "
              f"{100 * asked_share:.2f} % ({dict(shares)}); ceiling with this share "
              f"{p.ceiling_payments_per_s:,.0f} payments/s; ${1000 * per.usd(asked_share):.5f} per 1,000 payments")  # fmt: skip
        f = fanout_plan(per_day, asked_share, per, budget_rps=args.budget, spread_hours=args.spread)
        print(f"  {'':18} template: ReconcileSampleEvery {p.sample_every}, ReconcileParts {f.parts}, "
              f"ReconcileConcurrency {f.concurrency} ({f.invocations:,} invocations of {f.invocation_s:,.0f} s, "
              f"the run {f.run_hours:.1f} h) {'fits' if f.fits else 'DOES NOT FIT'}")  # fmt: skip
    if args.slice:
        every = rows[0][1].sample_every
        f = fanout_plan(float(args.day), rows[0][3], per, budget_rps=args.budget, spread_hours=args.spread)
        print(f"SIMULATOR SLICE — {args.slice} payments at cko_sim, reconciled by the template's fan-out state "
              f"machine (moto's engine) with the 1,000,000-a-day settings: sample_every {every}, parts {f.parts}, "
              f"{f.concurrency} at once sharing {args.budget}/s")  # fmt: skip
        result = simulator_slice(args.slice, sample_every=every, budget_rps=args.budget, concurrency=f.concurrency,
                                 parts=f.parts)  # fmt: skip
        print("  " + json.dumps(result))


if __name__ == "__main__":
    main()

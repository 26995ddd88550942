"""From what the bench measured to the cost model's :class:`~qpay_bench.cost.PathUse` per path.

Which measurement feeds which path of a payment's life:

| path | requests from |
| --- | --- |
| create, get, webhook (captured), return-open (the return that asks Checkout), refund, refund-task, outbox | the timed scenario's warm invocation |
| webhook-pending, return and webhook-late (the payment already captured), expiry, reconcile (no drift), refund-webhook, refund-await | a cost-only cold run (secret fetch excluded) |

The reconciliation's per-payment check is charged the CPU of the return that asks Checkout (one payment
read, one Checkout GET, one write: a check without drift does less, so this errs on the dear side); the
run's own work (the index queries over 32 shards per day, the report) is a scheduled run in
:func:`fixed_costs`, charged once a day, not per payment.

Cold start is charged the CPU time of the first invocation (import, init, first event), not its wall
time: on a shared machine the wall time includes waiting for a core, which Lambda's INIT does not.

The DynamoDB figures come from replaying those requests into moto (:mod:`qpay_bench.capacity`); the
stream records they produce go through the template's ``FilterCriteria`` and, for the outbox, through
the product's own ``derive`` to count order events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qpay_bench import capacity
from qpay_bench.cost import FULL_VCPU_MB, PRICES, Fixed, PathUse
from qpay_bench.measure import Calibration, Result
from qpay_bench.scenarios import Scenario, world_for
from qpay_bench.world import Call
from qpay_local.filters import matches_any, parse_filters
from qpay_local.template import Template

#: path name -> (function, fixture, state)
PATHS = {
    "create": ("CreatePaymentFunction", "create-merchant-key", "open"),
    "get": ("GetPaymentFunction", "get", "captured"),
    "return": ("PaymentReturnFunction", "success", "captured"),  # the webhook came first
    "return-open": ("PaymentReturnFunction", "success", "open"),  # the return came first: asks Checkout
    "webhook-late": ("WebhookFunction", "payment_captured", "captured"),  # after the return recorded it
    "webhook": ("WebhookFunction", "payment_captured", "open"),
    "webhook-pending": ("WebhookFunction", "payment_capture_pending", "open"),
    "refund": ("RefundRequestFunction", "partial", "captured"),
    "refund-task": ("RefundTaskFunction", "request", "captured"),
    "outbox": ("OutboxFunction", "payment-captured", "captured"),
    "refund-webhook": ("WebhookFunction", "payment_refunded", "captured"),
    "expiry": ("ExpiryFunction", "ttl-removal", "captured"),
    "refund-await": ("RefundTaskFunction", "await", "captured"),
    "reconcile": ("ReconcileFunction", "window", "captured"),
}
#: paths whose requests are the timed scenario's first invocation: the return that finds the payment open asks
#: Checkout and records the capture then; its warm repeats meet what that first one recorded
FIRST_CALL = {"return-open"}
NOT_API = {"RefundTaskFunction", "ExpiryFunction", "OutboxFunction", "ReconcileFunction", "SweepFunction"}
INHERITS_TRACE = {"RefundTaskFunction"}  # started by Step Functions, which carries the sampling decision


@dataclass
class Measured:
    """One path's requests and log lines, with the CPU and cold-start figures of its function."""

    scenario: Scenario
    calls: list[Call]
    log_bytes: float
    cpu_ms: float
    init_ms: float
    uses_secret: bool
    world_at: int  # when the world the calls were recorded against was made


def per_check(path: str, calls: list[Call]) -> list[Call]:
    """The reconciliation's per-payment requests (its index queries and report belong to the run)."""
    if path != "reconcile":
        return calls
    return [
        c
        for c in calls
        if not c.params.get("IndexName")
        and not str(c.params.get("Item", {}).get("pk", {}).get("S", "")).startswith("REPORT#")
    ]


def consumer_filters(template: Template) -> dict[str, list[dict[str, Any]]]:
    return {s.function: parse_filters(s.properties.get("FilterCriteria")) for s in template.stream_sources()}


def _record(r: capacity.StreamRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"Keys": r.keys}
    if r.new is not None:
        body["NewImage"] = r.new
    if r.old is not None:
        body["OldImage"] = r.old
    return {"eventName": r.event_name, "dynamodb": body}


def order_events(records: list[capacity.StreamRecord]) -> int:
    from qpay.adapters.dynamo import from_ddb  # noqa: PLC0415
    from qpay.service.outbox import derive  # noqa: PLC0415

    return sum(len(derive(from_ddb(r.keys) or {}, from_ddb(r.old), from_ddb(r.new))) for r in records)


def path_use(
    name: str, m: Measured, table: capacity.Table, filters: dict[str, list[dict[str, Any]]]
) -> tuple[PathUse, capacity.Usage]:
    world = world_for(m.scenario, now=m.world_at)
    calls = per_check(name, [c for c in m.calls if c.service != "secretsmanager"])
    with capacity.replayer(table) as replay:
        replay.load(list(world.items.values()))
        usage = replay.replay(calls)
    outbox = [r for r in usage.records if matches_any(_record(r), filters.get("OutboxFunction", []))]
    stored = sum(capacity.item_size(r.new) for r in usage.records
                 if r.event_name == "INSERT" and (r.new or {}).get("sk", {}).get("S") != "TIMER")  # fmt: skip
    put_events = [c for c in m.calls if c.service == "events"]
    use = PathUse(
        name=name,
        function=m.scenario.function,
        cpu_ms=m.cpu_ms,
        init_ms=m.init_ms,
        wru=usage.wru,
        rru=usage.rru,
        index_wru=usage.index_wru,
        ddb_calls=sum(1 for c in calls if c.service == "dynamodb"),
        checkout_calls=sum(1 for c in calls if c.service == "checkout"),
        aws_calls=sum(1 for c in calls if c.service in ("stepfunctions", "events")),
        sfn_starts=sum(1 for c in calls if c.service == "stepfunctions" and c.operation == "StartExecution"),
        order_events=float(order_events(outbox)),
        event_bytes=float(sum(len(json.dumps(e)) for c in put_events for e in c.params.get("Entries", []))),
        outbox_records=len(outbox),
        log_bytes=m.log_bytes,
        api=m.scenario.function not in NOT_API,
        traced_entry=m.scenario.function not in INHERITS_TRACE,
        stored_bytes=stored,
        uses_secret=m.uses_secret,
        batch_item=name == "reconcile",
    )
    return use, usage


def measured_paths(
    results: list[Result], extra: dict[tuple[str, str, str], Calibration], template: Template
) -> tuple[dict[str, PathUse], dict[str, capacity.Usage]]:
    """Every path of :data:`PATHS` the run has figures for (``extra``: cost-only calibrations)."""
    props = template.properties(template.only("AWS::DynamoDB::Table")[0])
    table = capacity.Table.from_template(props, "replay")
    filters = consumer_filters(template)
    by_function = {r.scenario.function: r for r in results}
    cold_secret = {r.scenario.function: any(c.service == "secretsmanager" for c in r.cold_calls) for r in results}
    paths: dict[str, PathUse] = {}
    usages: dict[str, capacity.Usage] = {}
    for name, (function, fixture, state) in PATHS.items():
        result = by_function.get(function)
        if result is None:
            continue
        init_ms = result.cold_cpu_ms  # not the wall time: on a shared machine that includes waiting for a core
        if (result.scenario.fixture, result.scenario.state) == (fixture, state):
            calls = [c for c in result.cold_calls if c.service != "secretsmanager"] if name in FIRST_CALL else (
                result.warm_calls)  # fmt: skip
            m = Measured(result.scenario, calls, result.warm_log_bytes, result.warm["handler"].median / 1000,
                         init_ms, cold_secret[function], result.world_at)  # fmt: skip
        elif (function, fixture, state) in extra:
            cal = extra[(function, fixture, state)]
            scenario = next(
                s for s in _cost_scenarios() if (s.function, s.fixture, s.state) == (function, fixture, state)
            )
            m = Measured(scenario, cal.calls, float(sum(len(json.dumps(x)) + 1 for x in cal.lines)),
                         result.warm["handler"].median / 1000, init_ms,
                         any(c.service == "secretsmanager" for c in cal.calls), cal.world_at)  # fmt: skip
        else:
            continue
        paths[name], usages[name] = path_use(name, m, table, filters)
    if "reconcile" in paths and "return-open" in paths:
        paths["reconcile"] = replace(paths["reconcile"], cpu_ms=paths["return-open"].cpu_ms)
    return paths, usages


def _cost_scenarios() -> list[Scenario]:
    from qpay_bench.scenarios import COST_SCENARIOS  # noqa: PLC0415

    return COST_SCENARIOS


def asl_transitions(template: Template) -> int:
    """Happy-path state transitions of the refund state machine, read from its ASL file."""
    import yaml  # noqa: PLC0415

    from qpay_bench.cost import happy_path_transitions  # noqa: PLC0415

    machine = template.of_type("AWS::Serverless::StateMachine")["RefundStateMachine"]
    uri = Path(template.root / str(machine["Properties"]["DefinitionUri"]))
    return happy_path_transitions(yaml.safe_load(uri.read_text()))


def sampling_rule(template: Template) -> tuple[float, float]:
    """The template's X-Ray sampling rule as the cost model's ``rule_*`` assumptions (X-Ray's default
    rule, 1/s + 5 %, when there is none)."""
    rules = template.of_type("AWS::XRay::SamplingRule")
    if not rules:
        return 1.0, 0.05
    rule = next(iter(rules.values()))["Properties"]["SamplingRule"]
    return float(rule["ReservoirSize"]), float(rule["FixedRate"])


def fixed_costs(template: Template, results: list[Result]) -> Fixed:
    """Alarms from the template; custom metric names from the product's EMF calls; the scheduled runs
    (their rate from the template's schedules; each a Lambda request, a trace, its measured log lines and
    duration)."""
    import re  # noqa: PLC0415

    names: set[str] = set()
    for source in (template.root / "functions").rglob("*.py"):
        text = source.read_text()
        names |= set(re.findall(r"(?:add_metric|single_metric)\(\s*name=\"([A-Za-z0-9]+)\"", text))
        names |= set(re.findall(r"\bmetric\(\s*\"([A-Za-z0-9]+)\"", text))
    secrets = len(template.of_type("AWS::SecretsManager::Secret"))
    by_function = {r.scenario.function: r for r in results}
    runs, usd = 0, 0.0
    machines = template.of_type("AWS::Serverless::StateMachine")
    for schedule in template.schedules():
        per_month = runs_per_month(schedule.expression)
        if schedule.function in machines:  # the reconciliation fan-out: its invocations and transitions
            fan = fan_out(template)
            r = by_function.get("ReconcileFunction")
            whole_run_s = r.warm["handler"].median / 1e6 if r else 0.1  # the index queries of all 32 shards
            init_s = r.cold_cpu_ms / 1000 if r else 0.3  # each invocation, a day apart, starts cold
            gb = template.functions()["ReconcileFunction"].memory / 1024
            scale = FULL_VCPU_MB / (gb * 1024)
            seconds = whole_run_s * scale + fan.invocations * (init_s * scale + 0.05)
            runs += per_month * fan.invocations
            usd += per_month * (fan.invocations * PRICES["lambda_request"] + seconds * gb * PRICES["lambda_gb_s"]
                                + fan.transitions * PRICES["sfn_transition"])  # fmt: skip
            continue
        r = by_function.get(schedule.function)
        seconds = (r.warm["handler"].median / 1e6 * FULL_VCPU_MB / 512 + 0.05) if r else 0.1
        log_bytes = r.warm_log_bytes if r else 0.0
        runs += per_month
        usd += per_month * (PRICES["lambda_request"] + PRICES["xray_trace"] + seconds * 0.5 * PRICES["lambda_gb_s"]
                            + log_bytes / 1e9 * PRICES["logs_gb"])  # fmt: skip
    return Fixed(alarms=len(template.of_type("AWS::CloudWatch::Alarm")), metrics=len(names), secrets=secrets,
                 scheduled_runs=runs, scheduled_usd=usd)  # fmt: skip


def runs_per_month(expression: str) -> int:
    """``rate(15 minutes)`` → 2,880; ``cron(…)`` → taken as daily (30)."""
    import re  # noqa: PLC0415

    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not m:
        return 30
    minutes = int(m.group(1)) * {"minute": 1, "hour": 60, "day": 1440}[m.group(2).rstrip("s")]
    return 30 * 1440 // minutes


def resolved(template: Template, value: Any) -> Any:
    """A template value with ``!Ref <Parameter>`` resolved to the parameter's default (what a deploy with
    default settings gets)."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in template.parameters:
        return template.parameters[value["Ref"]].get("Default")
    return value


def stage_rate(template: Template) -> float:
    """The HTTP API's default route throttle (requests/s) from the template (10,000: the account's)."""
    _, api = template.only("AWS::Serverless::HttpApi")
    settings = api.get("Properties", {}).get("DefaultRouteSettings") or {}
    return float(resolved(template, settings.get("ThrottlingRateLimit", 10_000)))


def passthrough_tracing(template: Template) -> bool:
    """Whether the functions' X-Ray mode at default settings is PassThrough (traced only when the caller
    sends a sampled trace header: the refund workflow)."""
    return str(resolved(template, template.globals.get("Tracing", "PassThrough"))) != "Active"


def outbox_records_per_invocation(template: Template, records_per_s: float) -> float:
    """Records one outbox invocation carries: its event source's batching window times the rate of
    records passing its filter (at least one, at most the batch size)."""
    props = template.properties("OutboxFunction")
    (event,) = [e for e in props.get("Events", {}).values() if e.get("Type") == "DynamoDB"]
    window = float(resolved(template, event["Properties"].get("MaximumBatchingWindowInSeconds", 0)))
    batch = float(resolved(template, event["Properties"].get("BatchSize", 100)))
    return max(1.0, min(batch, window * records_per_s))


def reconcile_checks_per_payment(template: Template) -> float:
    """How many daily runs check a payment: the window's days, plus the part of today a run at its hour
    sees (a payment sits in the partition of the day of its last change)."""
    days = float(resolved(template, template.parameters["ReconcileWindowDays"].get("Default", 1)))
    (schedule,) = [s for s in template.schedules() if s.function in ("ReconcileStateMachine", "ReconcileFunction")]
    hour = int(schedule.expression.split()[1])  # cron(min hour ...)
    return days - 1 + 1 + hour / 24


@dataclass(frozen=True)
class FanOut:
    """The daily reconciliation as the template schedules it (infra/reconcile.asl.yaml)."""

    shards: int
    parts: int
    concurrency: int
    checkout_rps: float
    sample_every: int

    @property
    def invocations(self) -> int:
        return self.shards * self.parts

    @property
    def transitions(self) -> int:
        """Billed per run: Plan and Shards, then per shard its Parts map and one task per part."""
        return 2 + self.shards * (1 + self.parts)


def fan_out(template: Template) -> FanOut:
    from qpay.adapters.store.keys import SHARDS  # noqa: PLC0415

    def default(name: str) -> float:
        return float(template.parameters[name]["Default"])

    return FanOut(SHARDS, int(default("ReconcileParts")), int(default("ReconcileConcurrency")),
                  default("ReconcileCheckoutRps"), int(default("ReconcileSampleEvery")))  # fmt: skip


def reconcile_concurrency() -> int:
    """Checks the daily reconciliation makes at once: the product's default setting (the template does
    not override it)."""
    from dataclasses import fields  # noqa: PLC0415

    from qpay.settings import Settings  # noqa: PLC0415

    (f,) = [f for f in fields(Settings) if f.name == "reconcile_concurrency"]
    return int(f.default)  # type: ignore[arg-type]


def index_hash_keys(template: Template) -> dict[str, str]:
    props = template.properties(template.only("AWS::DynamoDB::Table")[0])
    out: dict[str, str] = {}
    for gsi in props.get("GlobalSecondaryIndexes") or []:
        hash_key = next(k["AttributeName"] for k in gsi["KeySchema"] if k["KeyType"] == "HASH")
        out[str(gsi["IndexName"])] = str(hash_key)
    return out


def memory_by_function(template: Template) -> tuple[tuple[str, int], ...]:
    """Each function's MemorySize (its own, else the template's Globals)."""
    return tuple(sorted((name, f.memory) for name, f in template.functions().items()))

"""US dollars per 1,000 payments on AWS list prices, from what the bench measured.

Measured inputs (per invocation of each path, by ``make bench``): the requests the handler sent and
what DynamoDB bills for them (:mod:`qpay_bench.capacity`: item sizes, transactions, GSI writes, stream
records), the order events the outbox derives from those stream records (the product's own
``derive``), Checkout.com and AWS round trips, CPU time, log bytes, cold-start time.

Assumptions (printed with the result, varied in the sensitivity table): traffic, refund share, webhook
deliveries per payment, status polls, latencies, cold-start share, tracing behaviour.

PRICES: a table per region (:data:`PRICE_TABLES`), every price with the page it was read from; the
region defaults to me-central-1, where the product deploys. Where no stored source gives the
me-central-1 figure, the table says so and uses the us-east-1 price times :data:`REGION_UPLIFT` (the one
me-central-1 price found, Lambda's, is 24 % above us-east-1's; 25 % errs on the dear side). Confirm every
such row in the AWS Pricing Calculator (me-central-1) before quoting the figure to the business.
Free tiers are ignored. Checkout.com's fees are not included.

X-Ray: Lambda samples every invocation that arrives without an upstream trace header itself, at a fixed
rate — the first request each second and 5 % of the rest — and AWS documents that this rate cannot be
configured; HTTP APIs do not support X-Ray, so no upstream header arrives. A sampling rule
(``AWS::XRay::SamplingRule`` in template.yaml) governs the services that apply rules: here the refund
state machine (Step Functions) and the RefundTask invocations it starts. The model follows that; the
sensitivity table shows what the rule would save if Lambda applied it, and what ``Tracing: PassThrough``
on the API and stream functions would save.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Price:
    usd: float
    source: str  # the page (or shared/ file) the figure was read from
    note: str = ""  # how it was derived when the page does not give it for the region


LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
US_EAST_1: dict[str, Price] = {
    "lambda_gb_s": Price(0.0000133334, LAMBDA_PRICING, "arm64; INIT billed too since August 2025"),
    "lambda_request": Price(0.20 / 1e6, LAMBDA_PRICING),
    "http_api_request": Price(1.00 / 1e6, "https://aws.amazon.com/api-gateway/pricing/", "first 300 M a month"),
    "ddb_wru": Price(0.625 / 1e6, "https://aws.amazon.com/dynamodb/pricing/on-demand/", "after the Nov 2024 cut"),
    "ddb_rru": Price(0.125 / 1e6, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "ddb_storage_gb_month": Price(0.25, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "ddb_pitr_gb_month": Price(0.20, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "sfn_transition": Price(0.025 / 1000, "https://aws.amazon.com/step-functions/pricing/", "Standard"),
    "logs_gb": Price(0.50, "https://aws.amazon.com/cloudwatch/pricing/", "Logs standard ingestion"),
    "logs_ia_gb": Price(0.25, "https://aws.amazon.com/cloudwatch/pricing/", "Logs Infrequent Access ingestion"),
    "xray_trace": Price(5.00 / 1e6, "https://aws.amazon.com/xray/pricing/", "traces recorded"),
    "events_put": Price(1.00 / 1e6, "https://aws.amazon.com/eventbridge/pricing/", "custom events, per 64 KB"),
    "events_archive_gb": Price(0.10, "https://aws.amazon.com/eventbridge/pricing/", "archive processing"),
    "secrets_call": Price(0.05 / 10_000, "https://aws.amazon.com/secrets-manager/pricing/"),
    "secret_month": Price(0.40, "https://aws.amazon.com/secrets-manager/pricing/"),
    "alarm_month": Price(0.10, "https://aws.amazon.com/cloudwatch/pricing/"),
    "metric_month": Price(0.30, "https://aws.amazon.com/cloudwatch/pricing/"),
}
REGION_UPLIFT = 1.25
_ME_CENTRAL_1_FOUND = {
    # artilleryio/artillery lib/platform/aws-lambda/prices.js (a table copied from LAMBDA_PRICING, which AWS
    # renders client-side): me-central-1 arm64 1653340e-10, x86 2066670e-10 per GB-s, i.e. +24.0 % on us-east-1
    "lambda_gb_s": Price(0.0000165334, "https://github.com/artilleryio/artillery/blob/main/lib/platform/aws-lambda/prices.js",
                         "arm64, me-central-1 row (third-party copy of " + LAMBDA_PRICING + ")"),
}  # fmt: skip
ME_CENTRAL_1: dict[str, Price] = {
    key: _ME_CENTRAL_1_FOUND.get(key)
    or Price(p.usd * REGION_UPLIFT, p.source, f"me-central-1 figure not found in any stored source: us-east-1 x {REGION_UPLIFT}")
    for key, p in US_EAST_1.items()
}  # fmt: skip
PRICE_TABLES: dict[str, dict[str, Price]] = {"us-east-1": US_EAST_1, "me-central-1": ME_CENTRAL_1}
DEFAULT_REGION = "me-central-1"  # samconfig.toml deploys there


def prices(region: str = DEFAULT_REGION) -> dict[str, float]:
    if region not in PRICE_TABLES:
        raise ValueError(f"no price table for {region}: add one to PRICE_TABLES (with its sources)")
    return {k: v.usd for k, v in PRICE_TABLES[region].items()}


PRICES = prices()  # the default region's (fixed monthly costs)
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB; CPU scales with memory below that
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class PathUse:
    """One kind of invocation as the bench measured it (per invocation)."""

    name: str
    function: str
    cpu_ms: float  # warm CPU on this machine (one core)
    init_ms: float  # cold start (import + first event) on this machine
    wru: float = 0.0  # table write request units (transactions and item sizes included)
    rru: float = 0.0
    index_wru: float = 0.0  # GSI writes
    ddb_calls: int = 0
    checkout_calls: int = 0
    aws_calls: int = 0  # Step Functions, EventBridge (latency only; priced separately)
    sfn_starts: int = 0
    order_events: float = 0.0  # order events the outbox derives from this path's stream records
    event_bytes: float = 0.0  # their size (EventBridge archive)
    outbox_records: int = 0  # stream records passing the outbox's filter
    log_bytes: float = 0.0
    api: bool = True  # an HTTP API request
    traced_entry: bool = True  # Lambda decides tracing itself (no upstream header)
    stored_bytes: int = 0  # bytes this path leaves in the table
    uses_secret: bool = False
    batch_item: bool = False  # one item of a batch invocation (the daily reconciliation's per-payment check):
    # duration and requests count per item; the invocation's request, trace, logs and cold start do not


@dataclass(frozen=True)
class Assumptions:
    region: str = DEFAULT_REGION
    payments_per_day: float = 20_000
    refund_share: float = 0.05  # refunds per payment
    webhooks_per_payment: float = 2.0  # payment_capture_pending + payment_captured (7 of 9 types subscribed)
    webhook_redeliveries: float = 0.02  # Checkout.com delivers at least once
    refund_webhooks: float = 1.0  # payment_refunded or payment_refund_declined per refund
    status_gets_per_payment: float = 1.0  # the storefront's one GET after the return
    returns_per_payment: float = 1.0
    # the shopper's return and Checkout's payment_captured webhook race; nothing measures who wins yet (the
    # return logs whether it asked Checkout: measure the share in production). Default: half each way. A
    # return first asks Checkout (GET, ~300 ms wait) and records the capture; the webhook then changes nothing.
    # A webhook first: the return reads a final payment and asks nobody.
    return_first_share: float = 0.5
    reconcile_checks_per_payment: float = 1.14  # template: 1-day window, run at 03:15 (make bench reads it)
    reconcile_concurrency: int = 8  # checks a run makes at once (make bench reads the product's setting)
    memory_mb: int = 512
    memory_mb_by_function: tuple[tuple[str, int], ...] = ()  # per-function MemorySize (template) over memory_mb
    logs_infrequent_access: bool = False  # the functions' log groups in the Infrequent Access class
    ddb_latency_ms: float = 6.0
    checkout_latency_ms: float = 300.0
    aws_latency_ms: float = 20.0
    cold_share: float = 0.02  # invocations that start a new sandbox (INIT is billed)
    secret_max_age_s: int = 300
    access_log_bytes: int = 0  # filled from the template's access log format
    log_scale: float = 1.0
    outbox_records_per_invocation: float = 1.0  # make bench reads the template's batching window
    lambda_reservoir: float = 1.0  # Lambda's fixed sampling: 1 request/s per function …
    lambda_rate: float = 0.05  # … then 5 %
    rule_reservoir: float = 1.0  # template.yaml's sampling rule (Step Functions and what it starts)
    rule_rate: float = 0.01
    lambda_applies_rule: bool = False  # documented: Lambda's rate cannot be configured
    passthrough_tracing: bool = False  # make bench reads the template's Tracing (default PassThrough)
    subscribe_all_events: bool = False  # all 9 webhook types (payment_pending, payment_refund_pending too)
    sfn_transitions_per_refund: int = 4  # from infra/refund.asl.yaml's happy path
    retention_months: float = 1.0  # table storage counted for this long

    @property
    def payments_per_s(self) -> float:
        return self.payments_per_day / SECONDS_PER_DAY

    def memory_of(self, function: str) -> int:
        return dict(self.memory_mb_by_function).get(function, self.memory_mb)


@dataclass
class Estimate:
    items: dict[str, float] = field(default_factory=dict)
    detail: dict[str, float] = field(default_factory=dict)  # finer lines (DynamoDB GSI, traces …)
    by_path: dict[str, tuple[float, float]] = field(default_factory=dict)  # path -> (per payment, dollars)

    @property
    def total(self) -> float:
        return sum(self.items.values())

    @property
    def dominant(self) -> tuple[str, float]:
        return max(self.items.items(), key=lambda kv: kv[1])


def traced_fraction(rate_per_s: float, reservoir: float, fixed_rate: float) -> float:
    """Share of requests sampled by a reservoir + fixed-rate rule at ``rate_per_s`` requests/s."""
    if rate_per_s <= 0:
        return 0.0
    return min(1.0, (min(rate_per_s, reservoir) + fixed_rate * max(0.0, rate_per_s - reservoir)) / rate_per_s)


def mix(paths: dict[str, PathUse], a: Assumptions) -> list[tuple[PathUse, float]]:
    """Invocations of each path per payment (the life of one payment)."""
    webhooks = a.webhooks_per_payment + (1.0 if a.subscribe_all_events else 0.0)  # + payment_pending
    refund_webhooks = a.refund_webhooks + (1.0 if a.subscribe_all_events else 0.0)  # + refund_pending
    # the webhooks: payment_capture_pending then payment_captured (each path measured on its own)
    webhook_share = 1.0 if "webhook-pending" not in paths else 1.0 / max(1.0, webhooks)
    first = a.return_first_share if "return-open" in paths else 0.0
    late = first if "webhook-late" in paths else 0.0
    captured_webhooks = webhooks * webhook_share * (1 + a.webhook_redeliveries)
    wanted = [
        ("create", 1.0),
        ("return", a.returns_per_payment * (1 - first)),
        ("return-open", a.returns_per_payment * first),
        ("get", a.status_gets_per_payment),
        ("webhook", captured_webhooks * (1 - late)),
        ("webhook-late", captured_webhooks * late),
        ("webhook-pending", (webhooks - 1) * (1 + a.webhook_redeliveries)),
        ("expiry", 1.0),  # every payment's timer is removed by TTL once
        ("reconcile", a.reconcile_checks_per_payment),
        ("refund", a.refund_share),
        ("refund-task", a.refund_share),  # request
        ("refund-await", a.refund_share),
        ("refund-webhook", a.refund_share * refund_webhooks * (1 + a.webhook_redeliveries)),
    ]
    out = [(paths[name], n) for name, n in wanted if name in paths]
    records = sum(p.outbox_records * n for p, n in out)
    if "outbox" in paths and records:
        out.append((paths["outbox"], records / max(1.0, a.outbox_records_per_invocation)))
    return out


def estimate(paths: dict[str, PathUse], a: Assumptions = Assumptions(), payments: int = 1000) -> Estimate:
    p = prices(a.region)
    e = Estimate(dict.fromkeys(("lambda", "http_api", "dynamodb", "step_functions", "logs", "xray", "eventbridge",
                                "secrets"), 0.0))  # fmt: skip
    per_function_rate: dict[str, float] = {}
    invocations = mix(paths, a)
    for path, n in invocations:
        per_function_rate[path.function] = per_function_rate.get(path.function, 0.0) + n * a.payments_per_s
    for path, n_per_payment in invocations:
        n = payments * n_per_payment
        before = sum(e.items.values())
        memory = a.memory_of(path.function)
        cpu_scale = max(1.0, FULL_VCPU_MB / memory)
        gb = memory / 1024
        waiting = (
            path.ddb_calls * a.ddb_latency_ms
            + path.aws_calls * a.aws_latency_ms
            + path.checkout_calls * a.checkout_latency_ms
        )
        wall = path.cpu_ms * cpu_scale
        if path.batch_item:
            wall += waiting / a.reconcile_concurrency  # the run's checks wait side by side
        else:
            wall += waiting + a.cold_share * path.init_ms * cpu_scale
        request = 0.0 if path.batch_item else p["lambda_request"]
        e.items["lambda"] += n * (request + max(1.0, wall) / 1000 * gb * p["lambda_gb_s"])
        table = n * (path.wru * p["ddb_wru"] + path.rru * p["ddb_rru"])
        index = n * path.index_wru * p["ddb_wru"]
        storage = (
            n * path.stored_bytes / 1e9 * (p["ddb_storage_gb_month"] + p["ddb_pitr_gb_month"]) * a.retention_months
        )
        e.items["dynamodb"] += table + index + storage
        e.detail["dynamodb: GSI writes"] = e.detail.get("dynamodb: GSI writes", 0.0) + index
        e.detail["dynamodb: storage + PITR"] = e.detail.get("dynamodb: storage + PITR", 0.0) + storage
        if not path.batch_item:
            log_price = p["logs_ia_gb"] if a.logs_infrequent_access else p["logs_gb"]
            e.items["logs"] += n * path.log_bytes * a.log_scale / 1e9 * log_price
        e.items["eventbridge"] += n * (
            path.order_events * p["events_put"] + path.event_bytes / 1e9 * p["events_archive_gb"]
        )
        if path.api:
            e.items["http_api"] += n * p["http_api_request"]
            e.items["logs"] += n * a.access_log_bytes * a.log_scale / 1e9 * p["logs_gb"]
        if path.sfn_starts:
            rate = n_per_payment * a.payments_per_s
            e.items["xray"] += (
                n * path.sfn_starts * traced_fraction(rate, a.rule_reservoir, a.rule_rate) * p["xray_trace"]
            )
        traced = path.traced_entry and not path.batch_item
        if traced and not (a.passthrough_tracing and path.function != "RefundTaskFunction"):
            rate = per_function_rate[path.function]
            if a.lambda_applies_rule:
                fraction = traced_fraction(sum(per_function_rate.values()), a.rule_reservoir, a.rule_rate)
            else:
                fraction = traced_fraction(rate, a.lambda_reservoir, a.lambda_rate)
            e.items["xray"] += n * fraction * p["xray_trace"]
        e.by_path[path.name] = (n_per_payment, sum(e.items.values()) - before)
    refunds = payments * a.refund_share
    e.items["step_functions"] += refunds * a.sfn_transitions_per_refund * p["sfn_transition"]
    calls = secret_calls(invocations, a, payments)
    e.items["secrets"] += calls * p["secrets_call"]
    e.detail["secrets: GetSecretValue calls"] = calls
    return e


def secret_calls(invocations: list[tuple[PathUse, float]], a: Assumptions, payments: int) -> float:
    """The secret is fetched at each cold start and when the cached copy is older than max_age (one
    sandbox per function assumed at this traffic)."""
    cold_fetches = sum(payments * n for path, n in invocations if path.uses_secret) * a.cold_share
    functions = {path.function for path, _ in invocations if path.uses_secret}
    days = payments / a.payments_per_day
    return cold_fetches + len(functions) * SECONDS_PER_DAY / a.secret_max_age_s * days


@dataclass(frozen=True)
class Fixed:
    """Monthly costs that do not scale with payments (printed apart from the per-payment figure)."""

    alarms: int
    metrics: int
    secrets: int = 1
    scheduled_runs: int = 0  # sweeps and reconciliations a month (each: one invocation, one trace)
    scheduled_usd: float = 0.0  # what those runs cost, besides the reconciliation's per-payment checks

    def monthly(self) -> float:
        return (self.alarms * PRICES["alarm_month"] + self.metrics * PRICES["metric_month"]
                + self.secrets * PRICES["secret_month"] + self.scheduled_usd)  # fmt: skip


BACKGROUND = ("ExpiryFunction", "OutboxFunction", "RefundTaskFunction", "ReconcileFunction", "SweepFunction")
#: the levers issue 21 names, each priced alone against the base (the report prints the difference)
LEVERS: list[tuple[str, dict[str, Any]]] = [
    ("refund workflow in 2 transitions (proposed ASL)", {"sfn_transitions_per_refund": 2}),
    # the template already runs Expiry, Outbox and RefundTask at 128 MB (qpay_bench.memory): "every function at
    # 256 MB" keeps those and moves the rest, which the memory rules reject for the shopper-facing functions
    ("every function at 256 MB", {"memory_mb": 256, "memory_mb_by_function": ()}),
    ("secret cached 1 h (SECRET_MAX_AGE_S 3600)", {"secret_max_age_s": 3600}),
    ("log groups in the Infrequent Access class", {"logs_infrequent_access": True}),
    ("log volume halved", {"log_scale": 0.5}),
]
LEVERS.append(
    (
        "all of the above together",
        {"sfn_transitions_per_refund": 2, "memory_mb": 256, "memory_mb_by_function": (), "secret_max_age_s": 3600,
         "logs_infrequent_access": True, "log_scale": 0.5},
    )
)  # fmt: skip
SENSITIVITY: list[tuple[str, dict[str, Any]]] = [
    ("us-east-1 prices", {"region": "us-east-1"}),
    ("returns always before the webhook", {"return_first_share": 1.0}),
    ("webhooks always before the return", {"return_first_share": 0.0}),
    ("2,000 payments/day (all traced)", {"payments_per_day": 2_000}),
    ("200,000 payments/day", {"payments_per_day": 200_000}),
    ("2,000,000 payments/day", {"payments_per_day": 2_000_000}),
    ("refund share 0 %", {"refund_share": 0.0}),
    ("refund share 20 %", {"refund_share": 0.2}),
    ("all 9 webhook types subscribed", {"subscribe_all_events": True}),
    ("3 status GETs per payment", {"status_gets_per_payment": 3.0}),
    ("log volume x2", {"log_scale": 2.0}),
    ("Checkout.com answers in 1 s", {"checkout_latency_ms": 1000.0}),
    ("cold starts 10 %", {"cold_share": 0.10}),
    ("outbox batches 10 records", {"outbox_records_per_invocation": 10.0}),
    ("if Lambda applied the sampling rule [not documented]", {"lambda_applies_rule": True}),
    ("Tracing: PassThrough on API + stream functions", {"passthrough_tracing": True}),
]


def sensitivity(
    paths: dict[str, PathUse], base: Assumptions, rows: list[tuple[str, dict[str, Any]]] | None = None
) -> list[tuple[str, float]]:
    return [(label, estimate(paths, varied(base, change)).total) for label, change in (rows or SENSITIVITY)]


def varied(base: Assumptions, change: dict[str, Any]) -> Assumptions:
    """``base`` with ``change``; a memory size for every function keeps the functions already smaller."""
    if "memory_mb" in change and change.get("memory_mb_by_function") == ():
        smaller = tuple((f, mb) for f, mb in base.memory_mb_by_function if mb < change["memory_mb"])
        change = {**change, "memory_mb_by_function": smaller}
    return replace(base, **change)


def price_sources(region: str = DEFAULT_REGION) -> list[str]:
    """One line per price: key, figure, source and, where derived, how."""
    return [
        f"{key:20} {p.usd:.10g}  {p.source}" + (f"  ({p.note})" if p.note else "")
        for key, p in PRICE_TABLES[region].items()
    ]


def happy_path_transitions(asl: dict[str, Any]) -> int:
    """States entered from ``StartAt`` to the end on the happy path (Choice: its first rule)."""
    states: dict[str, Any] = asl["States"]
    name: str | None = str(asl["StartAt"])
    count = 0
    seen: set[str] = set()
    while name is not None and name not in seen:
        seen.add(name)
        count += 1
        state = states[name]
        if state.get("Type") == "Choice":
            name = str(state["Choices"][0]["Next"])
        elif state.get("End") or state.get("Type") in ("Succeed", "Fail"):
            name = None
        else:
            name = str(state["Next"])
    return count


def access_log_bytes(format_string: str) -> int:
    """One HTTP API access log line, rendered with typical values for each ``$context`` variable."""
    import re  # noqa: PLC0415

    typical = {
        "requestId": "Kx7qAbCdEfGhIjK=", "identity.sourceIp": "198.51.100.7",
        "requestTime": "25/Nov/2026:10:00:00 +0000", "httpMethod": "POST", "routeKey": "POST /webhooks/checkout",
        "status": "200", "protocol": "HTTP/1.1", "responseLength": "52", "responseLatency": "41",
        "integrationLatency": "38", "identity.userArn": "-", "integrationErrorMessage": "-",
    }  # fmt: skip
    return len(re.sub(r"\$context\.([A-Za-z.]+)", lambda m: typical.get(m.group(1), "-"), format_string)) + 1


def dominant_line(e: Estimate) -> str:
    name, usd = e.dominant
    return f"{name} ${usd:.5f} ({100 * usd / e.total:.0f} %)"

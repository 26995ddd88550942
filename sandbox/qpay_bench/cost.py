"""US dollars per 1,000 payments on AWS list prices, fed by the bench's counted requests.

PRICES: us-east-1 list prices as published in 2025 (Lambda arm64, HTTP API first tier, DynamoDB
on-demand after the November 2024 cut, Step Functions Standard, CloudWatch Logs standard ingestion,
X-Ray traces recorded). Free tiers are ignored. Other regions (me-central-1) are somewhat dearer.
Checkout.com's fees are not included.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

PRICES = {
    "lambda_gb_s": 0.0000133334,  # arm64, per GB-second
    "lambda_request": 0.20 / 1e6,
    "http_api_request": 1.00 / 1e6,
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit
    "sfn_transition": 0.025 / 1000,  # Standard workflows
    "logs_gb": 0.50,  # ingestion
    "xray_trace": 5.00 / 1e6,  # traces recorded
    "secrets_call": 0.05 / 10_000,
}


@dataclass(frozen=True)
class Path:
    """One kind of invocation, as the bench counted it (per invocation)."""

    name: str
    function: str
    per_payment: float  # how many of these one payment causes (before refund share)
    cpu_ms: float = 1.0
    ddb_calls: int = 0
    checkout_calls: int = 0
    sfn_calls: int = 0
    wru: float = 0.0
    rru: float = 0.0
    api: bool = True
    refund: bool = False  # scales with refund share instead
    log_bytes: float = -1.0  # our JSON log lines per invocation, measured by the warm run (-1: assume)


@dataclass(frozen=True)
class Assumptions:
    refund_share: float = 0.05  # refunds per payment
    log_bytes_per_invocation: int = 600  # our JSON lines where the bench did not measure them
    # START/END/REPORT are INFO-level platform lines; template.yaml sets SystemLogLevel WARN (JSON log
    # format), so they are not ingested. Set ~350 if you keep them.
    platform_log_bytes: int = 0
    log_scale: float = 1.0  # sensitivity: multiplies all log volume
    access_log_bytes: int = 450  # HTTP API access log line
    trace_sampling: float = 0.05  # X-Ray default rule: 1/s reservoir + 5 %
    memory_gb: float = 0.5
    ddb_latency_ms: float = 6.0
    checkout_latency_ms: float = 250.0
    sfn_latency_ms: float = 15.0
    sfn_transitions_per_refund: int = (
        4  # happy path of infra/refund.asl.yaml: RequestRefund, AwaitOutcome, Finished, Refunded
    )
    warm_share: float = 0.98  # invocations that find a warm sandbox (cold ones add init time)
    cold_init_ms: float = 700.0
    secret_fetches_per_1000: float = 20.0  # cache max_age 300 s per sandbox
    webhook_duplicates: float = 0.1


@dataclass
class Estimate:
    items: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.items.values())

    @property
    def dominant(self) -> tuple[str, float]:
        return max(self.items.items(), key=lambda kv: kv[1])


def estimate(paths: list[Path], a: Assumptions = Assumptions(), payments: int = 1000) -> Estimate:
    p = PRICES
    e = Estimate(dict.fromkeys(("lambda", "http_api", "dynamodb", "step_functions", "logs", "xray", "secrets"), 0.0))
    for path in paths:
        n = payments * path.per_payment * (a.refund_share if path.refund else 1.0)
        wall_ms = path.cpu_ms + path.ddb_calls * a.ddb_latency_ms + path.checkout_calls * a.checkout_latency_ms
        wall_ms += path.sfn_calls * a.sfn_latency_ms + (1 - a.warm_share) * a.cold_init_ms
        e.items["lambda"] += n * (p["lambda_request"] + max(1.0, wall_ms) / 1000 * a.memory_gb * p["lambda_gb_s"])
        e.items["dynamodb"] += n * (path.wru * p["ddb_wru"] + path.rru * p["ddb_rru"])
        app_bytes = path.log_bytes if path.log_bytes >= 0 else a.log_bytes_per_invocation
        e.items["logs"] += n * (app_bytes + a.platform_log_bytes) * a.log_scale / 1e9 * p["logs_gb"]
        e.items["xray"] += n * a.trace_sampling * p["xray_trace"]
        if path.api:
            e.items["http_api"] += n * p["http_api_request"]
            e.items["logs"] += n * a.access_log_bytes / 1e9 * p["logs_gb"]
    e.items["step_functions"] += payments * a.refund_share * a.sfn_transitions_per_refund * p["sfn_transition"]
    e.items["secrets"] += a.secret_fetches_per_1000 * payments / 1000 * p["secrets_call"]
    return e


def sensitivity(paths: list[Path], base: Assumptions = Assumptions()) -> list[tuple[str, float]]:
    rows = []
    for label, change in (
        ("refund share 0 %", {"refund_share": 0.0}),
        ("refund share 20 %", {"refund_share": 0.2}),
        ("log volume x4", {"log_scale": 4.0}),
        ("log volume ÷2", {"log_scale": 0.5}),
        ("platform START/END/REPORT kept (+350 B/invocation)", {"platform_log_bytes": 350}),
        ("trace sampling 100 %", {"trace_sampling": 1.0}),
        ("trace sampling 0 %", {"trace_sampling": 0.0}),
    ):
        rows.append((label, estimate(paths, replace(base, **change)).total))
    return rows


def default_paths(measured: dict[str, Path]) -> list[Path]:
    """The life of one payment: create, return, webhooks (+ duplicates), status polls, the expiry timer's
    stream record, and the refund share's request, tasks and webhook. ``measured`` overrides by name."""
    a = Assumptions()
    base = [
        Path("create", "CreatePaymentFunction", 1, ddb_calls=2, checkout_calls=1, wru=7),
        Path("return", "PaymentReturnFunction", 1, ddb_calls=2, checkout_calls=1, wru=4, rru=1),
        Path("webhook", "WebhookFunction", 2 * (1 + a.webhook_duplicates), ddb_calls=1, wru=4),
        Path("get", "GetPaymentFunction", 3, ddb_calls=1, rru=1),
        Path("expiry", "ExpiryFunction", 1, ddb_calls=1, rru=1, api=False),
        Path("refund", "RefundRequestFunction", 1, ddb_calls=2, sfn_calls=1, wru=4, rru=1, refund=True),
        Path("refund-task", "RefundTaskFunction", 2, ddb_calls=2, checkout_calls=1, wru=1, rru=2, api=False, refund=True),
        Path("refund-webhook", "WebhookFunction", 2, ddb_calls=2, sfn_calls=1, wru=6, rru=1, refund=True),
    ]  # fmt: skip
    return [measured.get(p.name, p) for p in base]

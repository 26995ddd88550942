"""Where each AWS limit binds, in payments per second, from the demand the bench measured per payment.

Demand per payment comes from the cost model's paths (the requests each invocation made, replayed for
DynamoDB units and index writes) and its mix (invocations per payment). Limits are AWS's published
defaults (docs/capacity.md cites them; ``adjustable`` marks Service Quotas that AWS raises on request)
and the template's own settings. The hot-key rows read the index partition key values the product
wrote in the replay: one value (``PENDING``, a plain date) means one partition key takes every write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qpay_bench.capacity import Usage
from qpay_bench.cost import FULL_VCPU_MB, Assumptions, PathUse, mix

PARTITION_WCU = 1000.0  # per partition (key value), per second
CHECKOUT_RPS = 100.0  # reads, and writes: https://checkout.com/docs/developer-resources/api/api-rate-limits

#: default quotas per region, each cited in docs/capacity.md (pages read 2026-12):
#: HTTP API https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html ("Middle East (UAE)": 2,500
#: rps, burst 1,250); PutEvents https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html ("each of
#: the other supported Regions: 400 per second"); Step Functions
#: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html ("All other regions": StartExecution
#: refill 150, transitions 800, SendTaskSuccess refill 300); Lambda
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (1,000).
QUOTAS: dict[str, dict[str, float]] = {
    "me-central-1": {"http_api": 2_500, "lambda_concurrency": 1_000, "put_events": 400, "start_execution": 150,
                     "state_transitions": 800, "send_task_success": 300},
    "us-east-1": {"http_api": 10_000, "lambda_concurrency": 1_000, "put_events": 10_000, "start_execution": 300,
                  "state_transitions": 5_000, "send_task_success": 500},
}  # fmt: skip
SHARDS_WHEN_SUFFIXED = 32  # the contract: PENDING#<n> and <day>#<n> with 32 shards


@dataclass(frozen=True)
class Limit:
    resource: str
    limit: float
    unit: str
    demand: float  # per payment, in ``unit``
    kind: str  # "quota (adjustable)", "configuration", "design", "hard"
    note: str = ""

    @property
    def binds_at(self) -> float:
        return self.limit / self.demand if self.demand > 0 else float("inf")


def demand(paths: dict[str, PathUse], usages: dict[str, Usage], a: Assumptions) -> dict[str, float]:
    """Per payment: API requests, Lambda seconds, table WRU/RRU, index writes per index, PutEvents calls,
    StartExecution calls, Checkout.com calls."""
    out: dict[str, float] = {}
    for path, n in mix(paths, a):
        cpu_scale = max(1.0, FULL_VCPU_MB / a.memory_of(path.function))

        def add(key: str, value: float, n: float = n) -> None:
            out[key] = out.get(key, 0.0) + n * value

        add("api", 1.0 if path.api else 0.0)
        wall_ms = path.cpu_ms * cpu_scale + path.ddb_calls * a.ddb_latency_ms + path.aws_calls * a.aws_latency_ms
        wall_ms += path.checkout_calls * a.checkout_latency_ms
        add("lambda_s", 0.0 if path.batch_item else wall_ms / 1000)
        add("wru", path.wru)
        add("rru", path.rru)
        add("put_events", 1.0 if path.order_events else 0.0)
        add("order_events", path.order_events)
        add("start_execution", float(path.sfn_starts))
        add("checkout", float(path.checkout_calls))
        reads = path.checkout_calls if path.name in READS else 0
        add("checkout_reads", float(reads))
        add("checkout_writes", float(path.checkout_calls - reads))
        usage = usages.get(path.name)
        if usage is not None:
            for index, writes in usage.index_writes.items():
                add(f"index:{index}", float(writes))
    return out


#: paths whose Checkout.com calls are GETs (the rest: create and refund requests POST)
READS = {"return", "return-open", "get", "webhook", "webhook-late", "webhook-pending", "expiry", "reconcile",
         "refund-await", "refund-webhook", "outbox"}  # fmt: skip

#: index partition key values shared by many payments at once: a constant or a day, maybe ``#<shard>``
SHARED_KEY = re.compile(r"^([A-Z_]+|\d{4}-\d{2}-\d{2})(#\d+)?$")


def index_shards(usages: dict[str, Usage], key: str) -> int | None:
    """How many partition key values the product spreads an index over (read from what it wrote), or
    None when each payment has its own value (no hot key)."""
    values = {
        str(next(iter(r.new[key].values())))
        for u in usages.values()
        for r in u.records
        if r.new is not None and key in r.new
    }
    if not values or not all(SHARED_KEY.match(v) for v in values):
        return None
    return SHARDS_WHEN_SUFFIXED if any("#" in v for v in values) else 1


def limits(
    paths: dict[str, PathUse], usages: dict[str, Usage], a: Assumptions, *, stage_rps: float, index_keys: dict[str, str]
) -> list[Limit]:
    d = demand(paths, usages, a)
    q = QUOTAS[a.region]
    refund_task_s = sum(p.cpu_ms * max(1.0, FULL_VCPU_MB / a.memory_of(p.function)) / 1000
                        + p.checkout_calls * a.checkout_latency_ms / 1000 + p.ddb_calls * a.ddb_latency_ms / 1000
                        for p in paths.values() if p.name == "refund-task")  # fmt: skip
    entries_per_call = 10.0  # the outbox fills PutEvents calls across records: full at any rate where it binds
    rows = [
        Limit("HTTP API stage throttle (template)", stage_rps, "requests/s", d.get("api", 0.0), "configuration",
              "DefaultRouteSettings.ThrottlingRateLimit"),
        Limit("HTTP API account throttle", q["http_api"], "requests/s", d.get("api", 0.0), "quota (adjustable)",
              "per account and region; me-central-1 is in the 2,500/1,250 list"),
        Limit("Lambda concurrent executions", q["lambda_concurrency"], "concurrent", d.get("lambda_s", 0.0),
              "quota (adjustable)", "account default (a new account may start far lower)"),
        Limit("DynamoDB table (on-demand) writes", 40_000, "WRU/s", d.get("wru", 0.0), "quota (adjustable)",
              "per-table default maximum"),
        Limit("DynamoDB new on-demand table writes", 4_000, "WRU/s", d.get("wru", 0.0), "scales",
              "until traffic has doubled the previous peak (or warm throughput is set)"),
        Limit("DynamoDB table reads", 40_000, "RRU/s", d.get("rru", 0.0), "quota (adjustable)"),
        Limit("EventBridge PutEvents", q["put_events"], "requests/s", d.get("order_events", 0.0) / entries_per_call,
              "quota (adjustable)", "10 entries per call (the outbox batches across records)"),
        Limit("EventBridge PutEvents, one call per record (before)", q["put_events"], "requests/s",
              d.get("put_events", 0.0), "quota (adjustable)", "what the per-record outbox needed"),
        Limit("Step Functions StartExecution (Standard)", q["start_execution"], "requests/s",
              d.get("start_execution", 0.0), "quota (adjustable)", "refill rate"),
        Limit("Step Functions state transitions (Standard)", q["state_transitions"], "transitions/s",
              a.refund_share * a.sfn_transitions_per_refund, "quota (adjustable)", "refill rate"),
        Limit("Step Functions SendTaskSuccess", q["send_task_success"], "requests/s", a.refund_share,
              "quota (adjustable)", "refill rate; one per refund"),
        Limit("RefundTask reserved concurrency (ReserveConcurrency=true)", 10, "concurrent",
              a.refund_share * refund_task_s, "configuration", "template: 10 when reserved"),
        Limit("Checkout.com reads (published, per account)", CHECKOUT_RPS, "requests/s", d.get("checkout_reads", 0.0),
              "external", "GETs on the live paths; the reconciliation paces its own (docs/capacity.md)"),
        Limit("Checkout.com writes (published, per account)", CHECKOUT_RPS, "requests/s",
              d.get("checkout_writes", 0.0), "external", "the create, the refund requests"),
        Limit("Secrets Manager GetSecretValue", 10_000, "requests/s", 0.0, "quota",
              "cached 300 s per sandbox: a few calls per second at any traffic"),
    ]  # fmt: skip
    for index, key in index_keys.items():
        writes = d.get(f"index:{index}", 0.0)
        shards = index_shards(usages, key)
        if shards is None:
            continue
        rows.append(
            Limit(f"GSI {index}: one {key} value's partition", PARTITION_WCU * shards, "WCU/s", writes, "design",
                  f"{shards} partition key value{'s share' if shards > 1 else ' takes'} every write of the moment")
        )  # fmt: skip
    return rows

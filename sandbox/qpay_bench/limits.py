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
    cpu_scale = max(1.0, FULL_VCPU_MB / a.memory_mb)
    for path, n in mix(paths, a):

        def add(key: str, value: float, n: float = n) -> None:
            out[key] = out.get(key, 0.0) + n * value

        add("api", 1.0 if path.api else 0.0)
        wall_ms = path.cpu_ms * cpu_scale + path.ddb_calls * a.ddb_latency_ms + path.aws_calls * a.aws_latency_ms
        wall_ms += path.checkout_calls * a.checkout_latency_ms
        add("lambda_s", 0.0 if path.batch_item else wall_ms / 1000)
        add("wru", path.wru)
        add("rru", path.rru)
        add("put_events", 1.0 if path.order_events else 0.0)
        add("start_execution", float(path.sfn_starts))
        add("checkout", float(path.checkout_calls))
        usage = usages.get(path.name)
        if usage is not None:
            for index, writes in usage.index_writes.items():
                add(f"index:{index}", float(writes))
    return out


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
    rows = [
        Limit("HTTP API stage throttle (template)", stage_rps, "requests/s", d.get("api", 0.0), "configuration",
              "DefaultRouteSettings.ThrottlingRateLimit"),
        Limit("HTTP API account throttle", 10_000, "requests/s", d.get("api", 0.0), "quota (adjustable)",
              "per account and region, burst 5,000"),
        Limit("Lambda concurrent executions", 1_000, "concurrent", d.get("lambda_s", 0.0), "quota (adjustable)",
              "account default; each function adds 1,000 every 10 s when scaling"),
        Limit("DynamoDB table (on-demand) writes", 40_000, "WRU/s", d.get("wru", 0.0), "quota (adjustable)",
              "per-table default maximum"),
        Limit("DynamoDB new on-demand table writes", 4_000, "WRU/s", d.get("wru", 0.0), "scales",
              "until traffic has doubled the previous peak (or warm throughput is set)"),
        Limit("DynamoDB table reads", 40_000, "RRU/s", d.get("rru", 0.0), "quota (adjustable)"),
        Limit("EventBridge PutEvents", 10_000, "requests/s", d.get("put_events", 0.0), "quota (adjustable)",
              "us-east-1; lower in smaller regions [check me-central-1 in Service Quotas]"),
        Limit("Step Functions StartExecution (Standard)", 300, "requests/s", d.get("start_execution", 0.0),
              "quota (adjustable)", "refill rate, us-east-1 [smaller regions lower]"),
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

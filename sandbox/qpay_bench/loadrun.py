"""Payments through the local stack with webhook chaos, then invariants. Loopback only, bounded."""

from __future__ import annotations

import statistics
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from qpay_local.stack import LocalStack

CARD = {"card": "4215375500883243", "expiry": "12/30", "pin": "123456"}


@dataclass
class LoadResult:
    payments: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def percentile(self, route: str, q: float) -> float:
        values = sorted(self.latencies.get(route, [0.0]))
        return values[min(len(values) - 1, int(len(values) * q))]

    def summary(self) -> str:
        rows = [
            f"{self.payments} payments in {self.seconds:.1f} s = {self.payments / self.seconds:.1f}/s (this machine)"
        ]
        for route, values in sorted(self.latencies.items()):
            rows.append(
                f"  {route:28} p50 {statistics.median(values) * 1000:7.1f} ms  p99 {self.percentile(route, 0.99) * 1000:7.1f} ms"
            )
        rows.append("invariants: " + ("all hold" if not self.problems else "; ".join(self.problems[:10])))
        return "\n".join(rows)


def run(payments: int, clients: int, *, deadline_s: float = 600.0, ddb_local: bool = False) -> LoadResult:
    """``ddb_local``: DynamoDB Local instead of moto, whose transactions copy the whole table (fine for
    tests, quadratic for thousands of payments)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, ddb_local=ddb_local) as stack:
        sim = stack.sim
        assert sim is not None
        sim.config.webhook_duplicate_probability = 0.1
        sim.config.webhook_reorder_probability = 0.1
        headers = {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}
        started = time.monotonic()

        def timed(route: str, fn: Any) -> Any:
            t = time.monotonic()
            out = fn()
            latencies[route].append(time.monotonic() - t)
            return out

        def one(i: int) -> str | None:
            if time.monotonic() - started > deadline_s:
                return None  # the deadline stopped the run before this payment started
            with httpx.Client(timeout=30) as http:
                body = {"reference": f"LOAD-{i}-{uuid.uuid4().hex[:6]}", "amount": 1000 + i, "currency": "QAR",
                        "description": "load", "language": "en", "quantity": 1, "national_id": "28763400000"}  # fmt: skip
                r = timed("POST /payments", lambda: http.post(f"{stack.api_url}/payments", json=body, headers=headers))
                if r.status_code != 201:
                    return ""
                payment = r.json()
                cko = next(p.id for p in sim.payments.values() if p.reference == body["reference"])
                redirect = sim.pay(cko, **CARD)
                timed("GET /payments/return", lambda: http.get(redirect))
                timed("GET /payments/{id}", lambda: http.get(f"{stack.api_url}/payments/{payment['id']}"))
                return str(payment["id"])

        with ThreadPoolExecutor(clients) as pool:
            outcomes = list(pool.map(one, range(payments)))
        started_payments = sum(1 for o in outcomes if o is not None)
        ids = [pid for pid in outcomes if pid]
        stack.drain(timeout=max(60.0, payments * 0.5))
        seconds = time.monotonic() - started
        result = LoadResult(len(ids), seconds, dict(latencies))
        result.problems = check(stack, ids, started_payments)
    return result


def check(stack: LocalStack, ids: list[str], wanted: int) -> list[str]:
    problems = [] if len(ids) == wanted else [f"only {len(ids)} of {wanted} payments were created"]
    ddb = stack.dynamodb
    by_pk: dict[str, list[dict[str, Any]]] = defaultdict(list)
    kwargs: dict[str, Any] = {"TableName": stack.table_name}
    while True:
        page = ddb.scan(**kwargs)
        for item in page["Items"]:
            by_pk[item["pk"]["S"]].append(item)
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    offsets = set()
    for pid in ids:
        items = by_pk.get(f"PAYMENT#{pid}", [])
        payment = next((i for i in items if i["sk"]["S"] == "PAYMENT"), None)
        if payment is None:
            problems.append(f"{pid} lost")
            continue
        if payment["stage"]["S"].lower() != "captured":
            problems.append(f"{pid} ended {payment['stage']['S']}")
        events = [e["S"] for e in payment.get("applied_events", {}).get("L", [])]
        if len(events) != len(set(events)):
            problems.append(f"{pid} has an event applied twice")
        offsets.add(int(payment["version"]["N"]) - len(events))
    if len(offsets) > 1:
        problems.append(f"versions inconsistent with applied events: offsets {sorted(offsets)}")
    return problems

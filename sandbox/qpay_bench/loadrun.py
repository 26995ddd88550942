"""Payments through the local stack with webhook chaos, then invariants. Loopback only, bounded.

Three kinds of process, so the figures are the product's and not the harness's:

- the stack (this process): the Checkout.com simulator, moto (Step Functions, EventBridge, SQS), the
  stream pollers that play Lambda's event source mappings (Expiry, Outbox), schedules; DynamoDB Local
  in its own Java process;
- the API front (:mod:`qpay_bench.front`): ``workers`` processes serving the HTTP API from the template
  with the real handlers (webhooks from the simulator arrive there too);
- the load generator (:mod:`qpay_bench.loadgen`), one keep-alive HTTP client per concurrent client.

CPU is sampled per process (``/proc/<pid>/stat``) over the run, and handler time is taken with thread
CPU timers around every ``Runtime.invoke`` (API handlers in the front, stream consumers and schedules in
the stack), so the share of the machine our handlers use is reported next to payments per second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpay_bench.front import ROOT, Front, HandlerClock
from qpay_local.stack import LocalStack

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
#: DynamoDB Local is a test double: a serial collector and the C1 compiler only cut its CPU per request
#: about threefold on 2 cores (measured: 79 → 24 ms per payment) at no cost to what it answers.
JAVA_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used, from ``/proc/<pid>/stat``."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (every core, every process)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICK, sum(values) / CLOCK_TICK


@dataclass
class LoadResult:
    payments: int
    seconds: float
    started: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds during the run
    handler_cpu: dict[str, float] = field(default_factory=dict)  # function -> CPU seconds in handlers
    handler_calls: dict[str, int] = field(default_factory=dict)
    handler_median: dict[str, float] = field(default_factory=dict)  # steady state: median CPU per call
    front_cpu: float = 0.0
    front_handler_cpu: float = 0.0
    machine_busy: float = 0.0
    machine_total: float = 0.0
    workers: int = 0

    @property
    def rate(self) -> float:
        return self.payments / self.seconds if self.seconds else 0.0

    def percentile(self, route: str, q: float) -> float:
        values = sorted(self.latencies.get(route, [0.0]))
        return values[min(len(values) - 1, int(len(values) * q))]

    @property
    def handler_share(self) -> float:
        total = sum(self.cpu.values())
        return sum(self.handler_cpu.values()) / total if total else 0.0

    def summary(self) -> str:
        rows = [
            f"{self.payments} payments in {self.seconds:.1f} s = {self.rate:.1f} payments/s "
            f"({self.workers} API processes; this machine, not AWS)",
        ]
        for route, values in sorted(self.latencies.items()):
            rows.append(
                f"  {route:32} p50 {statistics.median(values) * 1000:7.1f} ms  p99 {self.percentile(route, 0.99) * 1000:7.1f} ms  (n={len(values)})"
            )
        total = sum(self.cpu.values())
        rows.append(f"CPU during the run: {total:.1f} s in our processes; the whole machine was busy "
                    f"{self.machine_busy:.1f} s of {self.machine_total:.1f} s (other agents share it)")  # fmt: skip
        for name, seconds in sorted(self.cpu.items(), key=lambda kv: -kv[1]):
            rows.append(f"  {name:40} {seconds:7.1f} s  {100 * seconds / total if total else 0:5.1f} %")
        handlers = sum(self.handler_cpu.values())
        front_share = self.front_handler_cpu / self.front_cpu if self.front_cpu else 0.0
        rows.append(f"our handlers: {handlers:.1f} s CPU = {100 * self.handler_share:.1f} % of all the run's CPU, "
                    f"{100 * front_share:.1f} % of the API processes' CPU")  # fmt: skip
        for name, seconds in sorted(self.handler_cpu.items(), key=lambda kv: -kv[1]):
            calls = self.handler_calls.get(name, 0)
            median = 1000 * self.handler_median.get(name, 0.0)
            rows.append(f"  {name:40} {seconds:7.2f} s  {calls:6} calls  mean {1000 * seconds / max(1, calls):6.2f} "
                        f"ms, median {median:6.2f} ms CPU per call")  # fmt: skip
        rows.append("invariants: " + ("all hold" if not self.problems else "; ".join(self.problems[:10])))
        if self.errors:
            rows.append("errors: " + "; ".join(self.errors[:5]))
        return "\n".join(rows)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The stack's own handlers (stream consumers) log JSON lines to fd 1: formatted, then dropped."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def _set_by_worker(function: str, event: dict[str, Any]) -> Any:
    raise RuntimeError("each API process sets its own invoke")


@contextlib.contextmanager
def java_options(options: str) -> Iterator[None]:
    saved = os.environ.get("JAVA_TOOL_OPTIONS")
    os.environ["JAVA_TOOL_OPTIONS"] = options
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("JAVA_TOOL_OPTIONS", None)
        else:
            os.environ["JAVA_TOOL_OPTIONS"] = saved


def _generate(tmp: str, spec: dict[str, Any], name: str, timeout: float) -> dict[str, Any]:
    Path(tmp, f"{name}.json").write_text(json.dumps(spec))
    gen = subprocess.run(
        [sys.executable, "-m", "qpay_bench.loadgen", f"{tmp}/{name}.json", f"{tmp}/{name}-out.json"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "sandbox", "."))},
        capture_output=True, text=True, check=False, timeout=timeout,
    )  # fmt: skip
    if gen.returncode != 0:
        raise RuntimeError(f"load generator failed: {gen.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(Path(tmp, f"{name}-out.json").read_text())
    return out


def _wire(stack: LocalStack, front: Front, clock: HandlerClock) -> dict[str, int]:
    """Point the simulator's webhooks and return URLs at the front, start it, time the stack's own
    handler calls; the processes whose CPU the run reports."""
    sim, runtime, gateway = stack.sim, stack.runtime, stack.gateway
    assert sim is not None
    assert runtime is not None
    assert gateway is not None
    sim.config.webhook_duplicate_probability = 0.1
    sim.config.webhook_reorder_probability = 0.1
    sim.config.webhook_urls = [front.url + "/webhooks/checkout"]  # Checkout.com calls the front
    config = dataclasses.replace(gateway.config, invoke=_set_by_worker, extra_apps={}, on_invoke=None)
    front.start(stack.env, {k: (f.name, f.arn) for k, f in runtime.functions.items()}, config)
    original = runtime.invoke
    runtime.invoke = clock.wrap(original, lambda f: runtime.find(f).definition.logical_id)  # type: ignore[method-assign,assignment]
    pids = {f"API process {i + 1}": pid for i, pid in enumerate(front.pids)}
    pids["stack: simulator, moto, stream pollers"] = os.getpid()
    if stack.ddb_local_server is not None and stack.ddb_local_server.process is not None:
        pids["DynamoDB Local (Java)"] = stack.ddb_local_server.process.pid
    return pids


def _measure(stack: LocalStack, pids: dict[str, int], tmp: str, spec: dict[str, Any]) -> tuple[LoadResult, list[str]]:
    before = {name: process_cpu(pid) for name, pid in pids.items()}
    machine_before = machine_cpu()
    started = time.monotonic()
    out = _generate(tmp, spec, "load", float(spec["deadline_s"]) + 600)
    stack.drain(timeout=max(60.0, int(spec["payments"]) * 0.5))
    seconds = time.monotonic() - started
    cpu = {name: process_cpu(pid) - before[name] for name, pid in pids.items()}
    machine_after = machine_cpu()
    cpu["load generator (not ours)"] = float(out["cpu_s"])
    ids: list[str] = out["ids"]
    result = LoadResult(len(ids), seconds, int(out["started"]), dict(out["latencies"]), errors=list(out["errors"]),
                        cpu=cpu)  # fmt: skip
    result.machine_busy = machine_after[0] - machine_before[0]
    result.machine_total = machine_after[1] - machine_before[1]
    return result, ids


def _attribute(result: LoadResult, stats: list[dict[str, Any]], main: dict[str, Any]) -> None:
    """Handler CPU per function, from the front's clocks (after their mark) and the stack's."""
    windows = [HandlerClock.since(doc["handlers"], doc.get("mark") or {}) for doc in stats]
    samples: dict[str, list[float]] = defaultdict(list)
    for clock in [*windows, main]:
        for name, seconds in clock["cpu"].items():
            result.handler_cpu[name] = result.handler_cpu.get(name, 0.0) + seconds
            result.handler_calls[name] = result.handler_calls.get(name, 0) + clock["calls"][name]
            samples[name] += clock["samples"].get(name, [])
    result.handler_median = {name: statistics.median(v) for name, v in samples.items() if v}
    result.front_cpu = sum(v for k, v in result.cpu.items() if k.startswith("API process"))
    result.front_handler_cpu = sum(sum(w["cpu"].values()) for w in windows)
    for doc in stats:
        if doc.get("stderr", "").strip():
            result.errors.append(f"API process {doc['pid']} stderr: {doc['stderr'].strip()[-300:]}")


def run(
    payments: int,
    clients: int,
    *,
    deadline_s: float = 600.0,
    ddb_local: bool = True,
    workers: int = 2,
    warmup: int | None = None,
) -> LoadResult:
    """``warmup`` payments (default: one per client, at least 20) run first and are not timed: every
    API process imports its handlers (a cold start per function and process) and the JVM compiles."""
    front = Front(workers)
    main_clock = HandlerClock()
    warm = max(20, clients) if warmup is None else warmup
    with (
        quiet_stdout(),
        java_options(JAVA_OPTIONS),
        LocalStack(api_port=0, sim_port=0, time_scale=0.001, ddb_local=ddb_local, stream_poll_interval_s=0.25,
                   parameters={"PublicBaseUrl": front.url}) as stack,
        tempfile.TemporaryDirectory(prefix="qpay-load-") as tmp,
    ):  # fmt: skip
        try:
            pids = _wire(stack, front, main_clock)
            spec = {"api": front.url, "merchant_key": stack.keys.merchant_api_key, "payments": payments,
                    "clients": clients, "deadline_s": deadline_s}  # fmt: skip
            warmed: list[str] = []
            if warm:
                out = _generate(tmp, {**spec, "payments": warm, "deadline_s": 600, "prefix": "WARM"}, "warmup", 900)
                warmed = list(out["ids"])
                stack.drain(timeout=120)
            main_clock.reset()
            front.mark()
            result, ids = _measure(stack, pids, tmp, spec)
            result.workers = workers
            result.problems = check(stack, ids + warmed, result.started + len(warmed))
        finally:
            stats = front.stop()
    _attribute(result, stats, main_clock.as_dict())
    return result


def check(stack: LocalStack, ids: list[str], wanted: int) -> list[str]:
    """Every payment final (captured), nothing applied twice, nothing lost."""
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

"""Warm path per route: CPU time per invocation in this process, transports stubbed.

AWS calls are answered by a ``before-call`` hook on the product's own clients (the hook botocore's
Stubber uses: request built and serialised, never sent); Checkout.com through an httpx MockTransport in
the client the product's factory built. The floor replays the same AWS calls through a bare botocore
client with the same hook. Thread CPU time, so the stub's own work on other threads is not counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qpay_bench.scenarios import CHECKOUT_ROUTES, SCENARIOS, Scenario, base_env, world_for
from qpay_bench.stub_aws import StubAws
from qpay_bench.world import World

TARGET = 1.3


@dataclass
class WarmResult:
    route: str
    function: str
    median_us: float
    p99_us: float
    floor_median_us: float
    floor_p99_us: float
    round_trips: dict[str, int]
    wru: float = 0.0  # DynamoDB write request units per invocation (transactions count double)
    rru: float = 0.0
    log_bytes: float = 0.0  # bytes of JSON log lines one invocation writes

    @property
    def ratio(self) -> float:
        return self.median_us / self.floor_median_us

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET


def stub_client(client: Any, world: World, service: str) -> None:
    from botocore.awsrequest import AWSResponse  # noqa: PLC0415

    def answer(model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        body = json.loads(params.get("body") or b"{}")
        return AWSResponse(None, 200, {}, None), world.answer(service, model.name, body)

    client.meta.events.register("before-call.*.*", answer)


def _checkout_transport(seen: list[str]) -> Any:
    import httpx  # noqa: PLC0415

    from qpay_bench.child import _checkout_answer  # noqa: PLC0415

    def answer(request: Any) -> Any:
        seen.append(request.url.path)
        status, body = _checkout_answer(CHECKOUT_ROUTES, request.method, request.url.path)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(answer)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Send fd 1 (where Powertools writes its JSON lines) to /dev/null: formatting still costs."""
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def _log_lines(fn: Callable[[], Any]) -> list[dict[str, Any]]:
    """Run once, capturing the JSON log lines the handler writes (the floor writes the same ones)."""
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(1)
        os.dup2(tmp.fileno(), 1)
        try:
            fn()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        out = []
        for raw in tmp.read().decode(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
    return out


def _times(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.thread_time_ns()
        fn()
        out.append((time.thread_time_ns() - t) / 1000)
    return out


def _p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def measure(scenario: Scenario, handler_path: str, n: int) -> WarmResult:
    import importlib  # noqa: PLC0415

    import botocore.session  # noqa: PLC0415
    from botocore import xform_name  # noqa: PLC0415

    from qpay import deps  # noqa: PLC0415
    from qpay_bench.child import Context  # noqa: PLC0415

    world = world_for(scenario)
    with StubAws(world) as stub, _env(base_env(stub.url)):
        deps.reset()
        deps.keys()  # the secret is cached across warm invocations (fetched over the stub once)
        stub_client(deps.dynamodb(), world, "dynamodb")
        stub_client(deps.stepfunctions(), world, "stepfunctions")
        seen: list[str] = []
        deps.checkout()._pool = _checkout_transport(seen)  # the bench rework replaces this
        module = importlib.import_module(handler_path.rsplit(".", 1)[0])
        event, ctx = scenario.event(), Context()
        with _quiet():
            module.handler(event, ctx)  # warm up, and count one invocation's round trips
        world.counts.clear()
        seen.clear()
        lines = _log_lines(lambda: module.handler(event, ctx))
        trips = {**world.counts, "checkout": len(seen)}
        calls = [(s, op, p) for s, op, p in world.log if s != "secretsmanager"][-sum(world.counts.values()) :]
        wru, rru = capacity(calls)
        with _quiet():
            times = _times(lambda: module.handler(event, ctx), n)
        session = botocore.session.get_session()
        clients: dict[str, Any] = {}
        for service in {c[0] for c in calls}:
            clients[service] = session.create_client(service)
            stub_client(clients[service], world, service)
        body = event.get("body") if isinstance(event, dict) else None
        checkout_docs = [r[3] for r in CHECKOUT_ROUTES][: len(seen)]

        sink = open(os.devnull, "w")  # noqa: SIM115 - closed below

        def floor() -> None:
            doc = json.loads(body) if body else event
            for service, op, params in calls:
                getattr(clients[service], xform_name(op))(**params)
            for answer in checkout_docs:
                json.loads(json.dumps(answer))
            json.dumps({"ok": True, "n": len(str(doc))})
            for line in lines:  # the same structured log lines, written with the standard library
                sink.write(json.dumps(line) + "\n")

        floor_times = _times(floor, n)
        sink.close()
        deps.reset()
    return WarmResult(
        route=scenario.route,
        function=scenario.function,
        median_us=statistics.median(times),
        p99_us=_p99(times),
        floor_median_us=statistics.median(floor_times),
        floor_p99_us=_p99(floor_times),
        round_trips=trips,
        wru=wru,
        rru=rru,
        log_bytes=float(sum(len(json.dumps(line)) + 1 for line in lines)),
    )


def capacity(calls: list[tuple[str, str, dict[str, Any]]]) -> tuple[float, float]:
    """On-demand request units for items under 1 KB: a transaction costs two per item."""
    wru = rru = 0.0
    for service, op, params in calls:
        if service != "dynamodb":
            continue
        if op == "TransactWriteItems":
            wru += 2 * len(params.get("TransactItems", []))
        elif op in ("PutItem", "UpdateItem", "DeleteItem"):
            wru += 1
        elif op in ("GetItem", "Query"):
            rru += 1 if params.get("ConsistentRead") else 0.5
    return wru, rru


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_all(handlers: dict[str, str], n: int) -> list[WarmResult]:
    results = []
    for scenario in SCENARIOS:
        if scenario.function in handlers:
            result = measure(scenario, handlers[scenario.function], n)
            print(f"  warm {scenario.route}: {result.median_us:.0f} us vs floor {result.floor_median_us:.0f} us")
            results.append(result)
    return results

"""The product's real ``CheckoutClient`` talking to the simulator in process, through a pool double.

``CheckoutClient`` sends every request through ``self._pool.urlopen`` (urllib3). :class:`SimPool` takes
its place: it builds the WSGI environ, runs the simulator's own app (fault middleware included), and
maps a dropped connection to the urllib3 exception the real pool raises. Before each request it is a
yield point of the scheduler (another process may run while this one is "on the wire") and it draws the
request's fault from the seed: Checkout's published failure modes, each with the behaviour the simulator
already implements (``cko_sim.faults``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from werkzeug.test import EnvironBuilder

from cko_sim import SimulatedConnectionDrop, Simulator

#: fault kind -> relative weight, for writes (POST) and reads (GET). Sources: Checkout's idempotency page
#: (a request that could not be processed stores no result: accept-then-5xx), the 409 for a key in flight
#: and 429 rate limits (../shared/reviews/fidelity.md S4-S6), timeouts on either side of processing.
WRITE_FAULTS: dict[str | int, int] = {
    500: 2, 502: 1, 503: 2, 429: 2, 409: 1, "timeout": 2, "accept_then_timeout": 2,
    "accept_then_500": 2, "accept_then_503": 2,
}  # fmt: skip
READ_FAULTS: dict[str | int, int] = {500: 2, 502: 1, 503: 2, 429: 2, "timeout": 2}
#: a refund POST Checkout processed and then answered 500/503 or never answered: no result is kept for the
#: key, so the same key again is a second refund (Checkout's idempotency page; the refund endpoint
#: publishes 502: ../shared/reviews/fidelity.md S4, S14, F-2)
REFUND_ACCEPT_FAULTS = ("accept_then_500", "accept_then_503", "accept_then_timeout")
#: how long a Checkout.com call takes, in whole seconds -> weight. Not published; a spread from "at once"
#: to most of the client's 12 s deadline, so that other processes run while a call is on the wire.
LATENCY_S: dict[int, int] = {0: 45, 1: 30, 2: 8, 3: 6, 4: 5, 6: 3, 9: 2, 12: 1}


@dataclass
class Response:
    status: int
    data: bytes
    headers: dict[str, str]


@dataclass
class FaultPlan:
    """How often each kind of call fails (0..1), and how the Beta list endpoint answers this account."""

    write_rate: float = 0.0
    read_rate: float = 0.0
    list_refusal: int | None = None  # 401/403/404 for every GET /payments?reference= (F-7), or None
    #: a refund POST processed, then answered 5xx or dropped (on top of write_rate): fidelity F-2's setting
    refund_accept_rate: float = 0.0

    @classmethod
    def draw(cls, seed: int) -> FaultPlan:
        rng = random.Random(f"{seed}/faults")
        return cls(
            write_rate=rng.choice([0.0, 0.02, 0.05, 0.1]),
            read_rate=rng.choice([0.0, 0.02, 0.05]),
            list_refusal=rng.choice([None, None, None, None, 401, 403, 404]),
            refund_accept_rate=random.Random(f"{seed}/refund-faults").choice([0.0, 0.1, 0.3, 0.5]),
        )


@dataclass
class SimPool:
    sim: Simulator
    rng: random.Random
    plan: FaultPlan
    point: Callable[[str, int], None]
    #: draws the refund-accept faults and the latencies (apart from ``rng``: adding them moved no other draw)
    extra_rng: random.Random = field(default_factory=lambda: random.Random(0))
    on_request: Callable[[str, str, int | str], None] = lambda method, url, result: None
    log: list[tuple[str, str, int | str, str | None]] = field(default_factory=list)

    def urlopen(self, method: str, url: str, body: bytes | None = None, headers: Any = None, **_: Any) -> Response:
        latency = self.extra_rng.choices(list(LATENCY_S), weights=list(LATENCY_S.values()))[0]
        self.point(f"checkout {method} {url.split('?', maxsplit=1)[0]}", latency)
        path, _sep, query = url.partition("?")
        fault = self._draw(method, path)
        if fault is not None:
            self.sim.faults.fail_next(1, fault, path_prefix=path, method=method)  # type: ignore[arg-type]
        environ = EnvironBuilder(
            method=method, path=path, query_string=query, data=body, headers=dict(headers or {})
        ).get_environ()
        captured: dict[str, Any] = {}

        def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = {k.lower(): v for k, v in hdrs}
            return lambda _data: None

        try:
            chunks = self.sim.wsgi_app(environ, start_response)
            data = b"".join(chunks)
        except SimulatedConnectionDrop:
            kind = str(fault)
            self._record(method, url, kind, fault)
            if "timeout" in kind:
                raise urllib3.exceptions.ReadTimeoutError(None, url, "simulated read timeout") from None  # type: ignore[arg-type]
            raise urllib3.exceptions.ProtocolError("simulated connection drop") from None
        status = int(captured["status"])
        self._record(method, url, status, fault)
        return Response(status, data, captured["headers"])

    def _draw(self, method: str, path: str) -> str | int | None:
        if method == "GET" and path == "/payments" and self.plan.list_refusal is not None:
            return self.plan.list_refusal
        rate, table = (self.plan.write_rate, WRITE_FAULTS) if method == "POST" else (self.plan.read_rate, READ_FAULTS)
        if rate > 0 and self.rng.random() < rate:
            kinds = list(table)
            return self.rng.choices(kinds, weights=[table[k] for k in kinds])[0]
        if method == "POST" and path.endswith("/refunds") and self.extra_rng.random() < self.plan.refund_accept_rate:
            return self.extra_rng.choice(REFUND_ACCEPT_FAULTS)
        return None

    def _record(self, method: str, url: str, result: int | str, fault: str | int | None) -> None:
        self.log.append((method, url, result, None if fault is None else str(fault)))
        self.on_request(method, url, result if fault is None else f"{result} [{fault}]")

    def close(self) -> None:
        return None

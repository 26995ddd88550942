"""Cold start and warm path per function: the handler, the honest floor, the physical floor and (where
there is one) the peer, in fresh interpreters on the packaged artefacts, against the loopback stub.

Per scenario:
1. calibration — the handler's first event in a fresh process (its requests and log lines recorded),
   then one marked warm invocation (its requests and log lines recorded); the same for the peer;
2. cold starts — ``runs`` rounds of handler, floor, physical floor, peer, interleaved;
3. ``-X importtime`` — once for the handler and once for the peer;
4. warm — ``rounds`` rounds of two processes: one with handler, floor and physical floor interleaved
   in blocks, one with the peer (Powertools' Tracer patches botocore, httpx and http.client: it must
   not share a process with the others).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpay_bench.scenarios import SECRET, Scenario, world_for
from qpay_bench.stats import ImportCost, Stats, block_medians, flatten, heaviest_imports, paired_ratios
from qpay_bench.stub import Stub
from qpay_bench.tls import TestPki
from qpay_bench.world import Call

CHILD = Path(__file__).with_name("child.py")
COLD_TARGETS = {"WebhookFunction": 1.1}
COLD_TARGET = 1.2  # issue 21: every cold ratio ≤ 1.2
WARM_TARGET = 1.2
PEER_FACTOR = 2.0  # the peer must take at least this many times our time, cold and warm
ROLES = ("handler", "floor", "physical", "peer")


@dataclass
class Setup:
    """Everything a scenario's processes need, shared by all scenarios of a run."""

    build_dir: Path
    peer_dir: Path
    pki: TestPki
    env_for: Callable[[str, str, bool], dict[str, str]]  # (function, stub url, trace sampled) -> env
    timeouts: dict[str, int]  # function -> its timeout in template.yaml (ms): the context's remaining time
    botocore_config: dict[str, Any]
    runs: int
    warm_n: int
    rounds: int
    progress: Callable[[str], None]
    problems: list[str] = field(default_factory=list)
    _stray: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def stray(self, function: str, role: str, stderr: str) -> None:
        """Output a measured process wrote to stderr (a warning Lambda would log too): counted once per
        kind, reported at the end."""
        lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
        first = next((line for line in lines if "Warning" in line or "Error" in line), lines[0] if lines else "")
        key = (function, role, first[-200:])
        self._stray[key] = self._stray.get(key, 0) + 1
        self.problems = [f"{fn} ({r}, {n}x): {text}" for (fn, r, text), n in self._stray.items()]


@dataclass
class Calibration:
    calls: list[Call]
    lines: list[dict[str, Any]]
    response: Any
    world_at: int = 0  # World.at of the world the calls were made against


@dataclass
class Result:
    scenario: Scenario
    handler: str
    ok_response: bool
    cold: dict[str, Stats]  # role -> wall ms
    cold_cpu_ms: float
    import_ms: float
    cold_ratio: Stats  # handler / floor, paired
    cold_physical_ratio: Stats  # handler / physical floor
    cold_peer_factor: Stats | None  # peer / handler
    warm: dict[str, Stats]  # role -> process CPU µs
    warm_ratio: Stats
    warm_physical_ratio: Stats
    warm_peer_factor: Stats | None
    heaviest: list[ImportCost]
    peer_heaviest: list[ImportCost]
    cold_calls: list[Call]
    warm_calls: list[Call]
    peer_cold_calls: list[Call]
    peer_warm_calls: list[Call]
    warm_log_bytes: float
    cold_log_lines: int
    warm_log_lines: int
    world_at: int = 0  # World.at of the world warm_calls were made against

    @property
    def cold_target(self) -> float:
        return COLD_TARGETS.get(self.scenario.function, COLD_TARGET)

    def checks(self) -> list[tuple[str, bool]]:
        """(target, met) for this path."""
        name = self.scenario.function.removesuffix("Function")
        out = [
            (f"{name} response as expected", self.ok_response),
            (f"{name} cold ≤ {self.cold_target}x floor", self.cold_ratio.median <= self.cold_target),
            (f"{name} warm ≤ {WARM_TARGET}x floor", self.warm_ratio.median <= WARM_TARGET),
        ]
        if self.cold_peer_factor is not None:
            out.append((f"{name} cold ≥ {PEER_FACTOR}x better than peer", self.cold_peer_factor.median >= PEER_FACTOR))
        if self.warm_peer_factor is not None:
            out.append((f"{name} warm ≥ {PEER_FACTOR}x better than peer", self.warm_peer_factor.median >= PEER_FACTOR))
        return out


def trips(calls: list[Call]) -> dict[str, int]:
    """Round trips by kind: ``dynamodb.UpdateItem``, ``checkout``, ``secretsmanager.GetSecretValue`` …"""
    counts: Counter[str] = Counter(
        "checkout" if c.service == "checkout" else f"{c.service}.{c.operation}" for c in calls
    )
    return dict(sorted(counts.items()))


class _Runner:
    def __init__(self, setup: Setup, scenario: Scenario, handler: str, stub: Stub) -> None:
        self.setup = setup
        self.scenario = scenario
        self.handler = handler
        self.stub = stub
        self.event = json.dumps(scenario.event())

    def env(self, role: str, sampled: bool) -> dict[str, str]:
        env = self.setup.env_for(self.scenario.function, self.stub.url, sampled)
        path = self.setup.peer_dir if role == "peer" else self.setup.build_dir
        env.update({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(path), "PYTHONHASHSEED": "0"})
        if role == "peer":
            env["IDEMPOTENCY_TABLE"] = "qpay-bench-idempotency"
        return env

    def spec(self, kind: str, role: str, floor: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        handlers = {"handler": self.handler, "peer": f"{self.scenario.peer}.handler"}
        timeout_ms = self.setup.timeouts.get(self.scenario.function, 10_000)
        return {"kind": kind, "role": role, "event": self.event, "handlers": handlers, "floor": floor,
                "timeout_ms": timeout_ms, **extra}  # fmt: skip

    def run(
        self, spec: dict[str, Any], *, sampled: bool, capture: bool = False, importtime: bool = False
    ) -> tuple[dict[str, Any], str, str]:
        """One child process: (result, stdout if captured, stderr)."""
        self.setup.progress(f"{spec['kind']} {spec['role']}")
        with tempfile.TemporaryDirectory() as tmp:
            spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
            spec_path.write_text(json.dumps(spec))
            flags = ["-X", "importtime"] if importtime else []
            proc = subprocess.run(
                [sys.executable, "-S", "-P", *flags, str(CHILD), str(spec_path), str(out_path)],
                env=self.env(spec["role"], sampled), stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True, check=False, timeout=300,
            )  # fmt: skip
            if proc.returncode != 0 or not out_path.exists():
                raise RuntimeError(
                    f"bench child failed ({spec['kind']} {spec['role']} {self.scenario.function}): {proc.stderr[-3000:]}"
                )
            if proc.stderr and not importtime:
                self.setup.stray(self.scenario.function, spec["role"], proc.stderr)
            return json.loads(out_path.read_text()), proc.stdout or "", proc.stderr

    def calibrate_cold(self, role: str) -> Calibration:
        mark = self.stub.world.mark()
        result, stdout, _ = self.run(self.spec("cold", role), sampled=True, capture=True)
        return Calibration(
            self.stub.world.calls_since(mark), _json_lines(stdout.splitlines()), result["response"], self.stub.world.at
        )

    def calibrate_warm(self, role: str) -> Calibration:
        result, _, _ = self.run(self.spec("calibrate", role, warmup=3), sampled=role != "peer")
        calls = self.stub.world.between(f"{role}-start", f"{role}-end")
        return Calibration(calls, _json_lines(result["log_lines"]), result["response"], self.stub.world.at)

    def floor_spec(self, calibration: Calibration) -> dict[str, Any]:
        calls = [[c.service, c.operation, c.params, c.headers] for c in calibration.calls]
        return {
            "calls": calls,
            "log_lines": calibration.lines,
            "response": calibration.response,
            "signing_keys": SECRET["webhook_signing_keys"],
            "botocore_config": self.setup.botocore_config,
        }


def _json_lines(lines: list[str]) -> list[dict[str, Any]]:
    out = []
    for raw in lines:
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def _response_ok(scenario: Scenario, response: Any) -> bool:
    if scenario.expect is not None:
        return isinstance(response, dict) and response.get("statusCode") == scenario.expect
    if isinstance(response, dict) and response.get("batchItemFailures"):
        return False
    return response is not None


def measure(setup: Setup, scenario: Scenario, handler: str) -> Result:
    world = world_for(scenario)
    with Stub(world, setup.pki) as stub:
        r = _Runner(setup, scenario, handler, stub)
        peer = scenario.peer is not None
        cold_cal = r.calibrate_cold("handler")
        peer_cold = r.calibrate_cold("peer") if peer else None
        cold_floor = r.floor_spec(cold_cal)
        roles = [role for role in ROLES if role != "peer" or peer]
        cold: dict[str, list[dict[str, Any]]] = {role: [] for role in roles}
        for _ in range(setup.runs):
            for role in roles:
                spec = r.spec("cold", role, cold_floor if role in ("floor", "physical") else None)
                cold[role].append(r.run(spec, sampled=True)[0])
        _, _, stderr = r.run(r.spec("cold", "handler"), sampled=True, importtime=True)
        heaviest = heaviest_imports(stderr)
        peer_heaviest = (
            heaviest_imports(r.run(r.spec("cold", "peer"), sampled=True, importtime=True)[2]) if peer else []
        )
        warm_cal = r.calibrate_warm("handler")
        peer_warm = r.calibrate_warm("peer") if peer else None
        warm_floor = r.floor_spec(warm_cal)
        per_round = max(10, setup.warm_n // setup.rounds)
        warm: dict[str, list[list[float]]] = {role: [] for role in roles}
        for _ in range(setup.rounds):
            own = r.spec("warm", "handler", warm_floor, roles=["handler", "floor", "physical"], n=per_round)
            for role, blocks in r.run(own, sampled=False)[0]["samples_us"].items():
                warm[role] += blocks
            if peer:
                for role, blocks in r.run(r.spec("warm", "peer", roles=["peer"], n=per_round), sampled=False)[0][
                    "samples_us"
                ].items():
                    warm[role] += blocks
    wall = {role: [1000 * x["total_s"] for x in runs] for role, runs in cold.items()}
    medians = {role: block_medians(blocks) for role, blocks in warm.items()}
    return Result(
        scenario=scenario,
        handler=handler,
        ok_response=_response_ok(scenario, cold_cal.response) and _response_ok(scenario, warm_cal.response),
        cold={role: Stats.of(v) for role, v in wall.items()},
        cold_cpu_ms=Stats.of([1000 * x["cpu_s"] for x in cold["handler"]]).median,
        import_ms=Stats.of([1000 * x["import_s"] for x in cold["handler"]]).median,
        cold_ratio=paired_ratios(wall["handler"], wall["floor"]),
        cold_physical_ratio=paired_ratios(wall["handler"], wall["physical"]),
        cold_peer_factor=paired_ratios(wall["peer"], wall["handler"]) if peer else None,
        warm={role: Stats.of(flatten(blocks)) for role, blocks in warm.items()},
        warm_ratio=paired_ratios(medians["handler"], medians["floor"]),
        warm_physical_ratio=paired_ratios(medians["handler"], medians["physical"]),
        warm_peer_factor=paired_ratios(medians["peer"], medians["handler"]) if peer else None,
        heaviest=heaviest,
        peer_heaviest=peer_heaviest,
        cold_calls=cold_cal.calls,
        warm_calls=warm_cal.calls,
        peer_cold_calls=peer_cold.calls if peer_cold else [],
        peer_warm_calls=peer_warm.calls if peer_warm else [],
        warm_log_bytes=float(sum(len(json.dumps(line)) + 1 for line in warm_cal.lines)),
        cold_log_lines=len(cold_cal.lines),
        warm_log_lines=len(warm_cal.lines),
        world_at=warm_cal.world_at,
    )


def calibrate_only(setup: Setup, scenario: Scenario, handler: str) -> Calibration:
    """One cold run of a scenario the cost model needs but the tables do not time."""
    with Stub(world_for(scenario), setup.pki) as stub:
        return _Runner(setup, scenario, handler, stub).calibrate_cold("handler")


def child_count(scenarios: list[Scenario], runs: int, rounds: int) -> int:
    """How many processes a run starts (for the progress count)."""
    total = 0
    for s in scenarios:
        peer = s.peer is not None
        total += 1 + runs * 3 + 1 + 1 + rounds  # calibrations, cold runs, importtime, warm
        if peer:
            total += 1 + runs + 1 + 1 + rounds
    return total

"""Cold start per function: fresh interpreters on the packaged artefact, handler against its floor.

Each run is ``python -S -P child.py`` with only the artefact on the path (no venv site-packages), the
function's environment, AWS pointed at a loopback stub. Handler and floor runs alternate so drift in
the machine's speed hits both. The floor replays the AWS calls the handler made (recorded by the stub on
a calibration run) with a bare botocore client and the standard library.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpay_bench.scenarios import CHECKOUT_ROUTES, SCENARIOS, Scenario, base_env, world_for
from qpay_bench.stub_aws import StubAws
from qpay_bench.world import World

CHILD = Path(__file__).with_name("child.py")
TARGETS = {"WebhookFunction": 1.5}
DEFAULT_TARGET = 1.8


@dataclass
class ColdResult:
    function: str
    handler: str
    runs: int
    median_ms: float
    floor_ms: float
    import_ms: float
    cpu_ms: float
    target: float
    ok_response: bool
    heaviest: list[tuple[str, float]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.median_ms / self.floor_ms

    @property
    def met(self) -> bool:
        return self.ok_response and self.ratio <= self.target


def _run(spec: dict[str, Any], env: dict[str, str], *, importtime: bool = False) -> tuple[dict[str, Any], str]:
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(spec))
        flags = ["-X", "importtime"] if importtime else []
        proc = subprocess.run(
            [sys.executable, "-S", "-P", *flags, str(CHILD), str(spec_path), str(out_path)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=60,
        )  # fmt: skip
        if proc.returncode != 0 or not out_path.exists():
            raise RuntimeError(f"cold-start child failed ({spec['mode']} {spec.get('module')}): {proc.stderr[-2000:]}")
        return json.loads(out_path.read_text()), proc.stderr


def heaviest_imports(stderr: str, top: int = 6) -> list[tuple[str, float]]:
    """``-X importtime`` self times summed per top-level package, heaviest first (ms)."""
    per: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        per[name.split(".")[0]] += int(self_us) / 1000
    return sorted(per.items(), key=lambda kv: -kv[1])[:top]


def _response_ok(scenario: Scenario, response: Any) -> bool:
    if scenario.expect is not None:
        return isinstance(response, dict) and response.get("statusCode") == scenario.expect
    return not (isinstance(response, dict) and response.get("batchItemFailures"))


def measure(scenario: Scenario, handler: str, build_dir: Path, runs: int) -> tuple[ColdResult, World]:
    world = world_for(scenario)
    with StubAws(world) as stub:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(build_dir), "PYTHONHASHSEED": "0",
               **base_env(stub.url)}  # fmt: skip
        module = handler.rsplit(".", 1)[0]
        spec = {"mode": "handler", "module": module, "event": scenario.event(),
                "checkout": CHECKOUT_ROUTES if scenario.checkout else None}  # fmt: skip
        first, _ = _run(spec, env)  # calibration: records the AWS calls the floor replays
        calls: list[Any] = [list(c) for c in world.log]
        calls += [["checkout", path, {"path": path}] for path in first["checkout"]]
        floor_spec = {"mode": "floor", "event": scenario.event(), "calls": calls,
                      "signature": scenario.function == "WebhookFunction"}  # fmt: skip
        handler_runs, floor_runs = [], []
        for _ in range(runs):
            handler_runs.append(_run(spec, env)[0])
            floor_runs.append(_run(floor_spec, env)[0])
        _, stderr = _run(spec, env, importtime=True)
        counts = world.counts
    result = ColdResult(
        function=scenario.function,
        handler=handler,
        runs=runs,
        median_ms=1000 * statistics.median(r["total_s"] for r in handler_runs),
        floor_ms=1000 * statistics.median(r["total_s"] for r in floor_runs),
        import_ms=1000 * statistics.median(r["import_s"] for r in handler_runs),
        cpu_ms=1000 * statistics.median(r["cpu_s"] for r in handler_runs),
        target=TARGETS.get(scenario.function, DEFAULT_TARGET),
        ok_response=_response_ok(scenario, first["response"]),
        heaviest=heaviest_imports(stderr),
    )
    world.counts = counts
    return result, world


def handlers_from_template() -> dict[str, str]:
    from qpay_local.template import Template  # noqa: PLC0415

    root = Path(__file__).resolve().parents[2]
    return {name: f.handler for name, f in Template(root / "template.yaml").functions().items()}


def run_all(build_dir: Path, runs: int, only: set[str] | None = None) -> list[ColdResult]:
    handlers = handlers_from_template()
    missing = set(handlers) - {s.function for s in SCENARIOS}
    if missing:
        print(f"  cold: no scenario yet for {sorted(missing)} (add one to qpay_bench.scenarios)", flush=True)
    results = []
    for scenario in SCENARIOS:
        if (only and scenario.function not in only) or scenario.function not in handlers:
            continue
        result, _ = measure(scenario, handlers[scenario.function], build_dir, runs)
        print(f"  cold {scenario.function}: {result.median_ms:.0f} ms vs floor {result.floor_ms:.0f} ms", flush=True)
        results.append(result)
    return results

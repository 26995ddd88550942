"""Each run's ratios appended to ``bench-results/history.jsonl``; the last few printed side by side."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from qpay_bench.measure import Result

ROOT = Path(__file__).resolve().parents[2]


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "functions"], capture_output=True, text=True,
                               check=True, cwd=ROOT).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + ("+" if dirty else "")


def entry(results: list[Result], cost_total: float | None) -> dict[str, Any]:
    def factor(r: Result, kind: str) -> float | None:
        s = r.cold_peer_factor if kind == "cold" else r.warm_peer_factor
        return None if s is None else round(s.median, 3)

    return {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _commit(),
        "cold": {r.scenario.function: round(r.cold_ratio.median, 3) for r in results},
        "warm": {r.scenario.function: round(r.warm_ratio.median, 3) for r in results},
        "peer_cold": {r.scenario.function: factor(r, "cold") for r in results if r.scenario.peer},
        "peer_warm": {r.scenario.function: factor(r, "warm") for r in results if r.scenario.peer},
        "cost_per_1000": None if cost_total is None else round(cost_total, 5),
    }


def append(path: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Append ``doc``; return every run in the file (oldest first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(doc) + "\n")
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except ValueError:
            continue
    return runs


def side_by_side(runs: list[dict[str, Any]], last: int = 5) -> list[str]:
    shown = runs[-last:]
    head = f"{'':26}" + "".join(f"{r['at'][5:16].replace('T', ' '):>15}" for r in shown)
    commits = f"{'':26}" + "".join(f"{r['commit']:>15}" for r in shown)
    lines = [f"HISTORY (cold/warm ratio to the floor; peer/ours; last {len(shown)} runs, newest right)", head, commits]
    functions: list[str] = []
    for r in shown:
        functions += [f for f in r.get("cold", {}) if f not in functions]
    for fn in functions:
        cells = []
        for r in shown:
            c, w = r.get("cold", {}).get(fn), r.get("warm", {}).get(fn)
            cells.append("-" if c is None else f"{c:.2f}/{w:.2f}")
        lines.append(f"  {fn.removesuffix('Function'):24}" + "".join(f"{c:>15}" for c in cells))
        if any(fn in r.get("peer_cold", {}) for r in shown):
            cells = []
            for r in shown:
                c, w = r.get("peer_cold", {}).get(fn), r.get("peer_warm", {}).get(fn)
                cells.append("-" if c is None or w is None else f"{c:.2f}/{w:.2f}")
            lines.append(f"  {'  peer/ours':24}" + "".join(f"{c:>15}" for c in cells))
    cost = ["-" if r.get("cost_per_1000") is None else f"${r['cost_per_1000']:.4f}" for r in shown]
    lines.append(f"  {'cost per 1,000 payments':24}" + "".join(f"{c:>15}" for c in cost))
    return lines

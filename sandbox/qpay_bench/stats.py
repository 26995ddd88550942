"""Medians with their spread, paired ratios, and ``-X importtime`` reading."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    """Median and interquartile range of a sample."""

    median: float
    p25: float
    p75: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        if not values:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        if len(values) < 4:
            m = statistics.median(values)
            return cls(m, min(values), max(values), len(values))
        q = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), q[0], q[2], len(values))

    def show(self, digits: int = 0) -> str:
        return f"{self.median:.{digits}f} [{self.p25:.{digits}f}-{self.p75:.{digits}f}]"


def paired_ratios(numerator: list[float], denominator: list[float]) -> Stats:
    """Ratios of interleaved runs taken pairwise (run i of one against run i of the other), so a
    slow spell of the machine hits both sides of each ratio."""
    pairs = [a / b for a, b in zip(numerator, denominator, strict=False) if b > 0]
    return Stats.of(pairs)


def block_medians(blocks: list[list[float]]) -> list[float]:
    return [statistics.median(b) for b in blocks if b]


def flatten(blocks: list[list[float]]) -> list[float]:
    return [v for b in blocks for v in b]


@dataclass(frozen=True)
class ImportCost:
    name: str
    ms: float


def heaviest_imports(stderr: str, top: int = 5, own: tuple[str, ...] = ("qpay", "peer")) -> list[ImportCost]:
    """``-X importtime``: cumulative milliseconds per top-level package, counted where the package is
    entered from another one (so boto3's figure includes the botocore it imports); our own packages
    (``own``) count their *self* time only, since everything nests under the handler module."""
    entries: list[tuple[int, str, int, int]] = []  # depth, name, self µs, cumulative µs
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_text, cumulative_text, raw = line.removeprefix("import time:").split("|")
        depth = (len(raw) - len(raw.lstrip(" ")) - 1) // 2
        entries.append((depth, raw.strip(), int(self_text), int(cumulative_text)))
    per: dict[str, float] = defaultdict(float)
    stack: list[str] = []  # package of the open entry at each depth (pre-order walk)
    for depth, name, self_us, cumulative_us in reversed(entries):  # importtime prints children first
        package = name.split(".")[0]
        del stack[depth:]
        parent = stack[-1] if stack else None
        if package in own:
            per[f"{package} (own code)"] += self_us / 1000
        elif package != parent:
            per[package] += cumulative_us / 1000
        stack.append(package)
    return [ImportCost(k, v) for k, v in sorted(per.items(), key=lambda kv: -kv[1])[:top]]

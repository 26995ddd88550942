"""The trace of one seed and the shortest story it can tell about a violation: only the steps that
touched the payment that broke (its id, its order reference, its Checkout ids, its refunds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Entry:
    n: int
    at: int
    process: str
    what: str
    subjects: frozenset[str]


@dataclass
class Trace:
    start: int
    entries: list[Entry] = field(default_factory=list)

    def add(self, at: int, process: str, what: str, subjects: set[str] | tuple[str, ...]) -> None:
        self.entries.append(Entry(len(self.entries), at, process, what, frozenset(subjects)))

    def about(self, identities: set[str]) -> list[Entry]:
        return [e for e in self.entries if e.subjects & identities or any(i in e.what for i in identities)]

    def render(self, entries: list[Entry]) -> str:
        lines = []
        for e in entries:
            offset = e.at - self.start
            stamp = f"d{offset // 86400:02d} {datetime.fromtimestamp(e.at, UTC):%H:%M:%S}"
            lines.append(f"  #{e.n:<6} {stamp}  {e.process}: {e.what}")
        return "\n".join(lines)

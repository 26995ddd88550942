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

    def digest(self) -> str:
        """Every step, its time, process and outcome, hashed: two runs of a seed give the same digest."""
        import hashlib  # noqa: PLC0415

        text = "\n".join(f"{e.at} {e.process} {e.what}" for e in self.entries)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def about(self, identities: set[str]) -> list[Entry]:
        """The entries about these identities that say something: no process start/finish lines (their
        calls and answers are entries of their own) except the start of what a person or Checkout did."""
        out = []
        for e in self.entries:
            if not (e.subjects & identities or any(i in e.what for i in identities)):
                continue
            kind = e.process.split(" ", 1)[0]
            if e.what == "done" or kind == "stream" or e.what.endswith(": done") or e.what.endswith("task ok"):
                continue
            if e.what == "start" and kind not in (
                "create",
                "shopper",
                "webhook",
                "refund",
                "dashboard",
                "return",
                "ttl",
            ):
                continue
            out.append(e)
        return out

    @staticmethod
    def squeeze(entries: list[Entry], keep_last: int = 40) -> list[Entry | str]:
        """Runs of the same kind of line (a sweep polling every 15 min, a reconcile retrying) become their
        first and last line and a count; then the last ``keep_last`` lines and the first ones that lead."""
        out: list[Entry | str] = []
        run: list[Entry] = []

        def shape(e: Entry) -> tuple[str, str]:
            return (e.process.split(" ", 1)[0], "".join(ch for ch in e.what if not ch.isdigit())[:60])

        def flush() -> None:
            if len(run) > 3:
                out.extend([run[0], f"  … {len(run) - 2} more like it …", run[-1]])
            else:
                out.extend(run)
            run.clear()

        for e in entries:
            if run and shape(run[-1]) != shape(e):
                flush()
            run.append(e)
        flush()
        if len(out) > keep_last + 20:
            out = [*out[:20], f"  … {len(out) - keep_last - 20} lines …", *out[-keep_last:]]
        return out

    def render(self, entries: list[Entry] | list[Entry | str]) -> str:
        lines = []
        for e in entries:
            if isinstance(e, str):
                lines.append(e)
                continue
            offset = e.at - self.start
            stamp = f"d{offset // 86400:02d} {datetime.fromtimestamp(e.at, UTC):%H:%M:%S}"
            lines.append(f"  #{e.n:<6} {stamp}  {e.process}: {e.what}")
        return "\n".join(lines)

"""The simulator clock: wall time plus a manual offset that tests can advance."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    """A thread-safe clock. ``now()`` is the wall clock (or a fixed start) plus ``advance()`` offsets.

    ``Clock()`` follows real time; ``Clock(start=datetime(...), frozen=True)`` stands still until
    ``advance()`` or ``set()`` is called. Listeners are told whenever the clock jumps.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        self._offset = timedelta(0)
        self._fixed = start.astimezone(UTC) if start is not None else datetime.now(UTC)
        if start is not None and not frozen:
            self._offset = self._fixed - datetime.now(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        with self._lock:
            if self._frozen:
                return self._fixed + self._offset
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (simulated seconds) and wake any waiters."""
        if seconds < 0:
            raise ValueError("the simulator clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        self._notify()
        return self.now()

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (must not be in the clock's past)."""
        delta = (when.astimezone(UTC) - self.now()).total_seconds()
        self.advance(max(delta, 0.0))

    def add_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


def iso(when: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix, as Checkout prints timestamps."""
    text = when.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")

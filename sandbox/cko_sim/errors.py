"""The one exception the simulator raises for a request it refuses."""

from __future__ import annotations


class SimulatorError(Exception):
    """A request the simulator refuses; ``status`` and ``codes`` mirror Checkout's answer."""

    def __init__(self, status: int, codes: list[str] | None = None, message: str = "") -> None:
        super().__init__(message or f"{status} {codes or ''}".strip())
        self.status = status
        self.codes = codes or []

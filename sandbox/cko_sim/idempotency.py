"""``Cko-Idempotency-Key`` handling: replay 2xx responses, refuse keys still in flight."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


@dataclass(frozen=True)
class CachedResponse:
    status: int
    body: bytes
    content_type: str
    stored_at: datetime


class Outcome(Enum):
    NEW = "new"
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"


@dataclass
class _Entry:
    in_flight: bool
    response: CachedResponse | None


class IdempotencyStore:
    """Keys are scoped by request path; only 2xx responses are kept, for ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = timedelta(seconds=ttl_seconds)
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def begin(self, key: str, path: str, now: datetime) -> tuple[Outcome, CachedResponse | None]:
        scope = (key, path)
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None and entry.response is not None and now - entry.response.stored_at >= self._ttl:
                del self._entries[scope]
                entry = None
            if entry is None:
                self._entries[scope] = _Entry(in_flight=True, response=None)
                return Outcome.NEW, None
            if entry.in_flight:
                return Outcome.IN_FLIGHT, None
            return Outcome.REPLAY, entry.response

    def finish(self, key: str, path: str, status: int, body: bytes, content_type: str, now: datetime) -> None:
        scope = (key, path)
        with self._lock:
            if 200 <= status < 300:
                self._entries[scope] = _Entry(False, CachedResponse(status, body, content_type, now))
            else:
                self._entries.pop(scope, None)

    def abandon(self, key: str, path: str) -> None:
        with self._lock:
            entry = self._entries.get((key, path))
            if entry is not None and entry.in_flight:
                del self._entries[(key, path)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

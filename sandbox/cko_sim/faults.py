"""API faults on demand, applied by a WSGI middleware in front of the Flask app."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: ``timeout``: hold the connection, then close it without an answer (request not processed).
#: ``close``: accept, then close at once (not processed).
#: ``accept_then_timeout`` / ``accept_then_close``: process the request (state changes and the
#: idempotency key is stored), then hold/close instead of answering.
#: ``accept_then_500`` / ``accept_then_503``: process the request (state changes), then answer 500/503;
#: as Checkout documents, nothing is cached for the idempotency key, so a retry with the same
#: ``Cko-Idempotency-Key`` is processed again (a second payment).
#: ``slow``: process normally after a delay (the request stays "in flight" meanwhile).
FaultKind = (
    int
    | Literal[
        "timeout", "close", "accept_then_timeout", "accept_then_close", "accept_then_500", "accept_then_503", "slow"
    ]
)
_TEXT_KINDS = (
    "timeout",
    "close",
    "accept_then_timeout",
    "accept_then_close",
    "accept_then_500",
    "accept_then_503",
    "slow",
)
_ACCEPT_THEN_STATUS = {"accept_then_500": 500, "accept_then_503": 503}
API_PREFIX = "/payments"
SLOW_ENVIRON_KEY = "cko_sim.slow_seconds"
#: Set by the middleware when the answer will not be the processed one: the API must not cache it.
NO_IDEMPOTENCY_CACHE_KEY = "cko_sim.no_idempotency_cache"


class SimulatedConnectionDrop(ConnectionError):
    """Raised to the WSGI caller when a fault drops the connection and there is no real socket."""


class RequestRecord(NamedTuple):
    """One API request the simulator received. ``status`` is ``None`` if nothing was processed."""

    method: str
    path: str
    idempotency_key: str | None
    status: int | None
    fault: str | None


@dataclass
class FaultRule:
    kind: FaultKind
    remaining: int
    path_prefix: str | None = None
    method: str | None = None
    seconds: float | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_prefix is None:
            return True
        if any(ch in self.path_prefix for ch in "*?["):
            return fnmatch.fnmatchcase(path, self.path_prefix) or fnmatch.fnmatchcase(path, self.path_prefix + "*")
        return path.startswith(self.path_prefix)


class Faults:
    """Programmable failures. All methods are thread-safe."""

    def __init__(self, timeout_hold_seconds: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        #: Refunds requested while this is true are accepted (202) and then declined.
        self.decline_refunds = False
        #: How long ``timeout`` faults hold the connection (real seconds).
        self.timeout_hold_seconds = timeout_hold_seconds

    def fail_next(
        self,
        n: int = 1,
        status: FaultKind = 503,
        path_prefix: str | None = None,
        *,
        method: str | None = None,
        seconds: float | None = None,
    ) -> None:
        """Make the next ``n`` matching API calls fail.

        ``status``: an HTTP status (500, 502, 503, 429, ...) or one of ``"timeout"``, ``"close"``,
        ``"accept_then_timeout"``, ``"accept_then_close"``, ``"accept_then_500"``, ``"accept_then_503"``,
        ``"slow"``. ``path_prefix`` limits the
        fault to paths starting with it (or matching it as a glob, e.g. ``/payments/*/refunds``).
        ``seconds`` overrides the hold time of timeouts or the delay of ``slow``.
        """
        if isinstance(status, str) and status not in _TEXT_KINDS:
            raise ValueError(f"unknown fault kind {status!r}")
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.append(FaultRule(status, n, path_prefix, method, seconds))

    def slow_next(self, n: int, seconds: float, path_prefix: str | None = None) -> None:
        """Process the next ``n`` matching calls only after ``seconds`` (keeps them in flight)."""
        self.fail_next(n, "slow", path_prefix, seconds=seconds)

    def take(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return FaultRule(rule.kind, 1, rule.path_prefix, rule.method, rule.seconds)
        return None

    @property
    def pending(self) -> list[FaultRule]:
        with self._lock:
            return [FaultRule(r.kind, r.remaining, r.path_prefix, r.method, r.seconds) for r in self._rules]

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.decline_refunds = False


_ERROR_TYPES = {
    429: "too_many_requests",
    500: "internal_server_error",
    502: "processing_error",
    503: "service_unavailable",
    504: "gateway_timeout",
}


class FaultMiddleware:
    """Logs API requests and injects the programmed faults for ``/payments`` paths."""

    def __init__(
        self,
        app: WSGIApplication,
        faults: Faults,
        record: Callable[[RequestRecord], None],
        stop_event: threading.Event,
    ) -> None:
        self.app = app
        self.faults = faults
        self.record = record
        self.stop_event = stop_event

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(API_PREFIX):
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        key = environ.get("HTTP_CKO_IDEMPOTENCY_KEY")
        rule = self.faults.take(method, path)
        kind = None if rule is None else rule.kind
        label = None if kind is None else str(kind)

        if rule is None or kind == "slow":
            if rule is not None:
                # The API waits after registering the idempotency key, so the request is "in flight".
                environ[SLOW_ENVIRON_KEY] = rule.seconds if rule.seconds is not None else 1.0
            status, headers, body = self._run(environ)
            self.record(RequestRecord(method, path, key, status, label))
            start_response(f"{status} {_reason(status)}", headers)
            return [body]

        if isinstance(kind, int):
            self.record(RequestRecord(method, path, key, kind, label))
            return _error_answer(kind, start_response)

        if isinstance(kind, str) and kind in _ACCEPT_THEN_STATUS:
            environ[NO_IDEMPOTENCY_CACHE_KEY] = True
            self._run(environ)  # processed: the payment exists, its webhooks are on their way
            status = _ACCEPT_THEN_STATUS[kind]
            self.record(RequestRecord(method, path, key, status, label))
            return _error_answer(status, start_response)

        processed_status: int | None = None
        if kind in ("accept_then_timeout", "accept_then_close"):
            processed_status, _, _ = self._run(environ)
        self.record(RequestRecord(method, path, key, processed_status, label))
        if kind in ("timeout", "accept_then_timeout"):
            hold = rule.seconds if rule.seconds is not None else self.faults.timeout_hold_seconds
            self.stop_event.wait(hold)
        _drop(environ)
        raise SimulatedConnectionDrop(f"cko_sim fault {kind}: connection closed without a response")

    def _run(self, environ: WSGIEnvironment) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return lambda _data: None

        result = self.app(environ, _start)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return int(captured["status"]), list(captured["headers"]), body


def _error_answer(status: int, start_response: StartResponse) -> Iterable[bytes]:
    """A 5xx/429 as Checkout sends them: 500 with no body, the others ``{request_id, error_type}``."""
    payload = b""
    if status != 500:
        payload = json.dumps(
            {"request_id": str(uuid.uuid4()), "error_type": _ERROR_TYPES.get(status, "error")}
        ).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    if status == 429:
        headers.append(("Retry-After", "1"))
    start_response(f"{status} {_reason(status)}", headers)
    return [payload]


def _drop(environ: WSGIEnvironment) -> None:
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _reason(status: int) -> str:
    from http import HTTPStatus  # noqa: PLC0415

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

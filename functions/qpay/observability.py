"""Structured JSON log lines and CloudWatch metrics (EMF) with the standard library.

Why not Powertools' Logger and Metrics on these paths: importing them costs ~75 ms at cold start
(``make bench`` measures it), and the Logger is one object shared by every thread, so under the local
stack's concurrency lines were labelled with another function's name. Here the per-invocation fields
(function name, request id, correlation id, payment id) live in a :class:`contextvars.ContextVar`, set
by :meth:`Logger.inject_lambda_context`, so every thread (and every invocation) has its own.

Lines go through ``logging.getLogger("qpay")`` with one handler writing JSON to stdout (Lambda's
``LoggingConfig: LogFormat: JSON`` filters them by their ``level`` key, honouring ``ApplicationLogLevel``
via ``AWS_LAMBDA_LOG_LEVEL``). A tool may replace that handler's formatter (the local stack prints a
human line per invocation); the product only ever writes records.

Never log a request body: the create request carries the shopper's national ID.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "qpay")
_fields: ContextVar[Mapping[str, Any] | None] = ContextVar("qpay_log_fields", default=None)
_state = {"cold": True}

F = TypeVar("F", bound=Callable[..., Any])


def _level() -> int:
    for name in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        value = os.environ.get(name)
        if value and isinstance(logging.getLevelName(value.upper()), int):
            return int(logging.getLevelName(value.upper()))
    return logging.INFO


class JsonFormatter(logging.Formatter):
    """One JSON object per line: level, message, timestamp, service, the invocation's fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "service": SERVICE,
        }
        fields = getattr(record, "qpay_fields", None)
        if fields:
            doc.update(fields)
        extra = getattr(record, "qpay_extra", None)
        if extra:
            doc.update(extra)
        if record.exc_info:
            doc["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, separators=(",", ":"), ensure_ascii=False)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is now (Lambda's, a test's capture), or to the stream a
    command-line tool chose (:meth:`Logger.use_stream`: its own output stays clean JSON)."""

    def __init__(self) -> None:
        self.to_stderr = False
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr if self.to_stderr else sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:  # logging.StreamHandler.__init__ assigns it
        pass


class Logger:
    """The subset of Powertools' Logger this package uses, on ``logging`` with per-context fields."""

    def __init__(self, name: str = "qpay") -> None:
        self._log = logging.getLogger(name)
        if not self._log.handlers:
            handler = _StdoutHandler()
            handler.setFormatter(JsonFormatter())
            self._log.addHandler(handler)
        self._log.setLevel(_level())
        self._log.propagate = False  # Lambda's runtime has its own root handler: never print twice

    @property
    def std(self) -> logging.Logger:
        return self._log

    def use_stderr(self, enabled: bool = True) -> None:
        """Write the lines to stderr (a command-line tool keeps stdout for its result)."""
        for handler in self._log.handlers:
            if isinstance(handler, _StdoutHandler):
                handler.to_stderr = enabled

    # -- per-invocation fields ----------------------------------------------------------------
    def append_keys(self, **fields: Any) -> None:
        _fields.set({**(_fields.get() or {}), **fields})

    def set_correlation_id(self, value: str | None) -> None:
        self.append_keys(correlation_id=value)

    def fields(self) -> Mapping[str, Any]:
        return _fields.get() or {}

    def inject_lambda_context(self, *, clear_state: bool = True) -> Callable[[F], F]:
        """Decorator: the invocation's function name, request id and cold start on every line it writes."""

        def wrap(handler: F) -> F:
            @functools.wraps(handler)
            def run(event: Any, context: Any) -> Any:
                base = {} if clear_state else dict(_fields.get() or {})
                base.update(
                    function_name=getattr(context, "function_name", None),
                    function_request_id=getattr(context, "aws_request_id", None),
                    cold_start=_state["cold"],
                )
                _state["cold"] = False
                token = _fields.set(base)
                try:
                    return handler(event, context)
                finally:
                    _fields.reset(token)

            return run  # type: ignore[return-value]

        return wrap

    # -- lines -------------------------------------------------------------------------------------
    def _emit(self, level: int, message: str, extra: Mapping[str, Any] | None, exc: bool = False) -> None:
        if not self._log.isEnabledFor(level):
            return
        # a record made directly: no stack walk for the caller's file and line (it is never printed)
        record = logging.LogRecord(self._log.name, level, "", 0, message, None, sys.exc_info() if exc else None)
        record.qpay_fields = _fields.get()
        record.qpay_extra = extra
        self._log.handle(record)

    def debug(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        self._emit(logging.DEBUG, message, extra)

    def info(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        self._emit(logging.INFO, message, extra)

    def warning(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        self._emit(logging.WARNING, message, extra)

    def error(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        self._emit(logging.ERROR, message, extra)

    def exception(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        self._emit(logging.ERROR, message, extra, exc=True)


logger = Logger("qpay")


def metric(name: str, value: float = 1, *, unit: str = "Count") -> None:
    """One CloudWatch metric as an EMF line on stdout (what the alarms watch), dimension ``service``.

    The same namespace and dimension Powertools' Metrics would use (``POWERTOOLS_METRICS_NAMESPACE``),
    so alarms do not care which one wrote it."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "QPay")
    doc = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [["service"]], "Metrics": [{"Name": name, "Unit": unit}]}
            ],
        },
        "service": SERVICE,
        name: [float(value)],
    }
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")
    sys.stdout.flush()

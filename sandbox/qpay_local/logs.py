"""Local logs that read like ``sam local``: one context per invocation, whatever thread runs it.

The local runtime runs every function in one process, on many threads; the product's logger keeps
its Lambda context (function name, request id, cold start) in state that all threads share, so under
concurrency a line could name another function. The runtime sets the invocation in a context variable
(:data:`CURRENT`, per thread), and :class:`LogRouter` — installed on the product's ``qpay`` logger by
``make run`` — writes each of the handler's lines with the function and request id of the invocation
that really wrote it, plus per-invocation lines of its own:

- ``--log-format json``: the handler's JSON lines (function fields corrected), and Lambda's JSON
  platform records ``platform.start`` / ``platform.report`` (request id, duration, billed duration,
  memory, init duration on a cold start, status);
- ``--log-format pretty``: one human line per invocation (time, function, route or trigger, outcome,
  duration, cold start) and the handler's own lines condensed under the function's name — including the
  CloudWatch embedded-metric lines the product prints to stdout (``· metrics Name=value``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["pretty", "json"]

#: Keys of a handler's JSON line that the pretty format leaves out (shown elsewhere, or noise).
_PRETTY_SKIP = {
    "level",
    "message",
    "timestamp",
    "location",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
    "correlation_id",
}


@dataclass
class Invocation:
    function: str  # logical id
    name: str  # physical function name
    arn: str
    request_id: str
    memory_mb: int
    trigger: str
    cold_start: bool
    init_ms: float | None = None
    started: float = field(default_factory=time.perf_counter)


CURRENT: ContextVar[Invocation | None] = ContextVar("qpay_local_invocation", default=None)


def trigger_of(event: Any) -> str:
    """What made this invocation, in a few words: ``POST /payments``, ``DynamoDB stream, 3 records``…"""
    if not isinstance(event, dict):
        return "invoke"
    context = event.get("requestContext")
    if isinstance(context, dict) and isinstance(context.get("http"), dict):
        return f"{context['http'].get('method', '?')} {event.get('rawPath') or context['http'].get('path', '')}"
    records = event.get("Records")
    if isinstance(records, list) and records:
        source = str(records[0].get("eventSource", "")).removeprefix("aws:")
        label = {"dynamodb": "DynamoDB stream", "sqs": "SQS"}.get(source, source or "records")
        return f"{label}, {len(records)} record{'s' if len(records) != 1 else ''}"
    if "task" in event:
        return f"Step Functions task {event['task']}"
    if event.get("source") in ("aws.events", "aws.scheduler") or not event:
        return "schedule"
    return "invoke"


def outcome_of(result: Any, error: BaseException | None) -> tuple[str, bool]:
    """(text, ok) for the invocation's result."""
    if error is not None:
        return f"error {type(error).__name__}: {error}", False
    if isinstance(result, dict) and "statusCode" in result:
        status = int(result["statusCode"])
        return f"→ {status}", status < 500
    if isinstance(result, dict) and "batchItemFailures" in result:
        failed = len(result["batchItemFailures"] or [])
        return ("→ ok" if not failed else f"→ {failed} record(s) failed"), not failed
    return "→ ok", True


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


def _clock() -> str:
    now = datetime.now()
    return now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d}"


class _RoutingHandler(logging.Handler):
    def __init__(self, router: LogRouter, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.router = router
        self.setFormatter(formatter or logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.router.handler_line(record, text)


class _MetricLines:
    """``sys.stdout`` while a pretty router is installed: embedded-metric JSON lines printed by the
    product go to the router, everything else through unchanged."""

    def __init__(self, router: LogRouter, underlying: TextIO) -> None:
        self._router = router
        self._underlying = underlying
        self._partial = threading.local()

    def write(self, text: str) -> int:
        pending = getattr(self._partial, "text", "") + text
        *lines, rest = pending.split("\n")
        self._partial.text = rest
        for line in lines:
            if line.startswith('{"_aws"'):
                self._router.metric_line(line)
            else:
                self._underlying.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._underlying.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._underlying, name)


class LogRouter:
    """Owns the output of the product's loggers while installed (``install``/``uninstall``)."""

    def __init__(self, fmt: LogFormat = "pretty", stream: TextIO | None = None, loggers: tuple[str, ...] = ("qpay",)):
        self.format = fmt
        self.stream = stream
        self.logger_names = loggers
        self._saved: dict[str, tuple[list[logging.Handler], bool]] = {}
        self._stdout: TextIO | None = None
        self._lock = threading.Lock()
        self.width = 22

    # -- installation ----------------------------------------------------------------------

    def install(self, *, capture_stdout: bool = False) -> None:
        for name in self.logger_names:
            lg = logging.getLogger(name)
            self._saved[name] = (list(lg.handlers), lg.propagate)
            formatter = next((h.formatter for h in lg.handlers if h.formatter is not None), None)
            lg.handlers = [_RoutingHandler(self, formatter)]
            lg.propagate = False
        if capture_stdout and self.format == "pretty":
            self._stdout = sys.stdout
            if self.stream is None:
                self.stream = self._stdout
            sys.stdout = _MetricLines(self, self._stdout)

    def uninstall(self) -> None:
        for name, (handlers, propagate) in self._saved.items():
            lg = logging.getLogger(name)
            lg.handlers = handlers
            lg.propagate = propagate
        self._saved.clear()
        if self._stdout is not None:
            sys.stdout = self._stdout
            self._stdout = None

    def metric_line(self, line: str) -> None:
        """A CloudWatch embedded-metric (EMF) line, shown as ``· metrics Name=value …``."""
        try:
            doc = json.loads(line)
            names = [m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        except (ValueError, KeyError, TypeError):
            self._write(line)
            return
        values = " ".join(f"{n}={_short(doc.get(n))}" for n in names)
        inv = CURRENT.get()
        who = inv.function if inv is not None else "metrics"
        self._write(f"{_clock()}  {who.ljust(self.width)}  · metrics {values}")

    # -- output ----------------------------------------------------------------------------

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(line + "\n")
            with contextlib.suppress(Exception):
                stream.flush()

    def handler_line(self, record: logging.LogRecord, text: str) -> None:
        inv = CURRENT.get()
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            doc = {"level": record.levelname, "message": text}
        if inv is not None:  # the invocation that really wrote it (the product's own fields may be another's)
            doc.update(
                function_name=inv.name,
                function_request_id=inv.request_id,
                function_arn=inv.arn,
                function_memory_size=inv.memory_mb,
                cold_start=inv.cold_start,
            )
        if self.format == "json":
            self._write(json.dumps(doc, default=str, separators=(",", ":")))
            return
        who = inv.function if inv is not None else record.name
        extra = " ".join(f"{k}={_short(v)}" for k, v in doc.items() if k not in _PRETTY_SKIP)
        level = str(doc.get("level", record.levelname))
        mark = "·" if level in ("INFO", "DEBUG") else f"· {level}"
        self._write(
            f"{_clock()}  {who.ljust(self.width)}  {mark} {doc.get('message', '')}" + (f"  {extra}" if extra else "")
        )

    def start(self, inv: Invocation) -> None:
        if self.format == "json":
            self._write(
                json.dumps(
                    {
                        "time": _now_iso(),
                        "type": "platform.start",
                        "function": inv.function,
                        "record": {"requestId": inv.request_id, "functionArn": inv.arn, "version": "$LATEST"},
                    },
                    separators=(",", ":"),
                )
            )

    def end(self, inv: Invocation, result: Any, error: BaseException | None) -> None:
        duration_ms = (time.perf_counter() - inv.started) * 1000
        outcome, ok = outcome_of(result, error)
        if self.format == "json":
            metrics: dict[str, Any] = {
                "durationMs": round(duration_ms, 2),
                "billedDurationMs": math.ceil(duration_ms),
                "memorySizeMB": inv.memory_mb,
            }
            if inv.cold_start and inv.init_ms is not None:
                metrics["initDurationMs"] = round(inv.init_ms, 2)
            self._write(
                json.dumps(
                    {
                        "time": _now_iso(),
                        "type": "platform.report",
                        "function": inv.function,
                        "trigger": inv.trigger,
                        "outcome": outcome.removeprefix("→ "),
                        "record": {
                            "requestId": inv.request_id,
                            "metrics": metrics,
                            "status": "success" if error is None else "error",
                        },
                    },
                    separators=(",", ":"),
                )
            )
            return
        cold = f", cold start {inv.init_ms:.0f} ms" if inv.cold_start and inv.init_ms is not None else ""
        flag = "" if ok else "  !"
        self._write(
            f"{_clock()}  {inv.function.ljust(self.width)}  {inv.trigger} {outcome}  "
            f"({duration_ms:.0f} ms{cold})  {inv.request_id[:8]}{flag}"
        )


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"

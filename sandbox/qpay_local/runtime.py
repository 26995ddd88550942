"""Run the project's handlers in-process the way Lambda would call them.

Each function is imported lazily on its first invocation (a cold start), then reused. Invocations get a
Lambda-context-like object, and the invocation is set in :data:`qpay_local.logs.CURRENT` for the thread
that runs it (an observer such as :class:`qpay_local.logs.LogRouter` writes START/REPORT lines). Nothing
here changes the environment: the stack sets it once.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpay_local.logs import CURRENT, Invocation, trigger_of
from qpay_local.template import FunctionDef

log = logging.getLogger("qpay_local.runtime")

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes and method handlers (and Powertools) read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_s: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_s - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


@dataclass(frozen=True)
class LocalFunction:
    definition: FunctionDef
    name: str  # physical function name
    arn: str


class Runtime:
    """Functions of the template by logical id, name and ARN; ``invoke`` calls the real handler."""

    def __init__(self, functions: dict[str, LocalFunction], template_root: Path, observer: Any = None) -> None:
        self.functions = functions
        self.observer = observer  # start(Invocation) / end(Invocation, result, error), e.g. a LogRouter
        self.init_ms: dict[str, float] = {}
        self._by_name: dict[str, LocalFunction] = {}
        for fn in functions.values():
            self._by_name[fn.definition.logical_id] = fn
            self._by_name[fn.name] = fn
            self._by_name[fn.arn] = fn
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = {}
        for fn in functions.values():
            code = str((template_root / fn.definition.code_uri).resolve())
            if code not in sys.path:
                sys.path.insert(0, code)

    def find(self, name_or_arn: str) -> LocalFunction:
        key = name_or_arn
        if key not in self._by_name and key.startswith("arn:") and key.count(":") > 6:
            key = key.rsplit(":", 1)[0]  # drop a qualifier
        try:
            return self._by_name[key]
        except KeyError:
            raise KeyError(f"no function {name_or_arn!r} in the template") from None

    def handler(self, fn: LocalFunction) -> Handler:
        return self._load(fn)[0]

    def _load(self, fn: LocalFunction) -> tuple[Handler, bool]:
        """The handler, and whether this call imported it (the one cold start: decided under the lock, so
        concurrent first invocations on a busy machine cannot both count as cold)."""
        with self._lock:
            cached = self._handlers.get(fn.definition.logical_id)
            if cached is not None:
                return cached, False
            module_name, _, attr = fn.definition.handler.rpartition(".")
            started = time.perf_counter()
            module = importlib.import_module(module_name)
            handler: Handler = getattr(module, attr)
            self.init_ms[fn.definition.logical_id] = (time.perf_counter() - started) * 1000
            log.debug(
                "cold start %s (%s) in %.0f ms",
                fn.definition.logical_id,
                fn.definition.handler,
                self.init_ms[fn.definition.logical_id],
            )
            self._handlers[fn.definition.logical_id] = handler
            return handler, True

    def context(self, fn: LocalFunction) -> LambdaContext:
        return LambdaContext(
            function_name=fn.name,
            memory_limit_in_mb=fn.definition.memory,
            invoked_function_arn=fn.arn,
            aws_request_id=str(uuid.uuid4()),
            timeout_s=float(fn.definition.timeout),
            log_group_name=f"/aws/lambda/{fn.name}",
            log_stream_name=time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
        )

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Call the handler; exceptions propagate (callers decide how Lambda would report them)."""
        fn = self.find(name_or_arn)
        logical = fn.definition.logical_id
        handler, cold = self._load(fn)
        ctx = self.context(fn)
        with self._lock:
            self.invocations[logical] = self.invocations.get(logical, 0) + 1
        inv = Invocation(
            function=logical,
            name=fn.name,
            arn=fn.arn,
            request_id=ctx.aws_request_id,
            memory_mb=fn.definition.memory,
            trigger=trigger_of(event),
            cold_start=cold,
            init_ms=self.init_ms.get(logical) if cold else None,
        )
        token = CURRENT.set(inv)
        observer = self.observer
        if observer is not None:
            observer.start(inv)
        result: Any = None
        error: BaseException | None = None
        try:
            result = handler(event, ctx)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if observer is not None:
                observer.end(inv, result, error)
            CURRENT.reset(token)
        if ctx.get_remaining_time_in_millis() == 0:
            log.warning(
                "%s ran past its %s s timeout (Lambda would have killed it)",
                fn.definition.logical_id,
                fn.definition.timeout,
            )
        return result

"""Run the project's handlers in-process the way Lambda would call them.

Each function is imported lazily on its first invocation (a cold start), then reused. Invocations get a
Lambda-context-like object. Nothing here changes the environment: the stack sets it once.
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

    def __init__(self, functions: dict[str, LocalFunction], template_root: Path) -> None:
        self.functions = functions
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
        with self._lock:
            cached = self._handlers.get(fn.definition.logical_id)
            if cached is not None:
                return cached
            module_name, _, attr = fn.definition.handler.rpartition(".")
            started = time.perf_counter()
            module = importlib.import_module(module_name)
            handler: Handler = getattr(module, attr)
            log.info(
                "cold start %s (%s) in %.0f ms",
                fn.definition.logical_id,
                fn.definition.handler,
                (time.perf_counter() - started) * 1000,
            )
            self._handlers[fn.definition.logical_id] = handler
            return handler

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
        handler = self.handler(fn)
        ctx = self.context(fn)
        with self._lock:
            self.invocations[fn.definition.logical_id] = self.invocations.get(fn.definition.logical_id, 0) + 1
        result = handler(event, ctx)
        if ctx.get_remaining_time_in_millis() == 0:
            log.warning(
                "%s ran past its %s s timeout (Lambda would have killed it)",
                fn.definition.logical_id,
                fn.definition.timeout,
            )
        return result

"""Record every AWS API call the product's code makes, with the function that made it.

The product builds every AWS client from one botocore session (``qpay.adapters.dynamo._session``).
:func:`recording` replaces that cached factory with one that registers a ``before-parameter-build``
hook on the session it returns (botocore's event system:
https://botocore.amazonaws.com/v1/documentation/api/latest/topics/events.html), so each call is seen
with the parameters the code passed, before anything is sent. Calls made by the tests or the local
stack's own clients come from other sessions and are not recorded.

Which function made a call is asked of ``who`` (for the local stack: the invocation its runtime sets in
``qpay_local.logs.CURRENT``). The product fans some reads out on thread pools; a context variable does
not follow a task into a pool thread by itself, so while recording, ``ThreadPoolExecutor.submit`` runs
the task in a copy of the submitter's context (what ``asyncio.to_thread`` does).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

UNATTRIBUTED = "<no function>"


@dataclass(frozen=True)
class Call:
    function: str  # the function's logical id in template.yaml, or UNATTRIBUTED
    service: str  # the IAM prefix (botocore's signing name): dynamodb, states, events, secretsmanager
    operation: str  # the API operation, e.g. TransactWriteItems
    params: dict[str, Any]


class CallRecorder:
    def __init__(self, who: Callable[[], str | None]) -> None:
        self.who = who
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def on_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = str(model.service_model.signing_name or model.service_model.endpoint_prefix)
        call = Call(self.who() or UNATTRIBUTED, service, str(model.name), copy.deepcopy(params))
        with self._lock:
            self.calls.append(call)

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


def current_local_function() -> str | None:
    """The logical id of the function the local stack's runtime is running in this context."""
    from qpay_local.logs import CURRENT

    inv = CURRENT.get()
    return inv.function if inv is not None else None


@contextlib.contextmanager
def recording(recorder: CallRecorder) -> Iterator[CallRecorder]:
    """Record the product's AWS calls while the block runs (the product's adapters are reset on both
    ends, so clients made before or after never carry the hook)."""
    from qpay import deps
    from qpay.adapters import dynamo

    original_factory = dynamo._session
    make_session = original_factory.__wrapped__

    @functools.cache
    def hooked_session() -> Any:
        session = make_session()
        session.register("before-parameter-build", recorder.on_call)
        return session

    original_submit = ThreadPoolExecutor.submit

    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        ctx = contextvars.copy_context()
        return original_submit(self, ctx.run, fn, *args, **kwargs)

    dynamo._session = hooked_session  # type: ignore[assignment]
    ThreadPoolExecutor.submit = submit  # type: ignore[assignment,method-assign]
    deps.reset()
    try:
        yield recorder
    finally:
        ThreadPoolExecutor.submit = original_submit  # type: ignore[method-assign]
        dynamo._session = original_factory
        deps.reset()

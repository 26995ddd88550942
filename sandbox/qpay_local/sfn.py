"""Step Functions on moto's engine, with Lambda Task states running the project's handlers in-process.

moto (``execute_state_machine``) runs the real ASL: Retry/backoff, Catch, ``waitForTaskToken``,
``TimeoutSeconds``. Its Lambda tasks call moto's Lambda backend; without Docker that is
``LambdaSimpleBackend.invoke``, which :func:`install` replaces with a dispatcher to registered
in-process invokers. A handler exception becomes what AWS returns: ``X-Amz-Function-Error: Unhandled``
and ``{"errorType": <exception class name>, "errorMessage": ...}``, which moto's engine turns into the
state's error name, so ``Retry``/``Catch`` on e.g. ``CheckoutUnavailable`` work.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import traceback
import uuid
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("qpay_local.sfn")

#: (function name or ARN) -> result; raises KeyError when it does not know the function.
Invoker = Callable[[str, Any], Any]
_FINDER = Callable[[str], bool]

_lock = threading.Lock()
_invokers: list[tuple[_FINDER, Invoker]] = []
_original: Any = None

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _patched_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes | str | None:
    with _lock:
        registered = list(_invokers)
    for knows, invoke in registered:
        if knows(function_name):
            return run_as_lambda(invoke, function_name, body, response_headers)
    return _original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]


def run_as_lambda(invoke: Invoker, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
    """Invoke and shape the result (or the exception) the way the Lambda Invoke API returns it."""
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    event = json.loads(raw) if raw else {}
    try:
        result = invoke(function_name, event)
    except Exception as exc:
        log.info("%s raised %s: %s", function_name, type(exc).__name__, exc)
        response_headers["x-amz-function-error"] = "Unhandled"
        payload = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": "",
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        data = json.dumps(payload).encode()
    else:
        data = json.dumps(result).encode()
    response_headers["Content-Length"] = str(len(data))
    return data


def install(knows: _FINDER, invoke: Invoker) -> Callable[[], None]:
    """Route moto Lambda invocations of functions ``knows`` accepts to ``invoke``; returns an uninstaller."""
    global _original  # noqa: PLW0603 - one patch per process, shared by every stack
    from moto.awslambda_simple.models import LambdaSimpleBackend  # noqa: PLC0415

    entry = (knows, invoke)
    _default_execution_names()
    with _lock:
        if _original is None:
            _original = LambdaSimpleBackend.invoke
            LambdaSimpleBackend.invoke = _patched_invoke  # type: ignore[method-assign]
        _invokers.append(entry)

    def uninstall() -> None:
        global _original  # noqa: PLW0603
        with _lock:
            if entry in _invokers:
                _invokers.remove(entry)
            if not _invokers and _original is not None:
                LambdaSimpleBackend.invoke = _original  # type: ignore[method-assign]
                _original = None

    return uninstall


def _default_execution_names() -> None:
    """moto 5.2's executing backend names an unnamed execution ``None`` (so a second one collides):
    give it a UUID name, as AWS does."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: PLC0415

    original = StepFunctionsParserBackend.start_execution
    if getattr(original, "_qpay_local", False):
        return

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    start_execution._qpay_local = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


def render_definition(path: Path, substitutions: Mapping[str, Any]) -> str:
    """``DefinitionSubstitutions`` applied textually to the ASL file, then YAML → JSON."""
    text = path.read_text(encoding="utf-8")
    missing = sorted({m for m in _PLACEHOLDER.findall(text) if m not in substitutions})
    if missing:
        raise KeyError(f"{path.name}: no substitution for {missing}")
    text = _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)
    doc = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    return json.dumps(doc)


def dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def create_lambda(lambda_client: Any, iam_client: Any, name: str, handler: str, timeout: int, memory: int) -> str:
    """A placeholder function in moto so ARNs resolve (its code never runs: invocations are routed)."""
    role_arn = ensure_role(iam_client, "qpay-local-lambda", "lambda.amazonaws.com")
    resp = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler=handler,
        Code={"ZipFile": dummy_zip()},
        Timeout=timeout,
        MemorySize=memory,
    )
    return str(resp["FunctionArn"])


def ensure_role(iam_client: Any, name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    try:
        return str(iam_client.get_role(RoleName=name)["Role"]["Arn"])
    except iam_client.exceptions.NoSuchEntityException:
        return str(iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])

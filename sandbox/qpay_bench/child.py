"""A measured process: one fresh interpreter on the packaged artefact (``python -S -P child.py spec out``).

Only the artefact is on the path (no venv site-packages). Standard library only until the clock starts,
and nothing measured is imported before it: the first statement reads the clock.

- ``cold``: import the handler (or the floor) and serve the first event; wall and CPU time from the
  first statement.
- ``calibrate``: warm a handler up, then serve one marked invocation (the stub logs a mark before and
  after it, so the parent knows exactly which requests one warm invocation makes) with its log lines
  captured; the floors replay that.
- ``warm``: several columns (handler, floor, physical floor; or the peer) in this one process, warmed
  up, then timed in interleaved blocks: process CPU time per invocation (the product may use threads).

No patch of the product: the AWS clients and the Checkout.com client talk HTTPS to the bench's stub.
"""
# ruff: noqa: PLC0415 - imports inside the timed functions are the point of this file

import time

T0 = time.perf_counter()
C0 = time.process_time()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402


class Context:
    """Lambda's context object; the remaining time is the function's whole timeout (template.yaml)."""

    function_version = "$LATEST"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_stream_name = "bench"

    def __init__(self, timeout_ms: int = 10_000) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        self.invoked_function_arn = f"arn:aws:lambda:me-central-1:123456789012:function:{self.function_name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


def _invoker(role: str, spec: dict[str, Any]) -> Callable[[Any], Any]:
    if role in ("handler", "peer"):
        module_name, _, attr = spec["handlers"][role].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attr)
        context = Context(int(spec.get("timeout_ms", 10_000)))
        return lambda event: handler(event, context)
    import qpay_bench_floor  # copied into the artefact by the bench (floorwork.py)

    floor = qpay_bench_floor.make(role, spec["floor"])
    run: Callable[[Any], Any] = floor.run
    return run


def cold(spec: dict[str, Any]) -> dict[str, Any]:
    invoke = _invoker(spec["role"], spec)
    t_import = time.perf_counter()
    response = invoke(json.loads(spec["event"]))
    return {"import_s": t_import - T0, "response": response}


def _mark(label: str) -> None:
    import http.client
    import ssl
    from urllib.parse import urlsplit

    url = urlsplit(os.environ["AWS_ENDPOINT_URL"])
    conn = http.client.HTTPSConnection(url.hostname or "", url.port, context=ssl.create_default_context())
    conn.request("GET", f"/__bench/mark/{label}")
    conn.getresponse().read()
    conn.close()


def _capture(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``fn`` with file descriptor 1 sent to a temporary file; return its result and the lines."""
    import tempfile

    sys.stdout.flush()
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(1)
        os.dup2(tmp.fileno(), 1)
        try:
            result = fn()
            sys.stdout.flush()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        return result, tmp.read().decode(errors="replace").splitlines()


def calibrate(spec: dict[str, Any]) -> dict[str, Any]:
    role = spec["role"]
    invoke = _invoker(role, spec)
    event = spec["event"]
    for _ in range(int(spec.get("warmup", 3))):
        _capture(lambda: invoke(json.loads(event)))
    _mark(f"{role}-start")
    response, lines = _capture(lambda: invoke(json.loads(event)))
    _mark(f"{role}-end")
    return {"response": response, "log_lines": lines}


def warm(spec: dict[str, Any]) -> dict[str, Any]:
    roles: list[str] = spec["roles"]
    event = spec["event"]
    invokers = {role: _invoker(role, spec) for role in roles}
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)  # the JSON log lines still get formatted and written, to nowhere
    for role in roles:
        for _ in range(int(spec.get("warmup", 20))):
            invokers[role](json.loads(event))
    block = int(spec.get("block", 10))
    samples: dict[str, list[list[float]]] = {role: [] for role in roles}
    for _ in range(max(1, int(spec["n"]) // block)):
        for role in roles:  # interleaved: drift in the machine's speed hits every column alike
            invoke = invokers[role]
            times = []
            for _ in range(block):
                payload = json.loads(event)
                t = time.process_time_ns()
                invoke(payload)
                times.append((time.process_time_ns() - t) / 1000)
            samples[role].append(times)
    return {"samples_us": samples}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    kind = spec["kind"]
    result = cold(spec) if kind == "cold" else calibrate(spec) if kind == "calibrate" else warm(spec)
    result["total_s"] = time.perf_counter() - T0
    result["cpu_s"] = time.process_time() - C0
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, default=str)


if __name__ == "__main__":
    main()

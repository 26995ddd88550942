"""Cold-start child: one fresh interpreter, one handler (or its floor), one first event.

Run as ``python -S -P child.py spec.json result.json`` with only the build directory on PYTHONPATH.
Standard library only until the clock starts, and nothing of ours is imported before it: the first
statement reads the clock, then the handler module is imported and serves its first event. The AWS
clients are the product's own, pointed at a loopback stub (AWS_ENDPOINT_URL); Checkout.com goes through
an httpx ``MockTransport`` swapped into the client the product's factory built (the only patch).
"""
# ruff: noqa: PLC0415 - imports inside the timed functions are the point of this file

import time

T0 = time.perf_counter()
C0 = time.process_time()

import importlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:me-central-1:123456789012:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _checkout_answer(routes: list[list[Any]], method: str, path: str) -> tuple[int, Any]:
    for want_method, pattern, status, body in routes:
        if want_method == method and re.fullmatch(pattern, path):
            return int(status), body
    return 404, {"error_type": "not_found"}


def _patch_checkout(routes: list[list[Any]], seen: list[str]) -> None:
    deps: Any = sys.modules["qpay.deps"]
    factory = deps.checkout

    def checkout() -> Any:
        client = factory()  # the product's own factory (settings, secret, timeouts, TLS transport)
        if not getattr(client, "_bench_stubbed", False):
            import httpx  # already imported by the product's client module

            def answer(request: Any) -> Any:
                seen.append(f"{request.method} {request.url.path}")
                status, body = _checkout_answer(routes, request.method, request.url.path)
                return httpx.Response(status, json=body)

            client._http._transport = httpx.MockTransport(answer)
            client._bench_stubbed = True
        return client

    deps.checkout = checkout


def run_handler(spec: dict[str, Any]) -> dict[str, Any]:
    module = importlib.import_module(spec["module"])
    t_import = time.perf_counter()
    seen: list[str] = []
    if spec.get("checkout") is not None:
        _patch_checkout(spec["checkout"], seen)
    response = module.handler(spec["event"], Context())
    return {"import_s": t_import - T0, "response": response, "checkout": seen}


def run_floor(spec: dict[str, Any]) -> dict[str, Any]:
    """The same work with the standard library and a bare botocore client: the floor."""
    import hashlib
    import hmac
    import ssl

    import botocore.session
    from botocore import xform_name
    from botocore.config import Config

    t_import = time.perf_counter()
    session = botocore.session.get_session()
    config = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 3})
    clients: dict[str, Any] = {}
    out = sys.stdout
    event = spec["event"]
    body = event.get("body") if isinstance(event, dict) else None
    doc = json.loads(body) if body else event
    secret: dict[str, Any] = {}
    for service, operation, params in spec["calls"]:
        if service == "checkout":
            if "tls" not in clients:
                clients["tls"] = ssl.create_default_context()
            json.loads(json.dumps(params))
        else:
            client = clients.get(service)
            if client is None:
                client = clients[service] = session.create_client(service, config=config)
            answer = getattr(client, xform_name(operation))(**params)
            if operation == "GetSecretValue":
                secret = json.loads(answer["SecretString"])
                if spec.get("signature"):
                    for key in secret.get("webhook_signing_keys", []):
                        hmac.compare_digest(hmac.new(key.encode(), str(body).encode(), hashlib.sha256).hexdigest(), "0")
        out.write(json.dumps({"level": "INFO", "message": operation, "service": "qpay"}) + "\n")
    response = {"statusCode": 200, "body": json.dumps({"ok": True, "doc": len(str(doc))})}
    return {"import_s": t_import - T0, "response": response, "checkout": []}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    result = run_floor(spec) if spec["mode"] == "floor" else run_handler(spec)
    result["total_s"] = time.perf_counter() - T0
    result["cpu_s"] = time.process_time() - C0
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, default=str)


if __name__ == "__main__":
    main()

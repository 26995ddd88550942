"""What Lambda hands a handler: an API Gateway HTTP API (payload 2.0) event and a context object."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

_ids = itertools.count(1)


def http_event(
    method: str,
    path: str,
    *,
    now: int,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    route: str | None = None,
    path_params: dict[str, str] | None = None,
) -> dict[str, Any]:
    hdrs = {"content-type": "application/json", "user-agent": "qpay-sim", "host": "api.qpay-sim.example"}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    request_id = f"sim{next(_ids):013d}="
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "qpaysim",
            "domainName": "api.qpay-sim.example",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7",
                     "userAgent": "qpay-sim"},
            "requestId": request_id,
            "routeKey": route or f"{method} {path}",
            "stage": "$default",
            "timeEpoch": now * 1000,
        },
        "isBase64Encoded": False,
    }  # fmt: skip
    if query:
        event["queryStringParameters"] = dict(query)
    if path_params:
        event["pathParameters"] = dict(path_params)
    if body is not None:
        event["body"] = body.decode()
    return event


class Context:
    """A Lambda context with time to spare (virtual time does not run down inside one call)."""

    function_name = "qpay-sim"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:me-central-1:123456789012:function:qpay-sim"
    log_group_name = "/aws/lambda/qpay-sim"
    log_stream_name = "sim"

    def __init__(self, timeout_s: float = 60.0) -> None:
        self.aws_request_id = f"00000000-0000-4000-8000-{next(_ids):012d}"
        self._timeout_ms = int(timeout_s * 1000)

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms

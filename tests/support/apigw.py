"""API Gateway HTTP API (payload v2) events, shaped as API Gateway sends them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode


def http_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    body: Any = None,
    raw_body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    iam_user_arn: str | None = None,
) -> dict[str, Any]:
    hdrs = {
        "content-type": "application/json",
        "user-agent": "pytest",
        "host": "abc123.execute-api.me-central-1.amazonaws.com",
    }
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    if raw_body is None and body is not None:
        raw_body = json.dumps(body).encode()
    is_b64 = False
    text: str | None = None
    if raw_body is not None:
        try:
            text = raw_body.decode()
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(raw_body).decode(), True
    now = time.time()
    ctx: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.me-central-1.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.7",
            "userAgent": "pytest",
        },
        "requestId": uuid.uuid4().hex[:16] + "=",
        "routeKey": route or f"{method} {path}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if iam_user_arn:
        ctx["authorizer"] = {
            "iam": {
                "accessKey": "AKIAEXAMPLELOCAL0001",
                "accountId": "123456789012",
                "callerId": "AIDAEXAMPLELOCAL0001",
                "principalOrgId": None,
                "userArn": iam_user_arn,
                "userId": "AIDAEXAMPLELOCAL0001",
            }
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": hdrs,
        "requestContext": ctx,
        "isBase64Encoded": is_b64,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_params:
        event["pathParameters"] = dict(path_params)
    if text is not None:
        event["body"] = text
    return event


class FakeContext:
    function_name = "qpay-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:me-central-1:123456789012:function:qpay-test"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/qpay-test"
    log_stream_name = "test"

    def __init__(self, timeout_s: float = 10.0) -> None:
        import time

        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Counts down from the function's timeout, as Lambda's does."""
        import time

        return max(0, int((self._deadline - time.monotonic()) * 1000))

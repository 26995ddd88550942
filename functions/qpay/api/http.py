"""API Gateway HTTP API (payload v2) plumbing: read the request, shape the response, map errors.

Domain errors become HTTP in this one place. An unexpected error is a 500 without internals.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from qpay.domain.errors import DomainError
from qpay.observability import logger

Event = dict[str, Any]
Response = dict[str, Any]

SECURITY_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def header(event: Event, name: str) -> str | None:
    headers = event.get("headers") or {}
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return str(value)
    return None


def raw_body(event: Event) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else bytes(body)


def json_body(event: Event) -> Any:
    from qpay.domain.errors import ValidationFailed  # noqa: PLC0415

    raw = raw_body(event)
    if not raw.strip():
        raise ValidationFailed("request body is required", details=[{"field": "body", "issue": "missing"}])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "request body is not valid JSON", details=[{"field": "body", "issue": "invalid JSON"}]
        ) from None


def query(event: Event) -> dict[str, str]:
    return dict(event.get("queryStringParameters") or {})


def path_param(event: Event, name: str) -> str:
    return str((event.get("pathParameters") or {}).get(name, ""))


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    response: Response = {"statusCode": status, "headers": {**SECURITY_HEADERS, **(headers or {})}}
    if body is not None:
        response["body"] = json.dumps(body, separators=(",", ":"))
    return response


def redirect(location: str) -> Response:
    return {
        "statusCode": 303,
        "headers": {"Location": location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    }


def error(err: DomainError, request_id: str | None) -> Response:
    body = {"code": err.code, "message": err.message, "fields": err.details, "request_id": request_id}
    return respond(err.status, body)


def request_id(event: Event) -> str | None:
    return (event.get("requestContext") or {}).get("requestId")


def guarded(fn: Callable[[Event], Response]) -> Callable[[Event], Response]:
    """Run a route: domain errors → their 4xx/5xx, anything else → 500 (Checkout/clients retry)."""

    def run(event: Event) -> Response:
        logger.set_correlation_id(request_id(event))  # API Gateway's request id, as in its access log
        try:
            return fn(event)
        except DomainError as err:
            logger.info("request refused", extra={"code": err.code, "status": err.status})
            return error(err, request_id(event))
        except Exception:
            logger.exception("unhandled error")
            return respond(
                500,
                {
                    "code": "internal_error",
                    "message": "internal error",
                    "fields": [],
                    "request_id": request_id(event),
                },
            )

    return run

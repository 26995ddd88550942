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
MAX_BODY_BYTES = 16 * 1024  # a create or refund request is a few hundred bytes
MAX_JSON_DEPTH = 16
IDEMPOTENCY_KEY_MAX = 255

SECURITY_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def header(event: Event, name: str) -> str | None:
    headers = event.get("headers") or {}
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:  # not a secret: a header name
            return str(value)
    return None


def raw_body(event: Event) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else bytes(body)


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit`` (brackets inside strings ignored).
    Cheap first: a body with few brackets cannot be deep, and most bodies have a handful."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def json_body(event: Event, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The request's JSON, bounded before it is parsed: size (413) and nesting (400)."""
    from qpay.domain.errors import MalformedBody, PayloadTooLarge, ValidationFailed  # noqa: PLC0415

    raw = raw_body(event)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"request body is larger than {max_bytes} bytes", details=[{"field": "body", "issue": "too large"}]
        )
    if not raw.strip():
        raise ValidationFailed("request body is required", details=[{"field": "body", "issue": "missing"}])
    if json_depth_exceeds(raw, max_depth):
        raise MalformedBody(
            f"request body nests deeper than {max_depth} levels", details=[{"field": "body", "issue": "too deep"}]
        )
    try:
        return json.loads(raw)
    except RecursionError:
        raise MalformedBody("request body nests too deeply", details=[{"field": "body", "issue": "too deep"}]) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "request body is not valid JSON", details=[{"field": "body", "issue": "invalid JSON"}]
        ) from None


def idempotency_key(event: Event, *, required: bool = False) -> str | None:
    """The ``Idempotency-Key`` header: 1-255 printable characters; required where money moves."""
    from qpay.domain.errors import ValidationFailed  # noqa: PLC0415

    idem = header(event, "Idempotency-Key")
    if idem is None:
        if required:  # a retry without a key would move the money twice
            raise ValidationFailed(
                "Idempotency-Key is required", details=[{"field": "Idempotency-Key", "issue": "required"}]
            )
        return None
    if not (0 < len(idem) <= IDEMPOTENCY_KEY_MAX and idem.isprintable()):
        raise ValidationFailed(
            "invalid Idempotency-Key", details=[{"field": "Idempotency-Key", "issue": "1-255 printable characters"}]
        )
    return idem


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
            (logger.error if err.status >= 500 else logger.info)(
                "request refused", extra={"code": err.code, "status": err.status}
            )
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

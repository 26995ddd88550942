"""The HTTP API "gateway": routes from the template, payload format 2.0 events, IAM auth and CORS.

A WSGI app. Each request is matched against the template's ``HttpApi`` routes, turned into the event
API Gateway would send (payload format version 2.0), handed to the in-process handler, and the
handler's result mapped back to HTTP with API Gateway's rules.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from botocore.credentials import Credentials
from werkzeug.wrappers import Request, Response

from qpay_local import sigv4
from qpay_local.template import HttpRoute

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("qpay_local.apigw")

Invoke = Callable[[str, dict[str, Any]], Any]

#: API Gateway HTTP API's payload quota ("Payload size: 10 MB", not adjustable): a larger request is
#: refused before any route or integration, with this plain-text body (what API Gateway answers).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
PAYLOAD_TOO_LARGE = f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."

_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|xml|javascript|x-www-form-urlencoded|graphql|x-ndjson)|.*\+(json|xml))$", re.I
)


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Cors:
        def many(name: str) -> tuple[str, ...]:
            v = cfg.get(name) or ()
            return (v,) if isinstance(v, str) else tuple(str(x) for x in v)

        max_age = cfg.get("MaxAge")
        return cls(
            allow_origins=many("AllowOrigins"),
            allow_methods=tuple(m.upper() for m in many("AllowMethods")),
            allow_headers=tuple(h.lower() for h in many("AllowHeaders")),
            expose_headers=many("ExposeHeaders"),
            max_age=int(max_age) if max_age is not None else None,
            allow_credentials=bool(cfg.get("AllowCredentials", False)),
        )

    def origin_allowed(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.allow_origins:
            return "*"
        return origin if origin in self.allow_origins else None


@dataclass(frozen=True)
class _CompiledRoute:
    route: HttpRoute
    regex: re.Pattern[str]
    params: tuple[str, ...]
    specificity: tuple[int, int]


def _compile(route: HttpRoute) -> _CompiledRoute:
    parts: list[str] = []
    params: list[str] = []
    static = 0
    greedy = 0
    for seg in route.path.strip("/").split("/") if route.path != "/" else []:
        m = re.fullmatch(r"\{([^}+]+)(\+?)\}", seg)
        if m and m.group(2):
            parts.append(f"(?P<p{len(params)}>.+)")
            params.append(m.group(1))
            greedy += 1
        elif m:
            parts.append(f"(?P<p{len(params)}>[^/]+)")
            params.append(m.group(1))
        else:
            parts.append(re.escape(seg))
            static += 1
    regex = re.compile("^/" + "/".join(parts) + "$")
    return _CompiledRoute(route, regex, tuple(params), (greedy, -static))


@dataclass
class GatewayConfig:
    routes: list[HttpRoute]
    invoke: Invoke  # (function logical id, event) -> handler result
    credentials: Credentials
    region: str
    account_id: str
    api_id: str
    cors: Cors | None = None
    iam_user_arn: str = ""
    iam_user_id: str = ""
    extra_apps: dict[str, WSGIApplication] = field(default_factory=dict)
    on_invoke: Callable[[str, dict[str, Any]], None] | None = None
    #: (function, route key, event, status, response body) after a function answered
    on_response: Callable[[str, str, dict[str, Any], int, bytes], None] | None = None


class Gateway:
    """The WSGI app. ``mount(prefix, app)`` adds an extra WSGI app (e.g. ``/shop``) on the same server."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self._routes = sorted((_compile(r) for r in config.routes), key=lambda c: c.specificity)
        self._mounts: dict[str, WSGIApplication] = {}
        for prefix, app in config.extra_apps.items():
            self.mount(prefix, app)

    def mount(self, prefix: str, app: WSGIApplication) -> None:
        self._mounts["/" + prefix.strip("/")] = app

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        for prefix in sorted(self._mounts, key=len, reverse=True):
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :]
                return self._mounts[prefix](environ, start_response)
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for c in self._routes:
            if c.route.method not in (method, "ANY"):
                continue
            m = c.regex.match(path)
            if m:
                return c.route, {name: m.group(f"p{i}") for i, name in enumerate(c.params)}
        return None

    def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        body = read_body(request)
        if body is None:  # over the payload quota: refused before routing, CORS or auth
            log.info("%s %s -> 413 (body over %d bytes)", request.method, request.path, MAX_PAYLOAD_BYTES)
            response = Response(PAYLOAD_TOO_LARGE, status=413, content_type="text/plain; charset=utf-8")
            response.headers["Connection"] = "close"
            return response
        origin = request.headers.get("Origin")
        cors = self.config.cors
        if cors and request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return self._preflight(origin)
        matched = self.match(request.method, request.path)
        if matched is None:
            response = _json(404, {"message": "Not Found"})
        else:
            route, params = matched
            response = self._dispatch(request, route, params, body)
        if cors:
            allowed = cors.origin_allowed(origin)
            if allowed:
                response.headers["Access-Control-Allow-Origin"] = allowed
                if cors.expose_headers:
                    response.headers["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
                if cors.allow_credentials:
                    response.headers["Access-Control-Allow-Credentials"] = "true"
        # a request that ran a function is logged by the runtime (START/REPORT); the rest here
        log.log(
            logging.DEBUG if matched is not None and response.status_code not in (403, 500) else logging.INFO,
            "%s %s -> %s (%.0f ms)",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _preflight(self, origin: str | None) -> Response:
        cors = self.config.cors
        assert cors is not None
        response = Response(status=204)
        response.headers.remove("Content-Type")
        allowed = cors.origin_allowed(origin)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = allowed
            if cors.allow_methods:
                response.headers["Access-Control-Allow-Methods"] = ",".join(cors.allow_methods)
            if cors.allow_headers:
                response.headers["Access-Control-Allow-Headers"] = ",".join(cors.allow_headers)
            if cors.max_age is not None:
                response.headers["Access-Control-Max-Age"] = str(cors.max_age)
            if cors.allow_credentials:
                response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    def _dispatch(self, request: Request, route: HttpRoute, params: dict[str, str], body: bytes) -> Response:
        identity: sigv4.Identity | None = None
        if route.iam_auth:
            try:
                sigv4.verify(
                    method=request.method,
                    url=f"{request.scheme}://{request.host}{raw_path(request.environ)}"
                    + (f"?{request.query_string.decode('latin-1')}" if request.query_string else ""),
                    headers=dict(request.headers.items()),
                    body=body,
                    credentials=self.config.credentials,
                    region=self.config.region,
                )
            except sigv4.SignatureError as exc:
                log.info("403 on %s: %s", route.route_key, exc)
                refused = _json(403, {"message": exc.public})
                refused.headers["x-amzn-ErrorType"] = exc.error_type
                return refused
            identity = sigv4.Identity(
                access_key=self.config.credentials.access_key,
                account_id=self.config.account_id,
                user_arn=self.config.iam_user_arn,
                user_id=self.config.iam_user_id,
            )
        event = build_event(
            request.environ,
            body,
            route=route,
            path_params=params,
            api_id=self.config.api_id,
            account_id=self.config.account_id,
            identity=identity,
        )
        if self.config.on_invoke:
            self.config.on_invoke(route.function, event)
        try:
            result = self.config.invoke(route.function, event)
        except Exception:
            log.exception("%s (%s) raised", route.function, route.route_key)
            return _json(500, {"message": "Internal Server Error"})
        try:
            response = to_response(result)
        except (TypeError, ValueError):
            log.exception("%s returned a malformed response", route.function)
            return _json(500, {"message": "Internal Server Error"})
        if self.config.on_response is not None:
            try:
                self.config.on_response(
                    route.function, route.route_key, event, response.status_code, response.get_data()
                )
            except Exception:
                log.exception("on_response hook failed")
        return response


def read_body(request: Request, limit: int = MAX_PAYLOAD_BYTES) -> bytes | None:
    """The request body, or ``None`` when it is larger than ``limit`` (by its Content-Length, or by
    what a chunked body turns out to hold); an oversized body is not read into memory."""
    length = request.content_length
    if length is not None and length > limit:
        return None
    data = request.stream.read(limit + 1)
    return None if len(data) > limit else data


def _json(status: int, doc: Any) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json")


def raw_path(environ: Mapping[str, Any]) -> str:
    """The path as the client sent it (percent-encoded), without the query string."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    path: str = environ.get("PATH_INFO", "/")
    return path.encode("latin-1").decode("utf-8", "replace")


def _request_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14)) + "A="


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    return bool(_TEXT_TYPES.match(content_type.split(";", 1)[0].strip()))


def build_event(  # noqa: PLR0915 - one flat mapping, easier to compare with the AWS docs
    environ: Mapping[str, Any],
    body: bytes,
    *,
    route: HttpRoute,
    path_params: dict[str, str],
    api_id: str,
    account_id: str,
    identity: sigv4.Identity | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for a WSGI request."""
    now = now or datetime.now(UTC)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        if not value:
            continue
        text = str(value).encode("latin-1").decode("utf-8", "replace")
        if name == "cookie":
            cookies.extend(c.strip() for c in text.split(";") if c.strip())
            continue
        headers[name] = f"{headers[name]},{text}" if name in headers else text
    raw_query = str(environ.get("QUERY_STRING", "")).encode("latin-1").decode("utf-8", "replace")
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    path = unquote(raw_path(environ))
    host = headers.get("host", "localhost")
    domain = host.split(":", 1)[0]
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    source_ip = str(headers.get("x-forwarded-for", "").split(",")[0].strip() or environ.get("REMOTE_ADDR", "127.0.0.1"))
    headers.setdefault("x-forwarded-for", source_ip)
    headers.setdefault("x-forwarded-port", str(environ.get("SERVER_PORT", "")))
    headers.setdefault("x-forwarded-proto", str(environ.get("wsgi.url_scheme", "http")))
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}")
    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": _request_id(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if identity is not None:
        request_context["authorizer"] = {
            "iam": {
                "accessKey": identity.access_key,
                "accountId": identity.account_id,
                "callerId": identity.user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": identity.user_arn,
                "userId": identity.user_id,
            }
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    if path_params:
        event["pathParameters"] = path_params
    if body:
        textual = is_text(headers.get("content-type"))
        if not textual and "content-type" not in headers:
            try:
                body.decode("utf-8")
                textual = True
            except UnicodeDecodeError:
                textual = False
        text = ""
        if textual:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                textual = False  # API Gateway base64-encodes what is not valid UTF-8
        event["body"] = text if textual else base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = not textual
    else:
        event["isBase64Encoded"] = False
    return event


def to_response(result: Any) -> Response:
    """Map a handler's return value to HTTP with API Gateway's payload 2.0 rules."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway assumes 200, JSON, and the result as the body.
        text = result if isinstance(result, str) else json.dumps(result)
        return Response(text, status=200, content_type="application/json")
    status = int(result["statusCode"])
    body = result.get("body")
    data: bytes
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(str(body))
    else:
        data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    response = Response(data, status=status)
    response.headers.remove("Content-Type")
    for name, value in (result.get("headers") or {}).items():
        response.headers[str(name)] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(str(name), str(value))
    for cookie in result.get("cookies") or ():
        response.headers.add("Set-Cookie", str(cookie))
    if data and "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response

"""``python -m qpay_local.replay PATH [PATH…] [--url URL] [--key KEY] [--function LogicalId] [-v]``

Replays event fixtures (JSON files, or folders searched recursively for ``*.json``) like
``sam local invoke`` without Docker: in-process into the handler (a fresh :class:`LocalStack` is started
so the handler has AWS and Checkout.com to talk to), or over HTTP to ``--url``. Each fixture passes only
if it ends as it says it should; anything else is a FAILURE and the exit code is 1.

Which function gets a fixture, first match wins:

1. ``--function LogicalId``;
2. a ``"_meta": {"function": "WebhookFunction"}`` key in the fixture;
3. the fixture's folder name (or any parent folder) matching a function's logical id, ignoring case,
   dashes and a trailing ``Function``/``s``: ``events/refund-tasks/`` → ``RefundTaskFunction``;
4. an API Gateway v2 event (``"version": "2.0"`` + ``routeKey``): the template route with that key;
5. a Checkout.com webhook body (``type`` + ``data``): wrapped into a request to the webhook route;
6. ``{"Records": [...]}`` from ``aws:dynamodb``: the first function with a ``DynamoDB`` event;
   an EventBridge/Scheduler event (``source`` ``aws.events``/``aws.scheduler``): the scheduled function.

``_meta`` (removed before use) says how the replay should end and how to send it:

- ``expect_status``: an HTTP status or a list of them (default: any 2xx);
- ``expect_error``: the exception class name the handler raises (non-HTTP events);
- ``expect_batch_failures``: how many ``batchItemFailures`` the handler reports (default 0);
- ``keep_signature``: send the fixture's ``cko-signature`` as it is (default: re-signed with the key);
- ``headers`` / ``raw_body``: extra request headers / exact bytes for a bare webhook body;
- ``note``: why, for humans.

Webhooks are signed with ``--key`` (in-process: the fresh stack's key). A fixture's merchant key
(``Authorization: Bearer …``) and order token (``X-Order-Token``) are replaced by the stack's own, and
over HTTP IAM routes are signed with SigV4. Over HTTP to a loopback URL the keys and AWS credentials
are those of the running ``make run`` (``.local-state/keys.json``) unless given on the command line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from qpay_local.template import HttpRoute, Template

SIGNATURE_HEADER = "cko-signature"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class NoSuchPath(Exception):
    """A path on the command line is neither a fixture nor a folder."""


@dataclass
class Fixture:
    path: Path
    event: dict[str, Any]
    meta: dict[str, Any]


@dataclass
class Result:
    path: Path
    ok: bool
    detail: str
    body: str = ""
    hint: str = ""


@dataclass
class Credentials:
    """What the replay signs and authenticates with (all optional)."""

    webhook_key: str | None = None
    merchant_key: str | None = None
    order_token_key: str | None = None
    order_token_kid: str | None = None
    aws: Any = None  # botocore Credentials for SigV4
    region: str = "us-east-1"
    extra: dict[str, str] = field(default_factory=dict)


def collect(paths: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*.json") if f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            raise NoSuchPath(str(p))
    return files


def load(path: Path) -> Fixture:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("a fixture must be a JSON object")
    meta = doc.pop("_meta", None) or {}
    return Fixture(path, doc, dict(meta))


def sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def _norm(name: str) -> str:
    n = re.sub(r"[^a-z0-9]", "", name.lower())
    n = n.removesuffix("function")
    return n.removesuffix("s")


def is_apigw_v2(event: dict[str, Any]) -> bool:
    return event.get("version") == "2.0" and "routeKey" in event and "requestContext" in event


def is_webhook_body(event: dict[str, Any]) -> bool:
    return "type" in event and "data" in event and "Records" not in event


def webhook_route(template: Template) -> HttpRoute:
    for r in template.http_routes():
        if "webhook" in r.path.lower():
            return r
    raise LookupError("no webhook route in the template")


def route_for(event: dict[str, Any], template: Template) -> HttpRoute | None:
    for r in template.http_routes():
        if r.route_key == event.get("routeKey"):
            return r
    return None


def resolve_function(fx: Fixture, template: Template, forced: str | None = None) -> str:
    if forced:
        return forced
    if fx.meta.get("function"):
        return str(fx.meta["function"])
    by_norm = {_norm(k): k for k in template.functions()}
    for parent in fx.path.parents:
        hit = by_norm.get(_norm(parent.name))
        if hit:
            return hit
    ev = fx.event
    if is_apigw_v2(ev):
        route = route_for(ev, template)
        if route is None:
            raise LookupError(f"no route {ev['routeKey']!r} in the template")
        return route.function
    if is_webhook_body(ev):
        return webhook_route(template).function
    records = ev.get("Records")
    if isinstance(records, list) and records and records[0].get("eventSource") == "aws:dynamodb":
        (source,) = template.stream_sources()[:1] or (None,)
        if source is not None:
            return source.function
    if ev.get("source") in ("aws.events", "aws.scheduler") or ev.get("detail-type") == "Scheduled Event":
        schedules = template.schedules()
        if schedules:
            return schedules[0].function
    raise LookupError("cannot tell which function this fixture is for: add _meta.function or use --function")


def webhook_event(body: bytes, key: str, route: HttpRoute, extra_headers: dict[str, str]) -> dict[str, Any]:
    """A webhook body as the API Gateway v2 event its POST would produce."""
    now = time.time()
    headers = {"content-type": "application/json", **{k.lower(): v for k, v in extra_headers.items()}}
    headers[SIGNATURE_HEADER] = sign(body, key)
    return {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": route.path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "replay",
            "domainName": "replay.local",
            "domainPrefix": "replay",
            "http": {
                "method": "POST",
                "path": route.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "qpay-local-replay",
            },
            "requestId": f"replay-{int(now * 1000)}",
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body.decode("utf-8"),
        "isBase64Encoded": False,
    }


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    return base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode("utf-8")


def token_claims(token: str) -> dict[str, Any]:
    """The claims segment of a ``x.<claims>.<mac>`` token (v1 or JWT), without checking it."""
    try:
        segment = token.split(".")[1]
        doc = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def mint_order_token(key: str, kid: str | None, claims: dict[str, Any]) -> str:
    """The fixture's order token re-signed with this stack's key — the ONE place that knows the
    product's token format (``qpay.api.auth.mint_order_token``). Same claims (``jti`` included), same
    payment: replaying a fixture twice replays one payment."""
    from qpay.api.auth import mint_order_token as mint  # noqa: PLC0415 - the product's own format

    return mint(
        key,
        kid=kid or "local-1",
        reference=str(claims.get("reference", "")),
        amount=int(claims.get("amount", 0)),
        currency=str(claims.get("currency", "QAR")),
        expires_at=int(time.time()) + 900,  # fresh: a fixture's exp is from the day it was recorded
        jti=str(claims["jti"]) if claims.get("jti") else None,
    )


def prepare_http_event(event: dict[str, Any], fx: Fixture, creds: Credentials) -> dict[str, Any]:
    """Re-sign the webhook signature (unless ``keep_signature``), swap in this stack's merchant key and
    a fresh order token for the request's own body."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if SIGNATURE_HEADER in headers and creds.webhook_key and not fx.meta.get("keep_signature"):
        headers[SIGNATURE_HEADER] = sign(_body_bytes(event), creds.webhook_key)
    if headers.get("authorization", "").startswith("Bearer ") and creds.merchant_key:
        headers["authorization"] = f"Bearer {creds.merchant_key}"
    if "x-order-token" in headers and creds.order_token_key:
        claims = token_claims(headers["x-order-token"])
        if not claims:  # not a token we can read: sign what the body asks for
            try:
                body = json.loads(_body_bytes(event) or b"{}")
            except ValueError:
                body = {}
            claims = body if isinstance(body, dict) else {}
        headers["x-order-token"] = mint_order_token(creds.order_token_key, creds.order_token_kid, claims)
    return {**event, "headers": headers}


def expected_statuses(meta: dict[str, Any]) -> set[int] | None:
    """``None``: any 2xx."""
    raw = meta.get("expect_status")
    if raw is None:
        return None
    return {int(s) for s in (raw if isinstance(raw, list) else [raw])}


def _expect_label(expected: set[int] | None) -> str:
    return "2xx" if expected is None else " or ".join(str(s) for s in sorted(expected))


def status_ok(status: int, meta: dict[str, Any]) -> bool:
    expected = expected_statuses(meta)
    return 200 <= status < 300 if expected is None else status in expected


def hint(status: int, route: HttpRoute | None, over_http: bool) -> str:
    webhook = route is not None and "webhook" in route.path.lower()
    if status == 401 and webhook:
        return "401: is --key the stack's webhook signing key? (make run prints it; .local-state/keys.json)"
    if status == 401:
        where = "--merchant-key or .local-state/keys.json" if over_http else "this run's keys"
        return f"401: the merchant key or order token is not the stack's ({where})"
    if status == 403 and route is not None and route.iam_auth:
        return "403: this route needs SigV4 with the stack's AWS credentials (-v shows API Gateway's reason)"
    if status == 403:
        return "403: the order token does not allow this request (-v shows why)"
    if status == 404:
        return "404: no such payment or route here (a fixture's ids exist only where it was recorded)"
    if status in (409, 422):
        return f"{status}: the request was refused (-v shows the body)"
    if status >= 500:
        return f"{status}: the handler or the gateway failed (see the log above)"
    return ""


def describe_result(fx: Fixture, fn: str, result: Any, route: HttpRoute | None) -> Result:
    meta = fx.meta
    if isinstance(result, dict) and "statusCode" in result:
        status = int(result["statusCode"])
        body = result.get("body") or ""
        if result.get("isBase64Encoded") and body:
            body = base64.b64decode(str(body)).decode("utf-8", "replace")
        outcome = _result_word(str(body))
        ok = status_ok(status, meta)
        detail = f"{fn}: HTTP {status}{outcome}"
        if not ok:
            detail += f" (expected {_expect_label(expected_statuses(meta))})"
        return Result(fx.path, ok, detail, str(body), "" if ok else hint(status, route, over_http=False))
    failures = len(result.get("batchItemFailures") or []) if isinstance(result, dict) else 0
    want_failures = int(meta.get("expect_batch_failures", 0))
    if meta.get("expect_error"):
        return Result(fx.path, False, f"{fn}: returned, expected {meta['expect_error']}", _dump(result))
    if failures != want_failures:
        return Result(fx.path, False, f"{fn}: batchItemFailures={failures} (expected {want_failures})", _dump(result))
    detail = f"{fn}: ok" + (f" (batchItemFailures={failures}, as expected)" if failures else "")
    return Result(fx.path, True, detail, _dump(result))


def describe_error(fx: Fixture, fn: str, exc: Exception) -> Result:
    name = type(exc).__name__
    expected = fx.meta.get("expect_error")
    if expected == name:
        return Result(fx.path, True, f"{fn}: raised {name}, as expected", str(exc))
    want = f" (expected {expected})" if expected else ""
    return Result(fx.path, False, f"{fn}: raised {name}: {exc}{want}", str(exc))


def _result_word(body: str) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    if isinstance(doc, dict):
        for key in ("result", "code", "status"):
            if isinstance(doc.get(key), str):
                return f" ({key}: {doc[key]})"
    return ""


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def replay_in_process(
    fixtures: list[Fixture], template: Template, *, key: str | None, forced: str | None, stack: Any
) -> list[Result]:
    k = stack.local_keys
    creds = Credentials(
        webhook_key=key or k.webhook_signing_key,
        merchant_key=k.merchant_api_key,
        order_token_key=k.order_token_key,
        order_token_kid=k.order_token_kid,
    )
    results: list[Result] = []
    for fx in fixtures:
        fn = "?"
        route: HttpRoute | None = None
        try:
            fn = resolve_function(fx, template, forced)
            event = fx.event
            if is_webhook_body(event) and not is_apigw_v2(event):
                body = json.dumps(event).encode() if "raw_body" not in fx.meta else str(fx.meta["raw_body"]).encode()
                route = webhook_route(template)
                event = webhook_event(body, creds.webhook_key or "", route, fx.meta.get("headers") or {})
            elif is_apigw_v2(event):
                route = route_for(event, template)
                event = prepare_http_event(event, fx, creds)  # IAM routes: the fixture's own authorizer context
            result = stack.invoke(fn, event)
        except Exception as exc:
            results.append(describe_error(fx, fn, exc))
            continue
        results.append(describe_result(fx, fn, result, route))
    return results


def _http_request(
    http: httpx.Client, fx: Fixture, template: Template, creds: Credentials, base_url: str
) -> tuple[httpx.Response, HttpRoute | None]:
    event = fx.event
    if is_webhook_body(event) and not is_apigw_v2(event):
        if not creds.webhook_key:
            raise ValueError("--key is needed to sign webhook bodies")
        hook = webhook_route(template)
        body = json.dumps(event).encode() if "raw_body" not in fx.meta else str(fx.meta["raw_body"]).encode()
        headers = {
            "content-type": "application/json",
            **(fx.meta.get("headers") or {}),
            SIGNATURE_HEADER: sign(body, creds.webhook_key),
        }
        return http.request("POST", hook.path, content=body, headers=headers), hook
    if not is_apigw_v2(event):
        raise ValueError("only API Gateway v2 events and webhook bodies can be replayed over HTTP")
    route = route_for(event, template)
    event = prepare_http_event(event, fx, creds)
    method = event["requestContext"]["http"]["method"]
    headers = {
        k: v
        for k, v in (event.get("headers") or {}).items()
        if k.lower() not in ("host", "content-length", "authorization" if route and route.iam_auth else "")
    }
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    target = event["rawPath"] + (f"?{event['rawQueryString']}" if event.get("rawQueryString") else "")
    body = _body_bytes(event)
    if route is not None and route.iam_auth and creds.aws is not None:
        from qpay_local import sigv4  # noqa: PLC0415

        headers = sigv4.sign_headers(
            method=method,
            url=base_url.rstrip("/") + target,
            body=body,
            credentials=creds.aws,
            region=creds.region,
            headers={k: v for k, v in headers.items() if k.lower() != "x-amz-date"},
        )
    return http.request(method, target, content=body, headers=headers), route


def replay_http(
    fixtures: list[Fixture], template: Template, *, url: str, key: str | None, creds: Credentials | None = None
) -> list[Result]:
    creds = creds or Credentials()
    if key:
        creds.webhook_key = key
    results: list[Result] = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as http:
        for fx in fixtures:
            try:
                resp, route = _http_request(http, fx, template, creds, url)
            except Exception as exc:
                results.append(Result(fx.path, False, f"{type(exc).__name__}: {exc}"))
                continue
            ok = status_ok(resp.status_code, fx.meta)
            detail = f"HTTP {resp.status_code}{_result_word(resp.text)}"
            if not ok:
                detail += f" (expected {_expect_label(expected_statuses(fx.meta))})"
            hint_text = "" if ok else hint(resp.status_code, route, over_http=True)
            results.append(Result(fx.path, ok, detail, resp.text, hint_text))
    return results


def local_credentials(url: str, state_dir: Path | None, keys_file: Path | None) -> Credentials:
    """The running ``make run``'s keys, for a loopback URL (never sent elsewhere)."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        return Credentials()
    from botocore.credentials import Credentials as AwsCredentials  # noqa: PLC0415

    from qpay_local import state  # noqa: PLC0415

    path = state.keys_path(state_dir, keys_file)
    try:
        keys, aws = state.read_keys(path)
    except state.StateError:
        return Credentials()
    return Credentials(
        webhook_key=keys.webhook_signing_key,
        merchant_key=keys.merchant_api_key,
        order_token_key=keys.order_token_key,
        order_token_kid=keys.order_token_kid,
        aws=AwsCredentials(aws.access_key_id, aws.secret_access_key),
        region=aws.region,
    )


def report(results: list[Result], *, verbose: bool) -> int:
    for i, r in enumerate(results, 1):
        print(f"[{i}/{len(results)}] {'ok  ' if r.ok else 'FAIL'} {r.path}  {r.detail}", flush=True)
        if r.hint:
            print(f"        hint: {r.hint}", flush=True)
        if verbose and r.body:
            print("        " + r.body.replace("\n", "\n        "), flush=True)
    ok = sum(r.ok for r in results)
    print(f"\n{ok} ok, {len(results) - ok} failed", flush=True)
    return 0 if ok == len(results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qpay_local.replay",
        description=(__doc__ or "").split("\n\n")[1],
        epilog='example: make replay ARGS="events/WebhookFunction -v"',
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="fixture files or folders (e.g. events/WebhookFunction)"
    )
    parser.add_argument("--url", help="replay over HTTP to this base URL instead of in-process")
    parser.add_argument("--key", help="webhook signing key to (re-)sign webhooks with")
    parser.add_argument("--merchant-key", help="over HTTP: the merchant API key to send")
    parser.add_argument("--order-token-key", help="over HTTP: the key to mint order tokens with")
    parser.add_argument("--state-dir", type=Path, default=None, help="where `make run` keeps its keys")
    parser.add_argument("--keys-file", type=Path, default=None)
    parser.add_argument("--function", help="logical id of the function for every fixture")
    parser.add_argument("--template", default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="print each response body")
    args = parser.parse_args(argv)
    from qpay_local.stack import DEFAULT_TEMPLATE, LocalStack  # noqa: PLC0415

    template = Template(args.template or DEFAULT_TEMPLATE)
    try:
        files = collect(args.paths)
    except NoSuchPath as exc:
        print(f"no such fixture or folder: {exc}", file=sys.stderr)
        return 2
    if not files:
        print(f"no *.json fixtures under {' '.join(args.paths)}", file=sys.stderr)
        return 2
    fixtures: list[Fixture] = []
    results: list[Result] = []
    for f in files:
        try:
            fixtures.append(load(f))
        except Exception as exc:
            results.append(Result(f, False, f"unreadable: {exc}"))
    if args.url:
        creds = local_credentials(args.url, args.state_dir, args.keys_file)
        creds.merchant_key = args.merchant_key or creds.merchant_key
        creds.order_token_key = args.order_token_key or creds.order_token_key
        results += replay_http(fixtures, template, url=args.url, key=args.key, creds=creds)
    else:
        with LocalStack(
            api_port=0, sim_port=0, template=template.path, schedule_interval_s=None, time_scale=0.01
        ) as stack:
            results += replay_in_process(fixtures, template, key=args.key, forced=args.function, stack=stack)
    return report(results, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())

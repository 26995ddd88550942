"""``python -m qpay_local.replay PATH [PATH…] [--url URL] [--key KEY] [--function LogicalId]``

Replays event fixtures (JSON files, or folders searched recursively for ``*.json``) like
``sam local invoke`` without Docker: in-process into the handler (a fresh :class:`LocalStack` is started
so the handler has AWS and Checkout.com to talk to), or over HTTP to ``--url``.

Which function gets a fixture, first match wins:

1. ``--function LogicalId``;
2. a ``"_meta": {"function": "WebhookFunction"}`` key in the fixture (``_meta`` is removed before use;
   ``_meta.headers`` adds request headers for webhook bodies);
3. an API Gateway v2 event (``"version": "2.0"`` + ``routeKey``): the template route with that key;
4. a Checkout.com webhook body (``type`` + ``data``): wrapped into a request to the webhook route and
   signed (``Cko-Signature`` = hex HMAC-SHA256 of the exact body with ``--key`` or the stack's key);
5. ``{"Records": [...]}`` from ``aws:dynamodb``: the function with a ``DynamoDB`` event;
   an EventBridge/Scheduler event (``source`` ``aws.events``/``aws.scheduler``): the scheduled function;
6. the fixture's folder name (or any parent folder) matching a function's logical id, ignoring case,
   dashes and a trailing ``Function``/``s``: ``events/refund-tasks/`` → ``RefundTaskFunction``.

Over HTTP only API Gateway v2 events and webhook bodies can be replayed (they become HTTP requests; a
fixture with a ``cko-signature`` header is re-signed with ``--key``).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from qpay_local.template import HttpRoute, Template

SIGNATURE_HEADER = "cko-signature"


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


def collect(paths: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*.json") if f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(p)
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


def resolve_function(fx: Fixture, template: Template, forced: str | None = None) -> str:
    functions = template.functions()
    if forced:
        return forced
    if fx.meta.get("function"):
        return str(fx.meta["function"])
    ev = fx.event
    if is_apigw_v2(ev):
        for r in template.http_routes():
            if r.route_key == ev["routeKey"]:
                return r.function
        raise LookupError(f"no route {ev['routeKey']!r} in the template")
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
    by_norm = {_norm(k): k for k in functions}
    for parent in fx.path.parents:
        hit = by_norm.get(_norm(parent.name))
        if hit:
            return hit
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


def _resign(event: dict[str, Any], key: str | None) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if key and SIGNATURE_HEADER in headers:
        headers[SIGNATURE_HEADER] = sign(_body_bytes(event), key)
        event = {**event, "headers": headers}
    return event


def _describe(result: Any) -> tuple[bool, str]:
    if isinstance(result, dict) and "statusCode" in result:
        status = int(result["statusCode"])
        return status < 500, f"HTTP {status}"
    if isinstance(result, dict) and result.get("batchItemFailures"):
        return False, f"batchItemFailures={len(result['batchItemFailures'])}"
    return True, "ok"


def replay_in_process(
    fixtures: list[Fixture], template: Template, *, key: str | None, forced: str | None, stack: Any
) -> list[Result]:
    results: list[Result] = []
    for fx in fixtures:
        try:
            fn = resolve_function(fx, template, forced)
            event = fx.event
            if is_webhook_body(event) and not is_apigw_v2(event):
                body = json.dumps(event).encode() if "raw_body" not in fx.meta else str(fx.meta["raw_body"]).encode()
                event = webhook_event(
                    body, key or stack.keys.webhook_signing_key, webhook_route(template), fx.meta.get("headers") or {}
                )
            elif is_apigw_v2(event):
                event = _resign(event, key or stack.keys.webhook_signing_key)
            ok, detail = _describe(stack.invoke(fn, event))
            results.append(Result(fx.path, ok, f"{fn}: {detail}"))
        except Exception as exc:
            results.append(Result(fx.path, False, f"{type(exc).__name__}: {exc}"))
    return results


def replay_http(fixtures: list[Fixture], template: Template, *, url: str, key: str | None) -> list[Result]:
    results: list[Result] = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as http:
        for fx in fixtures:
            try:
                event = fx.event
                if is_webhook_body(event) and not is_apigw_v2(event):
                    if not key:
                        raise ValueError("--key is needed to sign webhook bodies")
                    route = webhook_route(template)
                    body = (
                        json.dumps(event).encode() if "raw_body" not in fx.meta else str(fx.meta["raw_body"]).encode()
                    )
                    headers = {
                        "content-type": "application/json",
                        **(fx.meta.get("headers") or {}),
                        SIGNATURE_HEADER: sign(body, key),
                    }
                    resp = http.request("POST", route.path, content=body, headers=headers)
                elif is_apigw_v2(event):
                    event = _resign(event, key)
                    method = event["requestContext"]["http"]["method"]
                    headers = {
                        k: v
                        for k, v in (event.get("headers") or {}).items()
                        if k.lower() not in ("host", "content-length")
                    }
                    if event.get("cookies"):
                        headers["cookie"] = "; ".join(event["cookies"])
                    target = event["rawPath"] + (f"?{event['rawQueryString']}" if event.get("rawQueryString") else "")
                    resp = http.request(method, target, content=_body_bytes(event), headers=headers)
                else:
                    raise ValueError("only API Gateway v2 events and webhook bodies can be replayed over HTTP")
                results.append(Result(fx.path, resp.status_code < 500, f"HTTP {resp.status_code}"))
            except Exception as exc:
                results.append(Result(fx.path, False, f"{type(exc).__name__}: {exc}"))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qpay_local.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--url", help="replay over HTTP to this base URL instead of in-process")
    parser.add_argument("--key", help="webhook signing key to (re-)sign webhooks with")
    parser.add_argument("--function", help="logical id of the function for every fixture")
    parser.add_argument("--template", default=None)
    args = parser.parse_args(argv)
    from qpay_local.stack import DEFAULT_TEMPLATE, LocalStack  # noqa: PLC0415

    template = Template(args.template or DEFAULT_TEMPLATE)
    files = collect(args.paths)
    fixtures: list[Fixture] = []
    results: list[Result] = []
    for f in files:
        try:
            fixtures.append(load(f))
        except Exception as exc:
            results.append(Result(f, False, f"unreadable: {exc}"))
    if args.url:
        results += replay_http(fixtures, template, url=args.url, key=args.key)
    else:
        with LocalStack(
            api_port=0, sim_port=0, template=template.path, schedule_interval_s=None, time_scale=0.01
        ) as stack:
            results += replay_in_process(fixtures, template, key=args.key, forced=args.function, stack=stack)
    for i, r in enumerate(results, 1):
        print(f"[{i}/{len(results)}] {'ok  ' if r.ok else 'FAIL'} {r.path}  {r.detail}", flush=True)
    ok = sum(r.ok for r in results)
    print(f"\n{ok} ok, {len(results) - ok} failed")
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

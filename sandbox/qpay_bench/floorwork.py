"""The floors: the same work a handler must do, with nothing a handler could do without.

Standard library only at import time (the cold-start child loads this file before anything else of
its kind, and its own imports are part of what it measures). Two floors:

- :class:`BotocoreFloor` — the *honest floor*: the AWS calls the handler made, replayed through a bare
  botocore client built with the product's client settings; each Checkout.com call as a real
  ``http.client.HTTPSConnection`` request (``ssl.create_default_context()``, keep-alive); the webhook
  signature checked with ``hmac``; the request body parsed, the same JSON log lines written (same count,
  same keys, flushed per line as Lambda needs) and the same response body serialised.
- :class:`PhysicalFloor` — the *physical floor*, a reference: the same, but each AWS call is a plain
  HTTPS request signed with SigV4 by a few lines of ``hmac``/``hashlib`` (no botocore at all).

Both read what to do from a spec recorded on the handler's calibration run (see ``qpay_bench.coldstart``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
from typing import Any
from urllib.parse import urlsplit

#: service → (X-Amz-Target prefix, JSON protocol version, SigV4 signing name)
AWS_JSON = {
    "dynamodb": ("DynamoDB_20120810", "1.0", "dynamodb"),
    "secretsmanager": ("secretsmanager", "1.1", "secretsmanager"),
    "stepfunctions": ("AWSStepFunctions", "1.0", "states"),
    "events": ("AWSEvents", "1.1", "events"),
}


class _Https:
    """One keep-alive HTTPS connection per host, as a pooled client keeps it (reconnects when closed)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 443
        self.secure = parts.scheme == "https"
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection: once more, fresh
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.secure:
                if self._context is None:
                    self._context = ssl.create_default_context()
                self._conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=self._context
                )
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Common:
    """Parse, authenticate, call Checkout.com, log, answer: what every floor does besides AWS."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.calls: list[list[Any]] = spec["calls"]
        self.lines: list[dict[str, Any]] = spec.get("log_lines") or []
        self.response: Any = spec.get("response")
        self.signing_keys: list[str] = spec.get("signing_keys") or []
        self.timeout = float(spec.get("timeout_s", 4.0))
        self._checkout: _Https | None = None

    def parse(self, event: Any) -> Any:
        body = event.get("body") if isinstance(event, dict) else None
        if body is None:
            return event
        doc = json.loads(body)
        signature = _header(event, "cko-signature")
        if signature is not None:
            raw = body.encode()
            for key in self.signing_keys:  # the product tries each key (rotation) until one matches
                if hmac.compare_digest(hmac.new(key.encode(), raw, hashlib.sha256).hexdigest(), signature):
                    break
        return doc

    def checkout(self, call: list[Any]) -> Any:
        if self._checkout is None:
            self._checkout = _Https(os.environ["CHECKOUT_BASE_URL"], self.timeout)
        method, _, path = str(call[1]).partition(" ")
        body = call[2].get("body")
        headers = dict(call[3]) if len(call) > 3 else {}
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        _, answer = self._checkout.request(method, path, data, headers)
        return json.loads(answer) if answer else None

    def log(self) -> None:
        out = sys.stdout
        for line in self.lines:
            doc = dict(line)
            if "timestamp" in doc:
                doc["timestamp"] = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
            out.write(json.dumps(doc) + "\n")
            out.flush()

    def answer(self) -> Any:
        response = self.response
        if isinstance(response, dict) and isinstance(response.get("body"), str):
            return {**response, "body": json.dumps(json.loads(response["body"]), separators=(",", ":"))}
        return json.loads(json.dumps(response))

    def run(self, event: Any) -> Any:
        self.parse(event)
        for call in self.calls:
            if call[0] == "checkout":
                self.checkout(call)
            else:
                answer = self.aws(str(call[0]), str(call[1]), call[2])
                if call[1] == "GetSecretValue":
                    json.loads(answer["SecretString"])
        self.log()
        return self.answer()

    def aws(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class BotocoreFloor(_Common):
    """AWS through bare botocore clients with the product's client configuration."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec)
        self._clients: dict[str, Any] = {}
        self._session: Any = None

    def aws(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        client = self._clients.get(service)
        if client is None:
            import botocore.session  # noqa: PLC0415 - the floor's import cost is part of its cold start
            from botocore.config import Config  # noqa: PLC0415

            if self._session is None:
                self._session = botocore.session.get_session()
            client = self._clients[service] = self._session.create_client(
                service, config=Config(**self.spec["botocore_config"])
            )
        from botocore import xform_name  # noqa: PLC0415 - already imported with the client

        answer: dict[str, Any] = getattr(client, xform_name(operation))(**params)
        return answer


class PhysicalFloor(_Common):
    """AWS as plain HTTPS requests signed with SigV4 in a few lines of the standard library."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec)
        self._conns: dict[str, _Https] = {}
        self.region = os.environ.get("AWS_REGION", "us-east-1")
        self.access_key = os.environ["AWS_ACCESS_KEY_ID"]
        self.secret_key = os.environ["AWS_SECRET_ACCESS_KEY"]
        self.token = os.environ.get("AWS_SESSION_TOKEN")

    def aws(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        prefix, version, signing = AWS_JSON[service]
        conn = self._conns.get(service)
        if conn is None:
            endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"https://{service}.{self.region}.amazonaws.com"
            conn = self._conns[service] = _Https(endpoint, self.timeout)
        body = json.dumps(params, separators=(",", ":")).encode()
        host = conn.host if conn.port in (443, 80) else f"{conn.host}:{conn.port}"
        headers = {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": f"{prefix}.{operation}"}
        headers.update(
            sign("POST", host, "/", headers, body, region=self.region, service=signing,
                 access_key=self.access_key, secret_key=self.secret_key, token=self.token)
        )  # fmt: skip
        status, data = conn.request("POST", "/", body, headers)
        answer: dict[str, Any] = json.loads(data) if data else {}
        if status >= 400:
            raise RuntimeError(f"{service}.{operation}: HTTP {status} {answer}")
        return answer


def sign(
    method: str,
    host: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    region: str,
    service: str,
    access_key: str,
    secret_key: str,
    token: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers SigV4 adds to a request without a query string (``Authorization``, ``X-Amz-Date``,
    ``X-Amz-Security-Token``): canonical request → string to sign → HMAC chain → signature."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    added = {"X-Amz-Date": stamp}
    if token:
        added["X-Amz-Security-Token"] = token
    canonical_headers = {k.lower(): " ".join(v.split()) for k, v in {**headers, **added, "Host": host}.items()}
    names = sorted(canonical_headers)
    payload = hashlib.sha256(body).hexdigest()
    canonical = "\n".join(
        [method, path, "", *(f"{n}:{canonical_headers[n]}" for n in names), "", ";".join(names), payload]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return added


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def make(mode: str, spec: dict[str, Any]) -> _Common:
    return BotocoreFloor(spec) if mode == "floor" else PhysicalFloor(spec)


__all__ = ["BotocoreFloor", "PhysicalFloor", "make", "sign"]

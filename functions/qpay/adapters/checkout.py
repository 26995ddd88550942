"""Checkout.com payments API client on urllib3.

Every call has a connect and read timeout, an overall deadline that also bounds the last attempt,
bounded retries with full jitter on transient failures (timeouts, connection errors, 409/429 "in flight /
slow down", 5xx) and, for writes, a ``Cko-Idempotency-Key`` so a retry after a lost response never
creates or refunds twice. Checkout's error envelope becomes typed exceptions; a 2xx whose body is not
JSON is an unavailable upstream, never a success. Request bodies are never logged (they carry the
national ID).

Why urllib3 and not httpx here: botocore already imports urllib3, so the hot path pays nothing more at
cold start, where httpx costs ~100 ms (``make bench``). httpx stays in the tools that use its features
(the smoke test, the local stack's clients, the simulator's webhook sender).
"""

from __future__ import annotations

import json
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from qpay.observability import logger as log

RETRYABLE_STATUS = frozenset({409, 429, 500, 502, 503, 504})


class CheckoutError(Exception):
    """Base class for Checkout.com failures."""


@dataclass
class CheckoutRejected(CheckoutError):
    """A 4xx Checkout.com will answer the same way however often we retry."""

    status: int
    error_type: str | None = None
    error_codes: list[str] = field(default_factory=list)
    request_id: str | None = None

    def __str__(self) -> str:
        return f"Checkout.com answered {self.status} {self.error_type or ''} {','.join(self.error_codes)}"


class CheckoutNotFound(CheckoutRejected):
    pass


@dataclass
class CheckoutUnavailable(CheckoutError):
    """Still failing after bounded retries: unreachable, timing out, rate limiting, 5xx, or not JSON."""

    last_status: int | None
    attempts: int
    reason: str = ""

    def __str__(self) -> str:
        return f"Checkout.com unavailable after {self.attempts} attempts ({self.reason or self.last_status})"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


class CheckoutClient:
    def __init__(
        self,
        base_url: str,
        secret_key: Callable[[], str],
        *,
        connect_timeout_s: float = 1.5,
        timeout_s: float = 4.0,
        max_attempts: int = 3,
        deadline_s: float = 12.0,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_key = secret_key
        self._max_attempts = max_attempts
        self._deadline_s = deadline_s
        self._connect_s = connect_timeout_s
        self._read_s = timeout_s
        self._base = backoff_base_s
        self._cap = backoff_cap_s
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        parts = urlsplit(base_url)
        self._prefix = parts.path.rstrip("/")
        kwargs: dict[str, Any] = {"maxsize": 10, "block": False, "retries": False}
        if parts.scheme == "https":
            kwargs["ssl_context"] = ssl.create_default_context()  # honours SSL_CERT_FILE
        self._pool = urllib3.connection_from_url(f"{parts.scheme}://{parts.netloc}", **kwargs)
        self._headers = {"Accept": "application/json", "User-Agent": "qpay-aws/0.2"}
        self.calls = 0  # HTTP requests sent, retries included (round-trip accounting)

    # --- API -----------------------------------------------------------------------------------
    def create_payment(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._object(self._request("POST", "/payments", body, idempotency_key))

    def get_payment(self, payment_or_session_id: str) -> dict[str, Any]:
        return self._object(self._request("GET", f"/payments/{quote(payment_or_session_id, safe='')}"))

    def get_payments_by_reference(self, reference: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Checkout's payments carrying this reference (``GET /payments?reference=``), newest first."""
        doc = self._object(self._request("GET", "/payments?" + urlencode({"reference": reference, "limit": limit})))
        data = doc.get("data")
        return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []

    def get_actions(self, cko_payment_id: str) -> list[dict[str, Any]]:
        doc = self._decode(self._request("GET", f"/payments/{quote(cko_payment_id, safe='')}/actions"), default=[])
        if not isinstance(doc, list):
            raise CheckoutUnavailable(200, 1, "actions are not a JSON array")
        return [a for a in doc if isinstance(a, dict)]

    def refund(self, cko_payment_id: str, *, amount: int, reference: str, idempotency_key: str) -> dict[str, Any]:
        body = {"amount": amount, "reference": reference}
        path = f"/payments/{quote(cko_payment_id, safe='')}/refunds"
        return self._object(self._request("POST", path, body, idempotency_key))

    def close(self) -> None:
        self._pool.close()

    # --- transport -----------------------------------------------------------------------------
    def _object(self, answer: Answer) -> dict[str, Any]:
        doc = self._decode(answer, default={})
        if not isinstance(doc, dict):
            raise CheckoutUnavailable(answer.status, 1, "response is not a JSON object")
        return doc

    @staticmethod
    def _decode(answer: Answer, *, default: Any) -> Any:
        if not answer.body:
            return default
        try:
            return json.loads(answer.body)
        except ValueError:  # a proxy's HTML page behind a 2xx: not an answer from Checkout
            raise CheckoutUnavailable(answer.status, 1, "response is not JSON") from None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, idem: str | None = None) -> Answer:
        headers = {**self._headers, "Authorization": f"Bearer {self._secret_key()}"}
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if idem:
            headers["Cko-Idempotency-Key"] = idem
        started = self._clock()
        last_status: int | None = None
        reason = ""
        attempt = 0
        while attempt < self._max_attempts:
            left = self._deadline_s - (self._clock() - started)
            if left < min(self._connect_s, 0.5):
                reason = reason or "deadline"
                break
            attempt += 1
            retry_after: float | None = None
            timeout = urllib3.Timeout(connect=min(self._connect_s, left), read=min(self._read_s, left), total=left)
            try:
                self.calls += 1
                response = self._pool.urlopen(
                    method,
                    self._prefix + path,
                    body=payload,
                    headers=headers,
                    timeout=timeout,
                    retries=False,
                    redirect=False,
                    preload_content=True,
                )
            except urllib3.exceptions.TimeoutError:
                reason, last_status = "timeout", None
            except urllib3.exceptions.HTTPError as exc:
                reason, last_status = f"connection error: {type(exc).__name__}", None
            else:
                last_status = response.status
                log.debug("checkout call", extra={"method": method, "path": _redact(path), "status": last_status})
                answer = Answer(
                    response.status, response.data or b"", {k.lower(): v for k, v in response.headers.items()}
                )
                if response.status < 400:
                    return answer
                if response.status not in RETRYABLE_STATUS:
                    raise _rejected(answer)
                reason = f"HTTP {response.status}"
                retry_after = _retry_after(answer)
            delay = self._backoff(attempt, retry_after)
            if attempt >= self._max_attempts or self._clock() - started + delay > self._deadline_s:
                break
            log.warning("checkout retry", extra={"path": _redact(path), "attempt": attempt, "reason": reason})
            self._sleep(delay)
        raise CheckoutUnavailable(last_status, attempt, reason)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        jittered = self._rng.uniform(0, min(self._cap, self._base * 2 ** (attempt - 1)))
        if retry_after is not None:
            return min(max(jittered, retry_after), self._cap)
        return jittered


def _rejected(answer: Answer) -> CheckoutRejected:
    error_type, codes, request_id = None, [], answer.headers.get("cko-request-id")
    try:
        doc = json.loads(answer.body) if answer.body else {}
    except ValueError:
        doc = {}
    if isinstance(doc, dict):
        error_type = doc.get("error_type") if isinstance(doc.get("error_type"), str) else None
        raw_codes = doc.get("error_codes")
        codes = [str(c) for c in raw_codes] if isinstance(raw_codes, list) else []
        request_id = doc.get("request_id") if isinstance(doc.get("request_id"), str) else request_id
    cls = CheckoutNotFound if answer.status == 404 else CheckoutRejected
    return cls(answer.status, error_type, codes, request_id)


def _retry_after(answer: Answer) -> float | None:
    try:
        return float(answer.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _redact(path: str) -> str:
    # session ids are bearer-like for 15 minutes: keep only their prefix in logs
    parts = path.split("/")
    return "/".join(p[:8] + "…" if p.startswith("sid_") else p for p in parts)

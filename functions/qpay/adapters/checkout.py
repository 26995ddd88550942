"""Checkout.com payments API client on httpx.

Every call has a connect and read timeout, an overall deadline, bounded retries with full jitter on
transient failures (timeouts, connection errors, 409/429 "in flight / slow down", 5xx) and, for writes,
a ``Cko-Idempotency-Key`` so a retry after a lost response never creates or refunds twice. Checkout's
error envelope becomes typed exceptions. Request bodies are never logged (they carry the national ID).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

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
    """Still failing after bounded retries: unreachable, timing out, rate limiting or 5xx."""

    last_status: int | None
    attempts: int
    reason: str = ""

    def __str__(self) -> str:
        return f"Checkout.com unavailable after {self.attempts} attempts ({self.reason or self.last_status})"


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
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._secret_key = secret_key
        self._max_attempts = max_attempts
        self._deadline_s = deadline_s
        self._base = backoff_base_s
        self._cap = backoff_cap_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "qpay-aws/0.1"},
        )
        self.calls = 0  # HTTP requests sent, retries included (round-trip accounting)

    # --- API -----------------------------------------------------------------------------------
    def create_payment(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._json("POST", "/payments", body, idempotency_key)

    def get_payment(self, payment_or_session_id: str) -> dict[str, Any]:
        return self._json("GET", f"/payments/{payment_or_session_id}")

    def get_actions(self, cko_payment_id: str) -> list[dict[str, Any]]:
        result = self._request("GET", f"/payments/{cko_payment_id}/actions")
        doc = result.json() if result.content else []
        return doc if isinstance(doc, list) else []

    def refund(self, cko_payment_id: str, *, amount: int, reference: str, idempotency_key: str) -> dict[str, Any]:
        body = {"amount": amount, "reference": reference}
        return self._json("POST", f"/payments/{cko_payment_id}/refunds", body, idempotency_key)

    def close(self) -> None:
        self._http.close()

    # --- transport -----------------------------------------------------------------------------
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, idem: str | None = None
    ) -> dict[str, Any]:
        response = self._request(method, path, body, idem)
        doc = response.json() if response.content else {}
        if not isinstance(doc, dict):
            raise CheckoutUnavailable(response.status_code, 1, "unexpected response body")
        return doc

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, idem: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._secret_key()}"}
        if idem:
            headers["Cko-Idempotency-Key"] = idem
        started = time.monotonic()
        last_status: int | None = None
        reason = ""
        attempt = 0
        while attempt < self._max_attempts:
            attempt += 1
            retry_after: float | None = None
            try:
                self.calls += 1
                response = self._http.request(method, path, json=body, headers=headers)
            except httpx.TimeoutException:
                reason, last_status = "timeout", None
            except httpx.TransportError as exc:
                reason, last_status = f"connection error: {type(exc).__name__}", None
            else:
                last_status = response.status_code
                log.debug("checkout call", extra={"method": method, "path": _redact(path), "status": last_status})
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRYABLE_STATUS:
                    raise _rejected(response)
                reason = f"HTTP {response.status_code}"
                retry_after = _retry_after(response)
            delay = self._backoff(attempt, retry_after)
            if attempt >= self._max_attempts or time.monotonic() - started + delay > self._deadline_s:
                break
            log.warning("checkout retry", extra={"path": _redact(path), "attempt": attempt, "reason": reason})
            self._sleep(delay)
        raise CheckoutUnavailable(last_status, attempt, reason)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        jittered = self._rng.uniform(0, min(self._cap, self._base * 2 ** (attempt - 1)))
        if retry_after is not None:
            return min(max(jittered, retry_after), self._cap)
        return jittered


def _rejected(response: httpx.Response) -> CheckoutRejected:
    error_type, codes, request_id = None, [], None
    try:
        doc = response.json() if response.content else {}
    except ValueError:
        doc = {}
    if isinstance(doc, dict):
        error_type = doc.get("error_type")
        codes = [str(c) for c in doc.get("error_codes") or []]
        request_id = doc.get("request_id")
    cls = CheckoutNotFound if response.status_code == 404 else CheckoutRejected
    return cls(response.status_code, error_type, codes, request_id)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _redact(path: str) -> str:
    # session ids are bearer-like for 15 minutes: keep only their prefix in logs
    parts = path.split("/")
    return "/".join(p[:8] + "…" if p.startswith("sid_") else p for p in parts)

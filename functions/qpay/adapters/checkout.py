"""Checkout.com payments API client on urllib3.

Every call has a connect and read timeout, an overall deadline that also bounds the last attempt,
bounded retries with full jitter on transient failures (timeouts, connection errors, 409/429 "in flight /
slow down", 5xx) and, for writes, a ``Cko-Idempotency-Key``.

A refund POST is retried only where Checkout.com cannot have processed it (the connection never opened,
429 "slow down", 409 "a request with this key is in flight"). Checkout saves no idempotent result for a
request it "could not process" and processes a repeat "as normal", so after a 5xx, a read timeout or a
dropped connection a repeat can refund twice: those raise :class:`CheckoutOutcomeUnknown` at once
(https://www.checkout.com/docs/payments/manage-payments/idempotency; shared/reviews/fidelity.md F-2). Checkout's error envelope becomes typed exceptions; a 2xx whose body is not
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


class CheckoutListIncomplete(CheckoutError):
    """A list read stopped before its end: absence from it proves nothing."""


@dataclass
class CheckoutUnavailable(CheckoutError):
    """Still failing after bounded retries: unreachable, timing out, rate limiting, 5xx, or not JSON."""

    last_status: int | None
    attempts: int
    reason: str = ""

    def __str__(self) -> str:
        return f"Checkout.com unavailable after {self.attempts} attempts ({self.reason or self.last_status})"


class CheckoutOutcomeUnknown(CheckoutUnavailable):
    """A write that may have been processed (5xx, read timeout, dropped connection, an answer that is not
    JSON): never repeated blindly; the caller finds out what Checkout.com did by other means."""

    def __str__(self) -> str:
        return f"Checkout.com may have processed the request ({self.reason or self.last_status})"


#: Failures after which Checkout.com cannot have processed the request: safe to send again.
NOT_PROCESSED_STATUS = frozenset({409, 429})


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

    def get_payments_by_reference(
        self, reference: str, *, limit: int = 100, max_pages: int = 5
    ) -> list[dict[str, Any]]:
        """Every payment Checkout holds with this reference (``GET /payments?reference=``, Beta), newest
        first, page by page (``limit`` ≤ 100, ``skip``) up to ``total_count``. :class:`CheckoutListIncomplete`
        when more remain after ``max_pages``: the caller must not conclude that a payment is absent."""
        found: list[dict[str, Any]] = []
        for page in range(max_pages):
            query = urlencode({"reference": reference, "limit": limit, "skip": page * limit})
            doc = self._object(self._request("GET", "/payments?" + query))
            data = doc.get("data")
            rows = [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []
            found += rows
            total = doc.get("total_count")
            if len(rows) < limit or (isinstance(total, int) and len(found) >= total):
                return found
        raise CheckoutListIncomplete(f"more than {len(found)} payments carry this reference")

    def get_actions(self, cko_payment_id: str) -> list[dict[str, Any]]:
        doc = self._decode(self._request("GET", f"/payments/{quote(cko_payment_id, safe='')}/actions"), default=[])
        if not isinstance(doc, list):
            raise CheckoutUnavailable(200, 1, "actions are not a JSON array")
        return [a for a in doc if isinstance(a, dict)]

    def refund(self, cko_payment_id: str, *, amount: int, reference: str, idempotency_key: str) -> dict[str, Any]:
        """POST one refund. :class:`CheckoutUnavailable`: not processed, safe to ask again;
        :class:`CheckoutOutcomeUnknown`: it may exist at Checkout; :class:`CheckoutRejected`: refused."""
        body = {"amount": amount, "reference": reference}
        path = f"/payments/{quote(cko_payment_id, safe='')}/refunds"
        answer = self._request("POST", path, body, idempotency_key, maybe_processed_is_final=True)
        try:
            return self._object(answer)
        except CheckoutUnavailable as exc:  # a 2xx that is not Checkout's answer: it may have gone through
            raise CheckoutOutcomeUnknown(exc.last_status, exc.attempts, exc.reason) from None

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

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idem: str | None = None,
        *,
        maybe_processed_is_final: bool = False,
    ) -> Answer:
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
            outcome = self._send(method, path, payload, headers, timeout)
            if isinstance(outcome, Answer):
                if outcome.status < 400:
                    return outcome
                if outcome.status not in RETRYABLE_STATUS:
                    raise _rejected(outcome)
                last_status, reason = outcome.status, f"HTTP {outcome.status}"
                sent = outcome.status not in NOT_PROCESSED_STATUS
                retry_after = _retry_after(outcome)
            else:
                last_status, (reason, sent) = None, outcome
            if maybe_processed_is_final and sent:
                raise CheckoutOutcomeUnknown(last_status, attempt, reason)
            delay = self._backoff(attempt, retry_after)
            if attempt >= self._max_attempts or self._clock() - started + delay > self._deadline_s:
                break
            log.warning("checkout retry", extra={"path": _redact(path), "attempt": attempt, "reason": reason})
            self._sleep(delay)
        if maybe_processed_is_final and last_status == 409:  # the request in flight with our key may succeed
            raise CheckoutOutcomeUnknown(last_status, attempt, reason)
        raise CheckoutUnavailable(last_status, attempt, reason)

    def _send(
        self, method: str, path: str, payload: bytes | None, headers: dict[str, str], timeout: urllib3.Timeout
    ) -> Answer | tuple[str, bool]:
        """One attempt: Checkout's answer, or why there was none and whether the request may have been
        processed (False only when the connection never opened: nothing was sent)."""
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
        except urllib3.exceptions.ConnectTimeoutError as exc:  # NewConnectionError too: nothing was sent
            return f"connection error: {type(exc).__name__}", False
        except urllib3.exceptions.TimeoutError:
            return "timeout", True
        except urllib3.exceptions.HTTPError as exc:
            return f"connection error: {type(exc).__name__}", True
        log.debug("checkout call", extra={"method": method, "path": _redact(path), "status": response.status})
        return Answer(response.status, response.data or b"", {k.lower(): v for k, v in response.headers.items()})

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

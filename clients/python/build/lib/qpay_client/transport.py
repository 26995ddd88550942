"""The transport under every call: a timeout per attempt (set on the client), and bounded retries with
jitter for what is safe to repeat (a GET, or a request carrying an ``Idempotency-Key``: the API answers a
repeat with the first answer)."""

from __future__ import annotations

import random
import time

import httpx

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})


class RetryTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        max_attempts: int = 3,
        base_delay_s: float = 0.25,
        sleep: object = time.sleep,
    ) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self.max_attempts = max(1, max_attempts)
        self.base_delay_s = base_delay_s
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        repeatable = request.method == "GET" or "idempotency-key" in request.headers
        attempt = 1
        while True:
            last = not repeatable or attempt >= self.max_attempts
            try:
                response = self._inner.handle_request(request)
            except httpx.TransportError:
                if last:
                    raise
            else:
                if last or response.status_code not in RETRYABLE_STATUS:
                    return response
                response.read()
                response.close()
            delay = random.uniform(0, self.base_delay_s * 2 ** (attempt - 1))  # full jitter
            self._sleep(delay)  # type: ignore[operator]
            attempt += 1

    def close(self) -> None:
        self._inner.close()

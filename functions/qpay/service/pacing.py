"""A token bucket shared by threads: at most ``rate`` acquisitions per second on average, ``burst`` at once.

The reconciliation paces its Checkout.com reads with it so that a run, however many payments it covers,
stays inside the read budget it is given: Checkout.com publishes 100 requests per second for reads per
account, shared with the live paths (https://checkout.com/docs/developer-resources/api/api-rate-limits;
shared/reviews/fidelity.md S6). The clock and the sleep are injected, so tests need no real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock, self._sleep = clock, sleep
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self.waited_s = 0.0  # total time callers were told to wait (for the report)

    def _reserve(self) -> float:
        """Take a token (going into debt if none is left) and say how long to wait for it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited_s += wait
            return wait

    def acquire(self) -> None:
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)

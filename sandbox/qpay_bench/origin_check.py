"""Micro-benchmark of the origin-verify check's per-request cost (docs/deploy.md, "Edge latency").

``PYTHONPATH=functions:sandbox:. .venv/bin/python -m qpay_bench.origin_check``

What a warm request behind the edge pays in the function: find the header, compare it with the cached
current and previous values (``hmac.compare_digest`` against both), and the refusal path for a stranger
(no secret read: the reread is rate-limited). The secret is read once per container (one
``GetSecretValue`` at cold start, not measured here: a network round trip in the region). Prints the
median of several repeats in microseconds per check; never asserted anywhere (timing depends on the
machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import timeit
from collections.abc import Callable
from typing import Any

from qpay.adapters.origin_secret import OriginSecret
from qpay.api.origin import OriginCheck
from qpay.domain.errors import Forbidden

CURRENT = "c" * 64
PREVIOUS = "p" * 64
HEADERS = {
    "content-type": "application/json",
    "user-agent": "Amazon CloudFront",
    "via": "2.0 0123456789abcdef.cloudfront.net (CloudFront)",
    "x-amz-cf-id": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ==",
    "x-forwarded-for": "203.0.113.10, 130.176.0.1",
    "x-forwarded-proto": "https",
    "authorization": "Bearer " + "k" * 43,
    "idempotency-key": "ORD-1001",
}


class _Secrets:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": json.dumps({"current": CURRENT, "previous": PREVIOUS})}


def _event(value: str | None) -> dict[str, Any]:
    headers = dict(HEADERS)
    if value is not None:
        headers["x-origin-verify"] = value
    return {"headers": headers}


def measure(number: int = 20_000, repeat: int = 7) -> dict[str, float]:
    """Median microseconds per check: {case: us}."""
    client = _Secrets()
    check = OriginCheck(OriginSecret(lambda: client, "bench", 300).values)
    disabled = OriginCheck(None)

    def refused(event: dict[str, Any]) -> None:
        with contextlib.suppress(Forbidden):
            check.verify(event)

    cases: dict[str, Callable[[], None]] = {
        "off (no edge)": lambda: disabled.verify(_CURRENT_EVENT),
        "current value": lambda: check.verify(_CURRENT_EVENT),
        "previous value": lambda: check.verify(_PREVIOUS_EVENT),
        "wrong value (403)": lambda: refused(_WRONG_EVENT),
        "no header (403)": lambda: refused(_NO_HEADER_EVENT),
    }
    out: dict[str, float] = {}
    # a refusal writes its metric line (EMF) to stdout, as in Lambda: part of the cost, not of the report
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for name, fn in cases.items():
            fn()  # warm: the first call reads the (fake) secret
            runs = timeit.repeat(fn, number=number, repeat=repeat)
            out[name] = statistics.median(runs) / number * 1e6
    return out


_CURRENT_EVENT = _event(CURRENT)
_PREVIOUS_EVENT = _event(PREVIOUS)
_WRONG_EVENT = _event("w" * 64)
_NO_HEADER_EVENT = _event(None)


def main() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "QPayBench")
    for name, us in measure().items():
        print(f"origin check, {name:18}: {us:6.2f} us per request")


if __name__ == "__main__":
    main()

"""The load generator, in its own process: ``python -m qpay_bench.loadgen spec.json out.json``.

Each of ``clients`` threads keeps one HTTP client (keep-alive) for all its payments and plays the
storefront and the shopper over HTTP only: create the payment (merchant key), submit the simulator's
hosted QPay page as the browser would, follow the redirect back to our return route, read the status.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CARD = {"card_number": "4215375500883243", "expiry": "12/30", "pin": "123456", "action": "pay"}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    api: str = spec["api"]
    auth = {"Authorization": f"Bearer {spec['merchant_key']}"}
    started_at = time.monotonic()
    deadline = started_at + float(spec["deadline_s"])
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def client() -> httpx.Client:
        http: httpx.Client | None = getattr(local, "http", None)
        if http is None:
            http = local.http = httpx.Client(timeout=60)
        return http

    def timed(route: str, fn: Any) -> httpx.Response:
        t = time.monotonic()
        response: httpx.Response = fn()
        with lock:
            latencies[route].append(time.monotonic() - t)
        return response

    def fail(i: int, what: str, response: httpx.Response) -> str:
        with lock:
            if len(errors) < 20:
                errors.append(f"payment {i}: {what} -> {response.status_code} {response.text[:200]}")
        return ""

    def one(i: int) -> str | None:
        if time.monotonic() > deadline:
            return None  # the deadline stopped the run before this payment started
        http = client()
        body = {"reference": f"{spec.get('prefix', 'LOAD')}-{i}-{uuid.uuid4().hex[:6]}", "amount": 1000 + i, "currency": "QAR",
                "description": "load", "language": "en", "quantity": 1, "national_id": "28763400000"}  # fmt: skip
        headers = {**auth, "Idempotency-Key": f"load-{i}-{uuid.uuid4().hex}"}
        r = timed("POST /payments", lambda: http.post(f"{api}/payments", json=body, headers=headers))
        if r.status_code != 201:
            return fail(i, "create", r)
        payment = r.json()
        page = payment["redirect_url"]
        pun = parse_qs(urlsplit(page).query).get("pun", [""])[0]
        r = timed("POST QPay page (simulator)", lambda: http.post(page, data={**CARD, "pun": pun}))
        if r.status_code != 303:
            return fail(i, "QPay page", r)
        back = r.headers["Location"]
        r = timed("GET /payments/return/success", lambda: http.get(back))
        if r.status_code != 303:
            return fail(i, "return", r)
        r = timed("GET /payments/{id}", lambda: http.get(f"{api}/payments/{payment['id']}", headers=auth))
        if r.status_code != 200:
            return fail(i, "status", r)
        return str(payment["id"])

    with ThreadPoolExecutor(int(spec["clients"])) as pool:
        outcomes = list(pool.map(one, range(int(spec["payments"]))))
    times = os.times()
    return {
        "ids": [o for o in outcomes if o],
        "started": sum(1 for o in outcomes if o is not None),
        "seconds": time.monotonic() - started_at,
        "latencies": latencies,
        "errors": errors,
        "cpu_s": times.user + times.system,
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    result = run(spec)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

"""One payment against a deployed stack (opt-in): ``make smoke URL=<ApiUrl output> KEY=<merchant API key>``.

Checks what can be checked without a shopper: the stack answers, reaches Checkout.com (the sandbox, for a
dev stack) with the keys in its secret, and refuses what it must refuse.

1. ``POST /payments`` with the merchant key -> 201 with an https ``redirect_url`` (the QPay page).
2. ``GET /payments/{id}`` with the merchant key -> 200, the same payment, not final.
3. ``POST /webhooks/checkout`` without a signature -> 401 (nothing is applied).
4. ``POST /payments/{id}/refunds`` without SigV4 -> 403 (API Gateway's IAM authorizer).

It cannot pay: paying needs a person on the real QPay page (it prints the URL to open; the sandbox's
test card then moves the payment, and the webhook and return confirm it). Exit status 0 only when
every check passed.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

#: A synthetic Qatari ID (11 digits) accepted by the sandbox; never a real person's.
SANDBOX_NATIONAL_ID = "28763400000"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        doc = response.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def run(base_url: str, merchant_key: str, *, amount: int = 100, http: httpx.Client | None = None) -> list[Check]:
    base = base_url.rstrip("/")
    client = http or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
    checks: list[Check] = []
    auth = {"Authorization": f"Bearer {merchant_key}"}
    scheme = "https://" if base.startswith("https://") else "http"  # a deployed stack redirects to https only

    def check(name: str, ok: bool, detail: str) -> bool:
        checks.append(Check(name, ok, detail))
        return ok

    def guarded(name: str, fn: Callable[[], bool]) -> bool:
        try:
            return fn()
        except httpx.HTTPError as exc:
            return check(name, False, f"{type(exc).__name__}: {exc}")

    reference = f"SMOKE-{uuid.uuid4().hex[:10]}"
    body = {
        "reference": reference,
        "amount": amount,
        "currency": "QAR",
        "description": "Smoke test",
        "language": "en",
        "quantity": 1,
        "national_id": SANDBOX_NATIONAL_ID,
    }
    payment: dict[str, Any] = {}

    def create() -> bool:
        r = client.post(f"{base}/payments", json=body, headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        payment.update(_json(r))
        redirect = str(payment.get("redirect_url", ""))
        return check(
            "create",
            r.status_code == 201 and redirect.startswith(scheme) and bool(payment.get("id")),
            f"{r.status_code} id={payment.get('id')} redirect_url={redirect or r.text[:300]}",
        )

    if not guarded("create", create):
        return checks
    pid = str(payment["id"])

    def get() -> bool:
        r = client.get(f"{base}/payments/{pid}", headers=auth)
        doc = _json(r)
        return check(
            "get",
            r.status_code == 200 and doc.get("id") == pid and doc.get("reference") == reference,
            f"{r.status_code} status={doc.get('status')}",
        )

    def unsigned_webhook() -> bool:
        event = {"id": f"evt_smoke_{uuid.uuid4().hex[:12]}", "type": "payment_captured", "data": {"id": "pay_smoke"}}
        r = client.post(
            f"{base}/webhooks/checkout", content=json.dumps(event), headers={"Content-Type": "application/json"}
        )
        return check("unsigned webhook refused", r.status_code == 401, str(r.status_code))

    def unsigned_refund() -> bool:
        r = client.post(
            f"{base}/payments/{pid}/refunds",
            json={"amount": amount, "reason": "smoke"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        return check("unsigned refund refused", r.status_code == 403, str(r.status_code))

    guarded("get", get)
    guarded("unsigned webhook refused", unsigned_webhook)
    guarded("unsigned refund refused", unsigned_refund)
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test a deployed QPay stack (one sandbox payment)")
    parser.add_argument("--url", required=True, help="the stack's ApiUrl output")
    parser.add_argument("--key", required=True, help="a merchant API key from the secret")
    parser.add_argument("--amount", type=int, default=100, help="minor units (QAR dirhams), default 100")
    args = parser.parse_args(argv)
    if not args.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        parser.error("--url must be the https ApiUrl output")
    checks = run(args.url, args.key, amount=args.amount)
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
    failed = [c for c in checks if not c.ok]
    if not failed and checks:
        create = checks[0].detail.split("redirect_url=", 1)[-1]
        print(f"\nTo finish by hand: open {create} and pay with the sandbox's QPay test card.")
    return 1 if failed or len(checks) < 4 else 0


if __name__ == "__main__":
    sys.exit(main())

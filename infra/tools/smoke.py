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

Options for a stack behind the edge and for its alarms (they need AWS credentials: boto3):

- ``--origin-url https://<OriginDomainName>``: 5. the origin refuses a request that did not come through
  CloudFront (no ``x-origin-verify``): the status read of check 2, straight to the origin -> 403.
- ``--latency N`` (with ``--origin-url`` and ``--origin-verify-secret <OriginVerifySecretArn>``):
  6. N status reads of the smoke payment through the edge and N straight to the origin (with the header
  CloudFront would add), interleaved; prints the medians and p90s and what the edge adds. Measured from
  where it runs: run it from where shoppers are (Qatar) for a figure that means something.
- ``--stack <name>``: 7. an alarm reaches the alarm topic (infra/tools/alarm_check.py: the KMS key policy,
  a temporary queue on the topic, ``set-alarm-state``; review D11). Every subscriber gets one ALARM.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from infra.tools import alarm_check

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


def run(
    base_url: str,
    merchant_key: str,
    *,
    amount: int = 100,
    http: httpx.Client | None = None,
    origin_url: str | None = None,
    origin_verify: str | None = None,
    latency: int = 0,
) -> list[Check]:
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
    if origin_url:
        origin = origin_url.rstrip("/")

        def origin_refuses_strangers() -> bool:
            # a read the merchant key may make (200 through the edge): changes nothing even if let through
            r = client.get(f"{origin}/payments/{pid}", headers=auth)
            return check("origin refuses requests around the edge", r.status_code == 403, str(r.status_code))

        guarded("origin refuses requests around the edge", origin_refuses_strangers)
        if latency:

            def edge_latency() -> bool:
                read = f"/payments/{pid}"
                edge, direct = compare_latency(
                    client, f"{base}{read}", f"{origin}{read}", auth, origin_verify or "", latency
                )
                return check("edge latency", True, latency_report(edge, direct))

            guarded("edge latency", edge_latency)
    return checks


def _ms(samples: list[float]) -> tuple[float, float]:
    """(median, p90) in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.9 + 0.5) - 1)] * 1000


def compare_latency(
    client: httpx.Client, edge_url: str, origin_url: str, auth: dict[str, str], origin_verify: str, n: int
) -> tuple[list[float], list[float]]:
    """Seconds per GET, edge and origin interleaved (so load or network drift hits both alike). Every
    answer must be 200: a timing of an error is not a timing of the route."""
    edge: list[float] = []
    direct: list[float] = []
    for _ in range(n):
        for url, headers, out in (
            (edge_url, auth, edge),
            (origin_url, {**auth, "x-origin-verify": origin_verify}, direct),
        ):
            started = time.perf_counter()
            r = client.get(url, headers=headers)
            elapsed = time.perf_counter() - started
            if r.status_code != 200:
                raise httpx.HTTPStatusError(f"{url} answered {r.status_code}", request=r.request, response=r)
            out.append(elapsed)
    return edge, direct


def latency_report(edge: list[float], direct: list[float]) -> str:
    (em, e90), (om, o90) = _ms(edge), _ms(direct)
    return (
        f"{len(edge)} reads each: edge median {em:.0f} ms (p90 {e90:.0f}), origin median {om:.0f} ms "
        f"(p90 {o90:.0f}); the edge adds {em - om:+.0f} ms at the median from here"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test a deployed QPay stack (one sandbox payment)")
    parser.add_argument("--url", required=True, help="the stack's ApiUrl output")
    parser.add_argument("--key", required=True, help="a merchant API key from the secret")
    parser.add_argument("--amount", type=int, default=100, help="minor units (QAR dirhams), default 100")
    parser.add_argument("--origin-url", help="behind the edge: https://<OriginDomainName> (check 5)")
    parser.add_argument("--latency", type=int, default=0, metavar="N", help="edge vs origin, N reads each (check 6)")
    parser.add_argument("--origin-verify-secret", help="the OriginVerifySecretArn output (for --latency)")
    parser.add_argument("--stack", help="prove an alarm reaches the alarm topic of this stack (check 7)")
    parser.add_argument("--alarm", default=alarm_check.DEFAULT_ALARM, help="the alarm's logical id (check 7)")
    parser.add_argument("--region", help="the stack's region (checks 6 and 7; default: your AWS config)")
    args = parser.parse_args(argv)
    if not args.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        parser.error("--url must be the https ApiUrl output")
    if args.latency and not (args.origin_url and args.origin_verify_secret):
        parser.error("--latency needs --origin-url and --origin-verify-secret")
    session: Any = _session(args.region) if (args.stack or args.origin_verify_secret) else None
    origin_verify = None
    if args.origin_verify_secret:
        doc = json.loads(
            session.client("secretsmanager").get_secret_value(SecretId=args.origin_verify_secret)["SecretString"]
        )
        origin_verify = str(doc["current"])
    checks = run(
        args.url,
        args.key,
        amount=args.amount,
        origin_url=args.origin_url,
        origin_verify=origin_verify,
        latency=args.latency,
    )
    expected = 4 + bool(args.origin_url) + bool(args.latency)
    if args.stack:
        topic, alarm = alarm_check.resolve_stack(session.client("cloudformation"), args.stack, args.alarm)
        proof = alarm_check.prove(session, topic_arn=topic, alarm_name=alarm)
        checks.append(Check("alarm reaches the topic", proof.ok, "\n      ".join(proof.lines)))
        expected += 1
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
    failed = [c for c in checks if not c.ok]
    if not failed and checks:
        create = checks[0].detail.split("redirect_url=", 1)[-1]
        print(f"\nTo finish by hand: open {create} and pay with the sandbox's QPay test card.")
    return 1 if failed or len(checks) < expected else 0


def _session(region: str | None) -> Any:
    import boto3  # noqa: PLC0415 - only the AWS checks need it

    return boto3.session.Session(region_name=region)


if __name__ == "__main__":
    sys.exit(main())

"""What ``make run`` prints once the stack is up: URLs, keys and what each is for, and commands to copy."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qpay_local.stack import LocalStack

#: Synthetic test value (11 digits, the length of a Qatar ID); never a real person's.
TEST_NATIONAL_ID = "28763400000"


@dataclass(frozen=True)
class BannerOptions:
    keys_path: Path | None = None
    keys_origin: str = ""  # "created" | "loaded" | "rotated"
    env_path: Path | None = None
    forward_to: str | None = None
    log_format: str = "pretty"


def example_create_body(reference: str = "ORD-1001") -> dict[str, object]:
    """Every field of ``CreatePaymentRequest``, with synthetic values."""
    return {
        "reference": reference,
        "amount": 12500,
        "currency": "QAR",
        "description": f"Order {reference}",
        "language": "en",
        "quantity": 1,
        "national_id": TEST_NATIONAL_ID,
        "customer": {"name": "Test Shopper", "email": "shopper@example.com"},
        "metadata": {"cart_id": "cart-42"},
    }


def create_curl(api_url: str, merchant_key: str, reference: str = "ORD-1001") -> str:
    body = json.dumps(example_create_body(reference), separators=(",", ":"))
    return (
        f"curl -sS -X POST {api_url}/payments \\\n"
        f"      -H 'Authorization: Bearer {merchant_key}' \\\n"
        f"      -H 'Idempotency-Key: {reference.lower()}-attempt-1' \\\n"
        "      -H 'Content-Type: application/json' \\\n"
        f"      -d {shlex.quote(body)}"
    )


def _rows(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in rows)
    return [f"  {k.ljust(width)}  {v}" for k, v in rows]


def render(stack: LocalStack, options: BannerOptions) -> str:
    k = stack.local_keys
    c = stack.credentials
    api = stack.api_url
    sim = stack.sim_url
    env = stack.env
    origins = ", ".join(stack.cors_origins) or "(none)"
    if options.keys_path is not None:
        kept = {
            "created": "new keys, kept for the next runs",
            "loaded": "the same keys as last time",
            "rotated": "new keys (--fresh-keys)",
        }.get(options.keys_origin, "")
        keys_line = f"{options.keys_path} ({kept}; --fresh-keys rotates, --keys-file PATH uses another)"
    else:
        keys_line = "generated for this run only"
    lines = ["", "QPay local stack is up (Ctrl-C to stop)", ""]
    lines += _rows(
        [
            ("API", api),
            ("Demo storefront", f"{api}/shop"),
            ("Local dashboard", f"{api}/_local   (payments, timelines, webhooks, events)"),
            ("Order events (JSON)", f"{api}/_local/events"),
            ("Checkout.com simulator", sim),
            ("Simulator admin", f'{sim}/_sim/payments, {sim}/_sim/health   (or: make trigger ARGS="pay <id>")'),
        ]
    )
    lines += ["", "  Keys: " + keys_line]
    lines += _rows(
        [
            ("Merchant API key", f"{k.merchant_api_key}   (your server: Authorization: Bearer … on POST /payments)"),
            (
                "Order token key",
                f"kid {k.order_token_kid}: {k.order_token_key}   (your server mints X-Order-Token for the browser)",
            ),
            (
                "Webhook signing key",
                f"{k.webhook_signing_key}   (Checkout → {api}{stack.webhook_path}; make replay --key)",
            ),
            (
                "Checkout secret key",
                f"{k.checkout_secret_key}   (only to run your own code or Checkout's SDK against the simulator; "
                "the SDK also needs a processing_channel_id: any pc_ + 26 characters)",
            ),
            ("AWS_ACCESS_KEY_ID", c.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", c.secret_access_key),
            ("AWS_REGION", f"{c.region}   (SigV4 service execute-api: the refund route)"),
        ]
    )
    if options.env_path is not None:
        lines.append(f"  For a Node/PHP storefront: {options.env_path} (KEY=VALUE lines, rewritten on each start)")
    forward = (
        f"{options.forward_to}   (Standard Webhooks signature, secret {k.forwarding_secret})"
        if options.forward_to
        else f"off   (--forward-events-to URL; secret {k.forwarding_secret})"
    )
    lines += [""]
    lines += _rows(
        [
            ("Forward order events to", forward),
            ("Order events batched", batching_line(stack.events_batching)),
            ("Payments", kept_line(stack)),
            ("CORS origins", f"{origins}   (add: --cors-origin URL, or --param StorefrontOrigins=a,b)"),
            (
                "Shopper returns to",
                f"{env.get('STOREFRONT_SUCCESS_URL', '')}   (yours: --storefront-url URL, or --param "
                "StorefrontSuccessUrl=… --param StorefrontFailureUrl=…)",
            ),
            ("Logs", f"{options.log_format}   (--log-format pretty|json)"),
        ]
    )
    time_rows = stack.time_settings()
    if time_rows:
        lines += ["", f"  Time scale {stack.time_scale:g} (--time-scale; effective values):"]
        lines += ["  " + row for row in _rows(list(time_rows.items()))]
    lines += [""]
    lines += _rows(
        [
            (name, value)
            for name, value in stack.describe().items()
            if name.startswith(("AWS endpoint", "DynamoDB", "Table", "State", "Queue", "Event bus"))
        ]
    )
    lines += [
        "",
        "  Create a payment from your server (amount in minor units: 12500 = QAR 125.00; national_id is a",
        "  synthetic test value, required by QPay):",
        "    " + create_curl(api, k.merchant_api_key),
        '  Then send the shopper to its redirect_url, or pay it without a browser: make trigger ARGS="pay <id>"',
        "  Read it (your server; a browser sends X-Client-Secret: <client_secret of the create answer> instead):",
        f"    curl -sS -H 'Authorization: Bearer {k.merchant_api_key}' {api}/payments/<id>",
        "",
        "  Refund it (IAM/SigV4, from your back office):",
        f"    curl -sS --aws-sigv4 'aws:amz:{c.region}:execute-api' --user '{c.access_key_id}:{c.secret_access_key}' \\",
        "      -H 'Content-Type: application/json' -H 'Idempotency-Key: refund-1' \\",
        f"      -d '{{\"amount\": 2500}}' {api}/payments/<id>/refunds",
        "",
    ]
    return "\n".join(lines)


def batching_line(batching: tuple[float, float] | None) -> str:
    """Why order events lag: the publisher's stream batching window, here and as deployed."""
    if batching is None:
        return "no order-events publisher in the template"
    deployed, here = batching
    return (
        f"up to {here:g} s after the change (deployed: up to {deployed:g} s, the publisher's "
        "MaximumBatchingWindowInSeconds; --events-batching-window 0 to publish at once)"
    )


def kept_line(stack: LocalStack) -> str:
    """Whether this run keeps what it makes, and what it took back from the last one."""
    kept = stack.persistence
    if kept is None:
        return "not kept (this stack forgets its payments when it stops)"
    return (
        f"kept across restarts in {kept.directory}/ ({kept.restored_items} item(s) and "
        f"{kept.restored_payments} simulator payment(s) restored; --fresh to start clean)"
    )

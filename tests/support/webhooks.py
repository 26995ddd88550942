"""Checkout.com notifications, shaped and signed as Checkout.com sends them."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from tests.support.keys import WEBHOOK_SIGNING_KEY

_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def cko_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_B32) for _ in range(26))


def notification(
    event_type: str,
    *,
    cko_payment_id: str,
    payment_id: str | None,
    amount: int = 1000,
    reference: str = "ORD-1",
    action_id: str | None = None,
    event_id: str | None = None,
    response_code: str = "10000",
) -> dict[str, Any]:
    declined = event_type in ("payment_capture_declined", "payment_refund_declined")
    metadata = {"qpay_payment_id": payment_id} if payment_id else {}
    return {
        "id": event_id or cko_id("evt_"),
        "type": event_type,
        "version": "1.0.33",
        "created_on": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "data": {
            "id": cko_payment_id,
            "action_id": action_id or cko_id("act_"),
            "reference": reference,
            "amount": amount,
            "currency": "QAR",
            "processed_on": "2026-11-25T10:00:00.000Z",
            "response_code": "20006" if declined else response_code,
            "response_summary": "Declined" if declined else "Approved",
            "metadata": metadata,
        },
        "_links": {"payment": {"href": f"https://api.sandbox.checkout.com/payments/{cko_payment_id}"}},
    }


def sign(body: bytes, key: str = WEBHOOK_SIGNING_KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()

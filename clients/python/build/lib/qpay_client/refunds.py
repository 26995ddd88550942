"""Refunds are merchant-only: API Gateway checks an AWS Signature V4 (service ``execute-api``) before the
function runs. Signed with botocore's ``SigV4Auth``, the signer boto3 uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from qpay_client.transport import RetryTransport


@dataclass(frozen=True)
class RefundAnswer:
    status: int
    body: dict[str, Any]


def sign_refund(
    *,
    base_url: str,
    region: str,
    credentials: Credentials,
    payment_id: str,
    idempotency_key: str,
    amount: int | None = None,
    reference: str | None = None,
    reason: str | None = None,
) -> httpx.Request:
    url = f"{base_url.rstrip('/')}/payments/{quote(payment_id, safe='')}/refunds"
    payload = {k: v for k, v in (("amount", amount), ("reference", reference), ("reason", reason)) if v is not None}
    body = json.dumps(payload)
    aws = AWSRequest(
        "POST", url, data=body, headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
    )
    SigV4Auth(credentials, "execute-api", region).add_auth(aws)
    return httpx.Request("POST", url, content=body.encode(), headers=dict(aws.headers.items()))


def refund(*, timeout_s: float = 10.0, max_attempts: int = 3, **request: Any) -> RefundAnswer:
    """Sign and send: ``202 {id, payment_id, amount, status: "Requested"}``, or the error body. Signed once;
    a retry re-sends the same signature (valid 5 minutes) with the same ``Idempotency-Key``."""
    signed = sign_refund(**request)
    with httpx.Client(timeout=timeout_s, transport=RetryTransport(max_attempts=max_attempts)) as http:
        response = http.send(signed)
    return RefundAnswer(response.status_code, response.json())

"""Request builders and a response recorder shared by the contract tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

SECRET_KEY = "sk_sbox_" + "m" * 26 + "#"
AUTH = {"Authorization": f"Bearer {SECRET_KEY}"}
NATIONAL_ID = "28463400123"  # synthetic


def qpay_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": 12500,
        "currency": "QAR",
        "reference": "ORD-1001",
        "source": {
            "type": "qpay",
            "description": "Order 1001",
            "language": "en",
            "quantity": 1,
            "national_id": NATIONAL_ID,
        },
        "success_url": "https://shop.example/return/success?payment_id=qpp_1",
        "failure_url": "https://shop.example/return/failure?payment_id=qpp_1",
        "customer": {"email": "shopper@shop.example", "name": "Shopper"},
        "metadata": {"qpay_payment_id": "qpp_1", "order": "1001"},
        "processing_channel_id": "pc_" + "q" * 26,
    }
    body.update(overrides)
    return body


_TEMPLATES = (
    ("POST", re.compile(r"^/payments$"), "POST /payments"),
    ("GET", re.compile(r"^/payments$"), "GET /payments"),
    ("GET", re.compile(r"^/payments/[^/]+$"), "GET /payments/{id}"),
    ("GET", re.compile(r"^/payments/[^/]+/actions$"), "GET /payments/{id}/actions"),
    ("POST", re.compile(r"^/payments/[^/]+/refunds$"), "POST /payments/{id}/refunds"),
)


def operation_of(method: str, path: str) -> str | None:
    for m, pattern, name in _TEMPLATES:
        if m == method and pattern.match(path):
            return name
    return None


@dataclass
class Recorded:
    operation: str
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """Keeps every API response an ``httpx.Client`` receives (install with ``client.event_hooks``)."""

    responses: list[Recorded] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        name = operation_of(response.request.method, response.request.url.path)
        if name is not None:
            self.responses.append(
                Recorded(name, response.status_code, response.content, response.headers.get("content-type", ""))
            )

    def seen(self) -> set[tuple[str, int]]:
        return {(r.operation, r.status) for r in self.responses}

"""Every request body the product's Checkout.com client sends validates against the schemas derived from
Checkout's published OpenAPI (``schemas.PAYMENT_REQUEST`` with the QPay source, ``schemas.REFUND_REQUEST``).

The bodies are the product's own: the create handler builds the payment request (every optional field a
merchant can set: customer, metadata, Arabic description at its limit, quantity), the refund goes through
the client's ``refund``; they are captured on their way out of ``CheckoutClient`` (the request still
reaches the simulator) and checked against the published schema, not against the simulator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutClient
from tests.conftest import body_of, create_body, invoke_create
from tests.contracts import schemas
from tests.contracts.checker import errors

ARABIC_AT_THE_LIMIT = "طلب" * 14  # 42 letters: 252 characters once URL-encoded (255 is the limit)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any] | None]]:
    seen: list[tuple[str, str, dict[str, Any] | None]] = []
    real = CheckoutClient._request

    def recording(
        self: CheckoutClient, method: str, path: str, body: dict[str, Any] | None = None, idem: Any = None, **kw: Any
    ):
        seen.append((method, path, json.loads(json.dumps(body)) if body is not None else None))
        return real(self, method, path, body, idem, **kw)

    monkeypatch.setattr(CheckoutClient, "_request", recording)
    return seen


def _problems(schema: dict[str, Any], body: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in errors(schema, body)]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "description": ARABIC_AT_THE_LIMIT,
            "language": "ar",
            "quantity": 3,
            "customer": {"name": "Test Shopper", "email": "shopper@example.com"},
            "metadata": {"cart_id": "c-42", "items": 3, "gift": True},
        },
        {"reference": "R" * 50, "description": "d" * 255},  # our limits inside Checkout's
    ],
    ids=["minimal", "every-field", "at-our-limits"],
)
def test_the_payment_request_we_send_is_valid_for_checkouts_schema(aws: Any, sim: Any, sent, overrides) -> None:
    answer = invoke_create(create_body(**overrides))
    assert answer["statusCode"] == 201, body_of(answer)
    [(method, path, body)] = [s for s in sent if s[:2] == ("POST", "/payments")]
    assert body is not None and body["source"]["type"] == "qpay"
    assert _problems(schemas.PAYMENT_REQUEST, body) == []
    assert body["source"]["description"] == overrides.get("description", "Order 1001")
    assert body.get("customer") == overrides.get("customer")


def test_the_refund_request_we_send_is_valid_for_checkouts_schema(aws: Any, sim: Any, sent) -> None:
    assert invoke_create(create_body())["statusCode"] == 201
    [cko] = sim.payments.values()
    sim.pay(cko.id)
    deps.checkout().refund(cko.id, amount=2500, reference="qrf_" + "a" * 26, idempotency_key="refund-key-1")
    [(_, path, body)] = [s for s in sent if s[1].endswith("/refunds")]
    assert path == f"/payments/{cko.id}/refunds" and body == {"amount": 2500, "reference": "qrf_" + "a" * 26}
    assert _problems(schemas.REFUND_REQUEST, body) == []


def test_the_schema_would_refuse_what_checkout_refuses() -> None:
    # the checks above can fail: the derived schemas refuse a QPay source without its description, an
    # amount that is not an integer, a reference over Checkout's 50 characters
    assert _problems(schemas.PAYMENT_REQUEST, {"amount": 1, "currency": "QAR", "source": {"type": "qpay"}})
    source = {"type": "qpay", "description": "x"}
    assert _problems(schemas.PAYMENT_REQUEST, {"amount": "1", "currency": "QAR", "source": source})
    assert _problems(schemas.PAYMENT_REQUEST, {"amount": 1, "currency": "QAR", "reference": "R" * 51})
    assert _problems(schemas.REFUND_REQUEST, {"amount": 1, "reference": "x" * 51})

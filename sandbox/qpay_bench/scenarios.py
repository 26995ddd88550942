"""One first event per function in template.yaml, and the world it meets (parent side only).

Events are the replayable fixtures in ``events/<Function>/``; items are shaped by the product's own
store code, so the canned answers are the shapes DynamoDB would return.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpay.adapters.dynamo import to_ddb
from qpay.adapters.store.items import payment_item, refund_item
from qpay.domain.records import Payment, Refund
from qpay.domain.states import Stage
from qpay_bench.world import World
from tests.support import keys

ROOT = Path(__file__).resolve().parents[2]
PAYMENT_ID = "qpp_fixturepaymentaaaaaaaaaaaa"
REFUND_ID = "qrf_fixturerefundaaaaaaaaaaaaa"
CKO_ID = "pay_fixturecheckoutaaaaaaaaaaa"
REGION = "me-central-1"

SECRET = {
    "checkout_secret_key": keys.CHECKOUT_SECRET_KEY,
    "webhook_signing_keys": [keys.WEBHOOK_SIGNING_KEY, keys.WEBHOOK_SIGNING_KEY_OLD],
    "merchant_api_keys": [keys.MERCHANT_API_KEY],
    "order_token_keys": [keys.ORDER_TOKEN_KEY],
}

CHECKOUT_DOC = {
    "id": CKO_ID,
    "status": "Captured",
    "amount": 12500,
    "currency": "QAR",
    "balances": {"total_captured": 12500},
    "metadata": {"qpay_payment_id": PAYMENT_ID},
}
#: [method, path regex, status, body]: Checkout.com as the MockTransport answers it
CHECKOUT_ROUTES: list[list[Any]] = [
    ["POST", "/payments", 202, {"id": CKO_ID, "status": "Pending", "_links": {"redirect": {"href": "https://qpay.example/p"}}}],
    ["GET", "/payments/[^/]+/actions", 200, []],
    ["GET", "/payments/[^/]+", 200, CHECKOUT_DOC],
    ["POST", "/payments/[^/]+/refunds", 202, {"action_id": "act_fixtureactionaaaaaaaaaaaaa", "reference": REFUND_ID}],
]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    function: str  # logical id in template.yaml
    fixture: str  # events/<function>/<fixture>.json
    state: str  # "open" or "captured": the payment the world holds
    checkout: bool  # does this function call Checkout.com
    expect: int | None  # HTTP status, None for non-HTTP functions
    route: str  # a short name for tables

    def event(self) -> Any:
        return json.loads((ROOT / "events" / self.function / f"{self.fixture}.json").read_text())


SCENARIOS = [
    Scenario("CreatePaymentFunction", "create-merchant-key", "open", True, 201, "POST /payments"),
    Scenario("GetPaymentFunction", "get", "captured", False, 200, "GET /payments/{id}"),
    Scenario("PaymentReturnFunction", "success", "open", True, 303, "GET /payments/return/success"),
    Scenario("WebhookFunction", "payment_captured", "open", False, 200, "POST /webhooks/checkout"),
    Scenario("RefundRequestFunction", "partial", "captured", False, 202, "POST /payments/{id}/refunds"),
    Scenario("RefundTaskFunction", "request", "captured", True, None, "refund task: request"),
    Scenario("ExpiryFunction", "ttl-removal", "open", True, None, "stream: TTL removal"),
    Scenario("SweepFunction", "scheduled", "open", True, None, "schedule: sweep"),
]


def world_for(scenario: Scenario) -> World:
    now = int(time.time())
    payment = Payment(
        id=PAYMENT_ID, reference="ORD-FIXTURE-1", amount=12500, currency="QAR", description="Order",
        language="en", quantity=1, created_at=now - 3600, updated_at=now - 3600, deadline=now - 600,
        cko_id=CKO_ID, redirect_url="https://qpay.example/p", request_hash="h", lease_until=now - 3570,
    )  # fmt: skip
    items: dict[tuple[str, str], dict[str, Any]] = {}
    if scenario.state == "captured":
        payment.stage = Stage.CAPTURED
        payment.captured_amount = payment.refundable_amount = 12500
        refund = Refund(id=REFUND_ID, payment_id=PAYMENT_ID, amount=2500, created_at=now, updated_at=now)
        items[(f"PAYMENT#{PAYMENT_ID}", f"REFUND#{REFUND_ID}")] = to_ddb(refund_item(refund))
    item = to_ddb(payment_item(payment))
    items[(f"PAYMENT#{PAYMENT_ID}", "PAYMENT")] = item
    index = [item] if scenario.state == "open" else []
    return World(items=items, index_items=index, template=item, secret=json.dumps(SECRET))


def base_env(aws_endpoint: str) -> dict[str, str]:
    """The function's environment (template Globals), pointed at the stub endpoint."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "POWERTOOLS_SERVICE_NAME": "qpay",
        "POWERTOOLS_METRICS_NAMESPACE": "QPay",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        "TABLE_NAME": "qpay-bench-payments",
        "SECRET_ID": "qpay-bench-keys",
        "CHECKOUT_BASE_URL": "https://api.sandbox.checkout.com",
        "PROCESSING_CHANNEL_ID": keys.PROCESSING_CHANNEL_ID,
        "PUBLIC_BASE_URL": "https://pay.example-shop.qa",
        "STOREFRONT_SUCCESS_URL": "https://shop.example.qa/orders/thanks",
        "STOREFRONT_FAILURE_URL": "https://shop.example.qa/orders/retry",
        "EXPIRY_WINDOW_S": "1200",
        "REFUND_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:123456789012:stateMachine:qpay-bench-refunds",
    }

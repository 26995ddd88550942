"""One first event per function in template.yaml, and the world it meets (parent side only).

Events are the replayable fixtures in ``events/<Function>/``. The stored items are written by the
product's own store code (its public methods, against a client that only captures the request), so the
canned answers have the shapes DynamoDB would return for what the product itself writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpay_bench.world import Item, World
from tests.support import keys

ROOT = Path(__file__).resolve().parents[2]
PAYMENT_ID = "qpp_fixturepaymentaaaaaaaaaaaa"
REFUND_ID = "qrf_fixturerefundaaaaaaaaaaaaa"
CKO_ID = "pay_fixturecheckoutaaaaaaaaaaa"

#: the secret as the contract shapes it; keys from tests/support/keys (synthetic, documented)
SECRET: dict[str, Any] = {
    "checkout_secret_key": keys.CHECKOUT_SECRET_KEY,
    "webhook_signing_keys": [keys.WEBHOOK_SIGNING_KEY, keys.WEBHOOK_SIGNING_KEY_OLD],
    "merchant_api_keys": [keys.MERCHANT_API_KEY],
    "order_token_keys": {keys.ORDER_TOKEN_KID: keys.ORDER_TOKEN_KEY},
    "server_key": keys.SERVER_KEY,
}

CHECKOUT_DOC = {
    "id": CKO_ID,
    "status": "Captured",
    "amount": 12500,
    "currency": "QAR",
    "balances": {"total_captured": 12500, "total_refunded": 0},
    "metadata": {"qpay_payment_id": PAYMENT_ID},
}
#: [method, path regex, status, body]: Checkout.com as the stub answers it
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
    expect: int | None  # HTTP status, None for non-HTTP functions
    route: str  # a short name for tables
    peer: str | None = None  # module of the typical-team handler (sandbox/qpay_bench/peer), if any

    def event(self) -> Any:
        return json.loads((ROOT / "events" / self.function / f"{self.fixture}.json").read_text())


SCENARIOS = [
    Scenario("CreatePaymentFunction", "create-merchant-key", "open", 201, "POST /payments", "peer.create_payment"),
    Scenario("GetPaymentFunction", "get", "captured", 200, "GET /payments/{id}"),
    Scenario("PaymentReturnFunction", "success", "open", 303, "GET /payments/return/success"),
    Scenario("WebhookFunction", "payment_captured", "open", 200, "POST /webhooks/checkout", "peer.webhook"),
    Scenario("RefundRequestFunction", "partial", "captured", 202, "POST /payments/{id}/refunds"),
    Scenario("RefundTaskFunction", "request", "captured", None, "refund task: request"),
    Scenario("ExpiryFunction", "ttl-removal", "open", None, "stream: TTL removal"),
    Scenario("SweepFunction", "scheduled", "open", None, "schedule: sweep"),
    Scenario("OutboxFunction", "payment-captured", "captured", None, "stream: order event"),
    Scenario("ReconcileFunction", "window", "open", None, "schedule: reconcile"),
]


#: not timed: run once each so the cost model sees the requests of the paths a payment's life adds
COST_SCENARIOS = [
    Scenario("PaymentReturnFunction", "success", "captured", 303, "return (payment already captured)"),
    Scenario("WebhookFunction", "payment_capture_pending", "open", 200, "webhook: capture pending"),
    Scenario("WebhookFunction", "payment_captured", "captured", 200, "webhook: captured after the return"),
    Scenario("WebhookFunction", "payment_refunded", "captured", 200, "webhook: refund outcome"),
    Scenario("ExpiryFunction", "ttl-removal", "captured", None, "stream: TTL removal (payment final)"),
    Scenario("RefundTaskFunction", "await", "captured", None, "refund task: await"),
    Scenario("ReconcileFunction", "window", "captured", None, "schedule: reconcile (no drift)"),
]


class _Capture:
    """A DynamoDB client that keeps what the product's store writes and answers nothing else."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self.items += [op["Put"]["Item"] for op in TransactItems if "Put" in op]
        return {}

    def put_item(self, Item: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.items.append(Item)
        return {}


def stored_items(now: int) -> tuple[Item, Item, Item]:
    """(open payment, captured payment, refund) as the product's store writes them."""
    from qpay.adapters.store import PaymentStore  # noqa: PLC0415
    from qpay.domain.records import Payment, Refund  # noqa: PLC0415
    from qpay.domain.states import Stage  # noqa: PLC0415

    capture = _Capture()
    store = PaymentStore(capture, "bench")
    # made an hour ago, but never on an earlier UTC day than ``now``: a run just after midnight would
    # otherwise price every write as moving the payment to a new changed-by-day partition (2 index
    # writes), which only the few payments created just before midnight pay
    made = max(now - 3600, now - now % 86400)
    payment = Payment(
        id=PAYMENT_ID, reference="ORD-FIXTURE-1", amount=12500, currency="QAR", description="Order",
        language="en", quantity=1, created_at=made, updated_at=made, deadline=now - 600,
        cko_id=CKO_ID, redirect_url="https://qpay.example/p", request_hash="h" * 64, lease_until=min(made + 30, now - 1),
        metadata={"order": "1"},
    )  # fmt: skip
    store.begin_create(payment, timer_at=payment.deadline, now=made)
    open_item = next(i for i in capture.items if i["sk"]["S"] == "PAYMENT")
    captured = {k: v for k, v in open_item.items() if not k.startswith("pending_")}
    captured.update(stage={"S": Stage.CAPTURED.value}, captured_amount={"N": "12500"}, refundable_amount={"N": "12500"},
                    last_event={"S": "payment_captured"}, applied_events={"L": [{"S": "evt_fixturepaymentcapturedaaaa"}]})  # fmt: skip
    refund = Refund(id=REFUND_ID, payment_id=PAYMENT_ID, amount=2500, created_at=now, updated_at=now)
    capture.items.clear()
    store.reserve_refund(refund, now=now)
    refund_item = next(i for i in capture.items if i["sk"]["S"].startswith("REFUND#"))
    return open_item, captured, refund_item


def world_for(scenario: Scenario, *, now: int | None = None) -> World:
    """The stored items a scenario starts from, made at ``now`` (a replay of recorded calls passes the
    recording world's time: a write's change day then matches the items', whatever the clock says)."""
    now = int(time.time()) if now is None else now
    open_item, captured, refund_item = stored_items(now)
    items: dict[tuple[str, str], Item] = {}
    item = open_item
    if scenario.state == "captured":
        item = captured
        items[(f"PAYMENT#{PAYMENT_ID}", refund_item["sk"]["S"])] = refund_item
    items[(f"PAYMENT#{PAYMENT_ID}", "PAYMENT")] = item
    # the pending index holds open payments only; the changed-by-day index every payment
    index = [item] if scenario.state == "open" or scenario.function == "ReconcileFunction" else []
    return World(items=items, index_items=index, template=item, secret=json.dumps(SECRET),
                 checkout_routes=CHECKOUT_ROUTES, at=now)  # fmt: skip

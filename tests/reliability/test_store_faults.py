"""Faults: DynamoDB throttles or fails a write (after the SDK's own retries gave up). Nothing may be
lost or done twice: the webhook answers 5xx so Checkout.com retries and the retry applies the event
once; a create answers 5xx and the retry with the same Idempotency-Key ends with one payment at
Checkout.com; a return lands on the storefront and the shopper's next return records the outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.conftest import base_env, body_of, create_body, invoke_create, invoke_return, invoke_webhook
from tests.support.webhooks import notification

ERRORS = {
    "throttled": {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}},
    "internal": {"Error": {"Code": "InternalServerError", "Message": "Internal server error"}},
    "conflict": {},  # TransactionCanceledException naming TransactionConflict on the payment item: see below
}


def _conflict(on: int, of: int) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in range(of)]
    reasons[on] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    codes = ", ".join(r["Code"] for r in reasons)
    return {
        "Error": {
            "Code": "TransactionCanceledException",
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        },
        "CancellationReasons": reasons,
    }


class Faults:
    """Fail the next ``n`` calls of one DynamoDB operation on the product's own client."""

    def __init__(self) -> None:
        self.remaining: dict[str, int] = {}
        self.response: dict[str, Any] = {}
        self.failed: list[str] = []
        self._lock = threading.Lock()

    def fail_next(self, operation: str, kind: str, n: int = 1, conflict_on: tuple[int, int] = (0, 3)) -> None:
        self.remaining[operation] = n
        if kind != "conflict":
            self.response[operation] = ERRORS[kind]
        elif operation == "TransactWriteItems":
            self.response[operation] = _conflict(*conflict_on)
        else:  # a single-item write meeting an item that a transaction is changing
            self.response[operation] = {
                "Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing for the item"}
            }

    def __call__(self, model: Any, **_: Any) -> None:
        with self._lock:
            if self.remaining.get(model.name, 0) <= 0:
                return
            self.remaining[model.name] -= 1
            self.failed.append(model.name)
        raise ClientError(self.response[model.name], model.name)


@pytest.fixture
def faults(aws: Any) -> Iterator[Faults]:
    from qpay import deps

    f = Faults()
    events = deps.dynamodb().meta.events
    events.register("before-call.dynamodb", f)
    yield f
    events.unregister("before-call.dynamodb", f)


def _payment(aws: Any, sim: Any) -> dict[str, Any]:
    answer = invoke_create(create_body())
    assert answer["statusCode"] == 201
    body = body_of(answer)
    body["cko_id"] = aws.item(f"PAYMENT#{body['id']}", "PAYMENT")["cko_id"]
    return dict(body)


@pytest.mark.parametrize("kind", sorted(ERRORS))
@pytest.mark.parametrize("event_type", ["payment_captured", "payment_refunded"])
def test_webhook_write_fails_once_then_the_retry_applies_it_once(aws, sim, faults, kind, event_type) -> None:
    """DynamoDB refuses the webhook's one write (throttled / 500 / transaction conflict) → the
    webhook answers 5xx (Checkout retries) and nothing is stored; the same delivery again → applied
    once; a third delivery → duplicate. Also for a Dashboard refund outcome."""
    p = _payment(aws, sim)
    if event_type == "payment_refunded":
        invoke_webhook(notification("payment_captured", cko_payment_id=p["cko_id"], payment_id=p["id"], amount=12500))
    doc = notification(
        event_type,
        cko_payment_id=p["cko_id"],
        payment_id=p["id"],
        amount=12500 if event_type == "payment_captured" else 2500,
        reference="DASHBOARD-1",
    )
    before = aws.items()
    # a payment notification is one UpdateItem; a refund outcome a transaction [action, payment, event]
    operation = "UpdateItem" if event_type == "payment_captured" else "TransactWriteItems"
    faults.fail_next(operation, kind, conflict_on=(1, 3))
    first = invoke_webhook(doc)
    assert first["statusCode"] >= 500, first
    assert faults.failed == [operation]
    assert aws.items() == before  # nothing half-done
    retry = invoke_webhook(doc)
    assert retry["statusCode"] == 200
    assert body_of(retry)["result"] == "applied"
    assert body_of(invoke_webhook(doc))["result"] == "duplicate"
    item = aws.item(f"PAYMENT#{p['id']}", "PAYMENT")
    if event_type == "payment_captured":
        assert (item["stage"], item["captured_amount"], item["refunded_amount"]) == ("Captured", 12500, 0)
        assert item["applied_events"].count(doc["id"]) == 1
    else:
        assert (item["refunded_amount"], item["refundable_amount"]) == (2500, 10000)
        assert aws.item(f"PAYMENT#{p['id']}", f"ACTION#{doc['data']['action_id']}") is not None


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_create_intent_write_fails_then_the_retry_creates_one_payment(aws, sim, faults, kind) -> None:
    """The create's first transaction (intent + reference guard + timer) fails → 5xx, nothing stored,
    Checkout.com not called; the retry with the same Idempotency-Key → 201, one payment at Checkout."""
    faults.fail_next("TransactWriteItems", kind)
    first = invoke_create(create_body(), idem="fault-create-1")
    if kind == "conflict":  # another transaction on the same items: retried with jitter, never a 5xx
        assert first["statusCode"] == 201, first
        assert faults.failed == ["TransactWriteItems"]
        assert len(sim.payments) == 1
        return
    assert first["statusCode"] >= 500, first
    assert set(body_of(first)) == {"code", "message", "fields", "request_id"}
    assert aws.items() == []
    assert len(sim.payments) == 0
    retry = invoke_create(create_body(), idem="fault-create-1")
    assert retry["statusCode"] == 201, retry
    assert invoke_create(create_body(), idem="fault-create-1")["statusCode"] == 201  # replay
    assert len(sim.payments) == 1
    assert [i["sk"]["S"] for i in aws.items() if i["sk"]["S"] == "PAYMENT"] == ["PAYMENT"]


def test_create_completion_write_fails_after_checkout_accepted_then_one_payment(aws, sim, faults, monkeypatch) -> None:
    """Checkout.com accepted, then recording its id fails (throttled) → 5xx. The retry with the same key
    while the first attempt's lease holds → 409 (in progress), after the lease → 201 with the same
    Checkout.com payment (same Cko-Idempotency-Key): one payment at Checkout, one payment item."""
    from qpay import clock

    faults.fail_next("UpdateItem", "throttled")
    first = invoke_create(create_body(), idem="fault-create-2")
    assert first["statusCode"] >= 500, first
    assert len(sim.payments) == 1
    assert invoke_create(create_body(), idem="fault-create-2")["statusCode"] == 409
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + 60)  # past the 30 s create lease
    retry = invoke_create(create_body(), idem="fault-create-2")
    assert retry["statusCode"] == 201, retry
    assert len(sim.payments) == 1
    [cko] = sim.payments.values()
    pid = body_of(retry)["id"]
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["cko_id"] == cko.id


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_return_write_fails_then_the_next_return_records_it_once(aws, sim, faults, kind) -> None:
    """The shopper returns after paying but recording Checkout's answer fails → 303 to the configured
    storefront (never an error page, never elsewhere), stage unchanged; the next return → Captured,
    one applied-event record."""
    p = _payment(aws, sim)
    redirect = sim.pay(p["cko_id"], card="4215375500883243", expiry="12/30", pin="123456")
    query = dict(parse_qsl(urlsplit(redirect).query))
    faults.fail_next("UpdateItem", kind)
    first = invoke_return("success", query)
    assert first["statusCode"] == 303
    allowed = {base_env()["STOREFRONT_SUCCESS_URL"], base_env()["STOREFRONT_FAILURE_URL"]}
    assert first["headers"]["Location"].split("?")[0] in allowed
    assert aws.item(f"PAYMENT#{p['id']}", "PAYMENT")["stage"] == "Pending"
    second = invoke_return("success", query)
    assert second["headers"]["Location"].split("?")[0] == base_env()["STOREFRONT_SUCCESS_URL"]
    invoke_return("success", query)
    item = aws.item(f"PAYMENT#{p['id']}", "PAYMENT")
    assert item["stage"] == "Captured"
    assert item["applied_events"].count("return:payment_captured") == 1

"""Regenerates the fixtures under events/: ``python -m tests.support.make_events``.

Every fixture is in the shape its source really sends (API Gateway HTTP API payload v2, Checkout.com
notifications inside them, DynamoDB stream batches as Lambda delivers them, Step Functions task
payloads, EventBridge Scheduler events). Folder = the template's function logical id. Webhook bodies are
built by the simulator's own code (``cko_sim.event_bodies``: Checkout's published field set per type, the
bytes cko_sim signs and sends) about one fixed payment, and signed with the documented test key ``tests.support.keys.WEBHOOK_SIGNING_KEY``; national IDs are synthetic.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cko_sim import SimConfig
from cko_sim.event_bodies import EventFacts, event_body
from cko_sim.models.state import Payment as SimPayment
from qpay.api.auth import mint_order_token
from qpay.domain.states import QPAY_EVENT_TYPES
from tests.support import keys
from tests.support.apigw import http_event
from tests.support.webhooks import sign

ROOT = Path(__file__).resolve().parents[2] / "events"


def _pad(word: str) -> str:
    return (word + "a" * 26)[:26]


PAYMENT_ID = "qpp_" + _pad("fixturepayment")
CKO_ID = "pay_" + _pad("fixturecheckout")
REFUND_ID = "qrf_" + _pad("fixturerefund")
REFUND_ACTION = "act_" + _pad("fixturerefundaction")
SESSION_ID = "sid_" + _pad("fixturesession")
EVENT_TIME = "2026-11-25T10:00:00.000Z"
STREAM_ARN = "arn:aws:dynamodb:me-central-1:123456789012:table/qpay-payments/stream/2026-11-25T00:00:00.000"


def _fixed(event: dict[str, Any]) -> dict[str, Any]:
    ctx = event["requestContext"]
    ctx["requestId"] = "Kx7qFixtureReq="
    ctx["time"] = "25/Nov/2026:10:00:00 +0000"
    ctx["timeEpoch"] = 1795600800000
    return event


def api_events() -> dict[str, dict[str, Any]]:
    body = {
        "reference": "ORD-FIXTURE-1",
        "amount": 12500,
        "currency": "QAR",
        "description": "Order ORD-FIXTURE-1",
        "language": "en",
        "quantity": 1,
        "national_id": keys.NATIONAL_ID,
        "customer": {"email": "shopper@example.com", "name": "Test Shopper"},
    }
    token = mint_order_token(
        keys.ORDER_TOKEN_KEY,
        kid=keys.ORDER_TOKEN_KID,
        reference="ORD-FIXTURE-2",
        amount=4000,
        currency="QAR",
        expires_at=1795600800 + 3600,  # an hour after the fixtures' time (tokens live at most 24 h)
        jti="fixture-order-token-0001",
    )
    token_body = {**body, "reference": "ORD-FIXTURE-2", "amount": 4000, "description": "Order ORD-FIXTURE-2"}
    return {
        "CreatePaymentFunction/create-merchant-key.json": _fixed(
            http_event(
                "POST",
                "/payments",
                body=body,
                headers={"authorization": f"Bearer {keys.MERCHANT_API_KEY}", "idempotency-key": "fixture-create-1"},
            )
        ),
        "CreatePaymentFunction/create-order-token.json": _fixed(
            http_event(
                "POST",
                "/payments",
                body=token_body,
                headers={"x-order-token": token, "origin": "http://localhost:3000"},
            )
        ),
        "CreatePaymentFunction/create-invalid.json": _fixed(
            http_event(
                "POST",
                "/payments",
                body={**body, "amount": -5, "currency": "USD"},
                headers={"authorization": f"Bearer {keys.MERCHANT_API_KEY}"},
            )
        ),
        "GetPaymentFunction/get.json": _fixed(
            http_event(
                "GET",
                f"/payments/{PAYMENT_ID}",
                route="GET /payments/{id}",
                path_params={"id": PAYMENT_ID},
                headers={"authorization": f"Bearer {keys.MERCHANT_API_KEY}"},
            )
        ),
        "PaymentReturnFunction/success.json": _fixed(
            http_event(
                "GET", "/payments/return/success", query={"payment_id": PAYMENT_ID, "cko-session-id": SESSION_ID}
            )
        ),
        "PaymentReturnFunction/failure.json": _fixed(
            http_event(
                "GET", "/payments/return/failure", query={"payment_id": PAYMENT_ID, "cko-session-id": SESSION_ID}
            )
        ),
        "RefundRequestFunction/partial.json": _fixed(
            http_event(
                "POST",
                f"/payments/{PAYMENT_ID}/refunds",
                route="POST /payments/{id}/refunds",
                path_params={"id": PAYMENT_ID},
                body={"amount": 2500, "reference": "RMA-77", "reason": "one item returned"},
                headers={"idempotency-key": "fixture-refund-1"},
                iam_user_arn="arn:aws:iam::123456789012:user/merchant-backoffice",
            )
        ),
        "RefundRequestFunction/full.json": _fixed(
            http_event(
                "POST",
                f"/payments/{PAYMENT_ID}/refunds",
                route="POST /payments/{id}/refunds",
                path_params={"id": PAYMENT_ID},
                body={"reason": "order canceled"},
                headers={"idempotency-key": "fixture-refund-2"},
                iam_user_arn="arn:aws:iam::123456789012:user/merchant-backoffice",
            )
        ),
    }


WEBHOOK_TYPES = QPAY_EVENT_TYPES
#: Where the simulator's bodies point their links (Checkout's sandbox host), and the webhook version it sends.
CHECKOUT_BASE = "https://api.sandbox.checkout.com"
CAPTURED_AMOUNT = 12500
REFUND_AMOUNT = 2500
REFUND_TYPES = ("payment_refund_pending", "payment_refunded", "payment_refund_declined")


def _sim_payment(event_type: str) -> SimPayment:
    """The simulator's record of the fixture payment as it stands when it sends ``event_type``: what the
    product sent (reference, amount, its ``qpay_payment_id`` metadata), and the balances at that moment."""
    created = datetime.fromisoformat(EVENT_TIME)
    payment = SimPayment(
        id=CKO_ID,
        pun="fixturepun0000000001",
        amount=CAPTURED_AMOUNT,
        currency="QAR",
        reference="ORD-FIXTURE-1",
        description="Order ORD-FIXTURE-1",
        language="en",
        quantity=1,
        national_id=None,
        success_url=None,
        failure_url=None,
        customer={},
        metadata={"qpay_payment_id": PAYMENT_ID},
        processing_channel_id=keys.PROCESSING_CHANNEL_ID,
        requested_on=created,
        expires_on=None,
        base_url=CHECKOUT_BASE,
    )
    if event_type in ("payment_captured", *REFUND_TYPES):
        payment.total_captured = CAPTURED_AMOUNT
    if event_type == "payment_refunded":
        payment.total_refunded = REFUND_AMOUNT  # the balances after the refund settled
    return payment


#: The response code and summary the simulator puts on each outcome (``cko_sim.core``).
OUTCOME_CODES: dict[str, tuple[str, str]] = {
    "payment_captured": ("10000", "Approved"),
    "payment_capture_declined": ("20006", "Declined"),
    "payment_refunded": ("10000", "Approved"),
    "payment_refund_declined": ("20006", "Refund declined"),
}


def webhook_body(event_type: str, *, event_id: str, action_id: str | None) -> bytes:
    """The exact bytes the simulator sends for ``event_type`` (``cko_sim.event_bodies.event_body``,
    Checkout's published field set for that type) about the fixture payment."""
    refund = event_type in REFUND_TYPES
    code = OUTCOME_CODES.get(event_type)
    facts = EventFacts(
        event_id=event_id,
        event_type=event_type,
        version=SimConfig().event_version,
        created_on=datetime.fromisoformat(EVENT_TIME),
        payment=_sim_payment(event_type),
        base=CHECKOUT_BASE,
        action_id=None if event_type == "payment_pending" else action_id,
        amount=REFUND_AMOUNT if refund else CAPTURED_AMOUNT,
        reference=REFUND_ID if refund else "ORD-FIXTURE-1",
        response_code=code[0] if code else None,
        response_summary=code[1] if code else None,
    )
    return event_body(facts)


def webhook_events() -> dict[str, dict[str, Any]]:
    out = {}
    for i, event_type in enumerate(WEBHOOK_TYPES):
        refund = event_type in REFUND_TYPES
        raw = webhook_body(
            event_type,
            event_id="evt_" + _pad(f"fixture{event_type.replace('_', '')}"),
            action_id=REFUND_ACTION if refund else "act_" + _pad(f"fixtureaction{chr(97 + i)}"),
        )
        out[f"WebhookFunction/{event_type}.json"] = _fixed(
            http_event(
                "POST",
                "/webhooks/checkout",
                raw_body=raw,
                headers={"cko-signature": sign(raw), "user-agent": "Checkout.com-webhooks"},
            )
        )
    bad = webhook_body(
        "payment_captured", event_id="evt_" + _pad("fixturebadsig"), action_id="act_" + _pad("fixturebadsig")
    )
    out["WebhookFunction/bad-signature.json"] = _fixed(
        http_event("POST", "/webhooks/checkout", raw_body=bad, headers={"cko-signature": sign(bad, "not-the-key")})
    )
    return out


def _record(
    seq: int, name: str, sk: str, *, ttl: bool, old: dict[str, Any] | None = None, pk: str | None = None
) -> dict[str, Any]:
    keys_ = {"pk": {"S": pk or f"PAYMENT#{PAYMENT_ID}"}, "sk": {"S": sk}}
    record: dict[str, Any] = {
        "eventID": f"{seq:032x}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "me-central-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795600800,
            "Keys": keys_,
            "SequenceNumber": f"{4_000_000_000_000_000_000 + seq}",
            "SizeBytes": 120,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }
    if old is not None:
        record["dynamodb"]["OldImage"] = old
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def stream_events() -> dict[str, dict[str, Any]]:
    timer = {
        "pk": {"S": f"PAYMENT#{PAYMENT_ID}"},
        "sk": {"S": "TIMER"},
        "kind": {"S": "timer"},
        "expires_at_epoch": {"N": "1795600800"},
        "attempt": {"N": "0"},
    }
    ttl = _record(1, "REMOVE", "TIMER", ttl=True, old=timer)
    user = _record(2, "REMOVE", "TIMER", ttl=False, old=timer)
    poison = _record(
        3,
        "REMOVE",
        "TIMER",
        ttl=True,
        old={"pk": {"S": "PAYMENT#not-a-payment-id"}, "sk": {"S": "TIMER"}},
        pk="PAYMENT#",
    )
    poison["dynamodb"].pop("OldImage")
    return {
        "ExpiryFunction/ttl-removal.json": {"Records": [ttl]},
        "ExpiryFunction/user-delete.json": {"Records": [user]},
        "ExpiryFunction/poison.json": {"Records": [poison]},
        "ExpiryFunction/mixed-batch.json": {"Records": [user, ttl, poison]},
    }


def _payment_image(stage: str, *, version: int, captured: int = 0, refunded: int = 0, **extra: Any) -> dict[str, Any]:
    from qpay.adapters.dynamo import to_ddb

    item = {
        "pk": f"PAYMENT#{PAYMENT_ID}",
        "sk": "PAYMENT",
        "kind": "payment",
        "id": PAYMENT_ID,
        "reference": "ORD-FIXTURE-1",
        "amount": 12500,
        "currency": "QAR",
        "description": "Order ORD-FIXTURE-1",
        "language": "en",
        "quantity": 1,
        "stage": stage,
        "cko_id": CKO_ID,
        "captured_amount": captured,
        "refunded_amount": refunded,
        "refundable_amount": captured - refunded,
        "version": version,
        "created_at": 1795600000,
        "updated_at": 1795600800,
        "changed_day": "2026-11-25",
        "deadline": 1795601200,
        "attention": False,
        "metadata": {"order": "1"},
        **extra,
    }
    return to_ddb(item)


def _refund_image(state: str, **extra: Any) -> dict[str, Any]:
    from qpay.adapters.dynamo import to_ddb

    item = {
        "pk": f"PAYMENT#{PAYMENT_ID}",
        "sk": f"REFUND#{REFUND_ID}",
        "kind": "refund",
        "id": REFUND_ID,
        "payment_id": PAYMENT_ID,
        "amount": 2500,
        "state": state,
        "reference": "RMA-77",
        "reason": "one item returned",
        "requested_by": "arn:aws:iam::123456789012:user/merchant-backoffice",
        "created_at": 1795600000,
        "updated_at": 1795600800,
        **extra,
    }
    return to_ddb(item)


def _modify(seq: int, sk: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    record = _record(seq, "MODIFY", sk, ttl=False, old=old)
    record["dynamodb"]["NewImage"] = new
    return record


def outbox_events() -> dict[str, dict[str, Any]]:
    captured = _modify(
        11,
        "PAYMENT",
        _payment_image("Capture Pending", version=3),
        _payment_image("Captured", version=4, captured=12500, last_event="payment_captured"),
    )
    refunded = [
        _modify(
            12,
            "PAYMENT",
            _payment_image("Captured", version=5, captured=12500),
            _payment_image("Captured", version=6, captured=12500, refunded=2500),
        ),
        _modify(
            13,
            f"REFUND#{REFUND_ID}",
            _refund_image("Pending", action_id="act_" + _pad("fixturerefundaction")),
            _refund_image("Refunded", action_id="act_" + _pad("fixturerefundaction")),
        ),
    ]
    rearmed = _modify(
        14,
        "PAYMENT",
        _payment_image("Pending", version=2, expiry_attempts=0),
        _payment_image("Pending", version=2, expiry_attempts=1, deadline=1795601500),
    )
    return {
        "OutboxFunction/payment-captured.json": {"Records": [captured]},
        "OutboxFunction/refund-succeeded.json": {"Records": refunded},
        "OutboxFunction/timer-rearmed.json": {"Records": [rearmed]},
    }


def task_events() -> dict[str, dict[str, Any]]:
    base = {"payment_id": PAYMENT_ID, "refund_id": REFUND_ID}
    token = "AQCEAAAAKgAAAAMAAAAAAAAAAfixtureTaskToken000000000000000000"
    return {
        "RefundTaskFunction/request.json": {"task": "request", **base},
        "RefundTaskFunction/await.json": {"task": "await", **base, "task_token": token},
        "RefundTaskFunction/reconcile.json": {"task": "reconcile", **base},
        "RefundTaskFunction/fail.json": {
            "task": "fail",
            **base,
            "error": {
                "Error": "RefundRejected",
                "Cause": json.dumps(
                    {
                        "errorMessage": "Checkout.com answered 422 request_invalid amount_exceeds_balance",
                        "errorType": "RefundRejected",
                    }
                ),
            },
        },
        "RefundTaskFunction/attention.json": {"task": "attention", **base},
    }


def schedule_events() -> dict[str, dict[str, Any]]:
    return {
        "SweepFunction/scheduled.json": {
            "version": "0",
            "id": "d6b4a9a3-58c3-4a8e-9e0e-fixture00001",
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": "123456789012",
            "time": "2026-11-25T10:15:00Z",
            "region": "me-central-1",
            "resources": ["arn:aws:scheduler:me-central-1:123456789012:schedule/default/qpay-sweep"],
            "detail": {},
        },
        # EventBridge Scheduler (ScheduleV2) sends the target's Input: none set, so {}
        "ReconcileFunction/scheduled.json": {},
        "ReconcileFunction/window.json": {"days": 1},
    }


#: How each fixture ends when ``make replay`` sends it into a fresh local stack (``_meta``, read and
#: removed by ``qpay_local.replay``; handlers ignore it). Fixtures not listed end in a 2xx / no error.
_EMPTY = "replayed into a fresh stack: the fixture's payment or refund does not exist there"
REPLAY_META: dict[str, dict[str, Any]] = {
    "CreatePaymentFunction/create-invalid.json": {"expect_status": 422, "note": "amount -5 and currency USD"},
    "GetPaymentFunction/get.json": {"expect_status": 404, "note": _EMPTY},
    "PaymentReturnFunction/success.json": {"expect_status": 303, "note": "the shopper is sent to the storefront"},
    "PaymentReturnFunction/failure.json": {"expect_status": 303, "note": "the shopper is sent to the storefront"},
    "RefundRequestFunction/full.json": {"expect_status": 404, "note": _EMPTY},
    "RefundRequestFunction/partial.json": {"expect_status": 404, "note": _EMPTY},
    "WebhookFunction/bad-signature.json": {
        "keep_signature": True,
        "expect_status": 401,
        "note": "signed with another key: must be refused",
    },
    "ExpiryFunction/poison.json": {"expect_error": "BatchProcessingError", "note": "a timer key without a payment id"},
    "ExpiryFunction/mixed-batch.json": {"expect_batch_failures": 1, "note": "one poison record among good ones"},
    "RefundTaskFunction/request.json": {"expect_error": "NotFound", "note": _EMPTY},
    "RefundTaskFunction/reconcile.json": {"expect_error": "NotFound", "note": _EMPTY},
    "RefundTaskFunction/fail.json": {"expect_error": "NotFound", "note": _EMPTY},
    "RefundTaskFunction/await.json": {"expect_error": "LookupError", "note": _EMPTY},
}


def all_events() -> dict[str, dict[str, Any]]:
    events = {
        **api_events(),
        **webhook_events(),
        **stream_events(),
        **outbox_events(),
        **task_events(),
        **schedule_events(),
    }
    for rel, meta in REPLAY_META.items():
        events[rel] = {**events[rel], "_meta": meta}
    return events


def main() -> None:
    for rel, doc in all_events().items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(all_events())} fixtures under {ROOT}")


if __name__ == "__main__":
    main()

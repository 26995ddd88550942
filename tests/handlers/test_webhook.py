"""POST /webhooks/checkout: signature over raw bytes, the nine QPay types, duplicates, unknowns."""

from __future__ import annotations

import json

import pytest

from tests.conftest import body_of, create_body, invoke_create, invoke_get, invoke_webhook
from tests.support import keys
from tests.support.webhooks import cko_id, encode, notification, sign


@pytest.fixture
def payment(aws, sim):
    body = body_of(invoke_create(create_body()))
    [cko] = sim.payments.values()
    sim.webhooks.clear()
    return body["id"], cko.id


def stored(aws, pid):
    return aws.item(f"PAYMENT#{pid}", "PAYMENT")


def test_bad_signatures_are_401_and_store_nothing(aws, payment) -> None:
    pid, cko = payment
    doc = notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500)
    raw = encode(doc)
    before = aws.items()
    assert invoke_webhook(raw, signature=None)["statusCode"] == 401
    assert invoke_webhook(raw, signature="0" * 64)["statusCode"] == 401
    assert invoke_webhook(raw, signature=sign(raw, "wrong-key"))["statusCode"] == 401
    assert invoke_webhook(raw[:-1] + b" }", signature=sign(raw))["statusCode"] == 401  # tampered body
    # a signature over a re-serialised body (the classic merchant bug) does not verify these bytes
    pretty = json.dumps(doc, indent=2).encode()
    assert invoke_webhook(pretty, signature=sign(raw))["statusCode"] == 401
    assert aws.items() == before


def test_rotated_key_still_accepted(aws, payment) -> None:
    pid, cko = payment
    raw = encode(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    assert invoke_webhook(raw, signature=sign(raw, keys.WEBHOOK_SIGNING_KEY_OLD))["statusCode"] == 200
    assert stored(aws, pid)["stage"] == "Captured"


def test_malformed_signed_body_is_4xx_and_changes_nothing(aws, payment) -> None:
    before = aws.items()
    for raw in (b"not json", b"[]", b'{"id": "evt_x"}'):
        response = invoke_webhook(raw)
        assert response["statusCode"] == 422
        assert body_of(response)["fields"][0]["field"] == "body"
    assert aws.items() == before


def test_unknown_type_and_unknown_payment_are_acknowledged(aws, payment) -> None:
    pid, cko = payment
    before = aws.items()
    unknown_type = notification("card_verified", cko_payment_id=cko, payment_id=pid)
    assert body_of(invoke_webhook(unknown_type))["result"] == "ignored"
    not_ours = notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id=None)
    assert body_of(invoke_webhook(not_ours))["result"] == "unknown_payment"
    missing = notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id="qpp_" + "d" * 26)
    assert body_of(invoke_webhook(missing))["result"] == "unknown"
    assert aws.items() == before


def test_duplicate_is_applied_once(aws, payment) -> None:
    pid, cko = payment
    doc = notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500)
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    version = stored(aws, pid)["version"]
    assert body_of(invoke_webhook(doc))["result"] == "duplicate"
    assert stored(aws, pid)["version"] == version
    assert stored(aws, pid)["applied_events"].count(doc["id"]) == 1


def test_late_capture_pending_after_captured_is_stale(aws, payment) -> None:
    pid, cko = payment
    invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    late = notification("payment_capture_pending", cko_payment_id=cko, payment_id=pid)
    assert body_of(invoke_webhook(late))["result"] == "stale"
    assert stored(aws, pid)["stage"] == "Captured"
    assert late["id"] not in stored(aws, pid)["applied_events"]


def test_capture_after_expiry_wins(aws, payment) -> None:
    pid, cko = payment
    invoke_webhook(notification("payment_expired", cko_payment_id=cko, payment_id=pid))
    assert stored(aws, pid)["stage"] == "Expired"
    invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    item = stored(aws, pid)
    assert item["stage"] == "Captured" and item["refundable_amount"] == 12500


@pytest.mark.parametrize(
    ("event_type", "stage"),
    [
        ("payment_pending", "Pending"),
        ("payment_capture_pending", "Capture Pending"),
        ("payment_captured", "Captured"),
        ("payment_capture_declined", "Declined"),
        ("payment_canceled", "Canceled"),
        ("payment_expired", "Expired"),
    ],
)
def test_each_payment_event_type(aws, payment, event_type, stage) -> None:
    pid, cko = payment
    response = invoke_webhook(notification(event_type, cko_payment_id=cko, payment_id=pid, amount=12500))
    assert response["statusCode"] == 200
    assert stored(aws, pid)["stage"] == stage
    final = stage in ("Captured", "Declined", "Canceled", "Expired")
    assert ("pending_pk" in stored(aws, pid)) is not final


def test_dashboard_refund_webhooks_update_the_amounts(aws, payment) -> None:
    pid, cko = payment
    invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    act = cko_id("act_")
    invoke_webhook(
        notification(
            "payment_refund_pending",
            cko_payment_id=cko,
            payment_id=pid,
            amount=2500,
            action_id=act,
            reference="dashboard",
        )
    )
    refunded = notification(
        "payment_refunded", cko_payment_id=cko, payment_id=pid, amount=2500, action_id=act, reference="dashboard"
    )
    assert body_of(invoke_webhook(refunded))["result"] == "applied"
    view = body_of(invoke_get(pid))
    assert view["status"] == "Partially Refunded" and view["refunded_amount"] == 2500
    # the same refund action reported again under a new event id is not counted twice
    again = notification(
        "payment_refunded", cko_payment_id=cko, payment_id=pid, amount=2500, action_id=act, reference="dashboard"
    )
    assert body_of(invoke_webhook(again))["result"] == "duplicate"
    act2 = cko_id("act_")
    invoke_webhook(
        notification(
            "payment_refunded", cko_payment_id=cko, payment_id=pid, amount=10000, action_id=act2, reference="dashboard"
        )
    )
    view = body_of(invoke_get(pid))
    assert view["status"] == "Refunded" and view["refunded_amount"] == 12500
    assert stored(aws, pid)["refundable_amount"] == 0


def test_refund_declined_for_unknown_refund_changes_no_money(aws, payment) -> None:
    pid, cko = payment
    invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    doc = notification("payment_refund_declined", cko_payment_id=cko, payment_id=pid, amount=500, reference="dashboard")
    assert invoke_webhook(doc)["statusCode"] == 200
    item = stored(aws, pid)
    assert item["refundable_amount"] == 12500 and item["refunded_amount"] == 0


def test_refund_before_capture_is_retried_and_counted_once_the_capture_arrives(aws, payment) -> None:
    pid, cko = payment
    early = notification("payment_refunded", cko_payment_id=cko, payment_id=pid, amount=2500, reference="dashboard")
    first = invoke_webhook(early)
    assert first["statusCode"] == 409 and body_of(first)["code"] == "not_yet"  # Checkout delivers it again
    assert stored(aws, pid)["refunded_amount"] == 0
    invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    assert invoke_webhook(early)["statusCode"] == 200  # Checkout's retry
    item = stored(aws, pid)
    assert item["refundable_amount"] == 10000
    assert body_of(invoke_get(pid))["status"] == "Partially Refunded"

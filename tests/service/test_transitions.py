"""service/transitions: what Checkout.com's GET answer does to a stored payment, whoever asked (return,
expiry, sweep, reconciliation), and what it hands back to its caller."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from qpay import deps
from qpay.domain.states import Stage
from qpay.service.transitions import apply_checkout_status, apply_event, retention
from tests.service.helpers import NOW, pending_payment, settings
from tests.support.webhooks import cko_id


def _apply(payment: Any, doc: dict[str, Any], *, now: int = NOW + 60, source: str = "return") -> Any:
    return apply_checkout_status(deps.store(), payment, doc, now=now, settings=settings(), source=source)


def _doc(payment: Any, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": payment.cko_id, "status": status, "amount": payment.amount, **extra}


@pytest.mark.parametrize(
    ("extra", "captured"),
    [
        ({"balances": {"total_captured": 12000}, "amount": 12500}, 12000),  # what Checkout captured wins
        ({"balances": {"total_captured": "12000"}, "amount": 11000}, 11000),  # not an int: the amount
        ({"balances": {}, "amount": 11000}, 11000),
        ({"amount": 10000}, 10000),
        ({"amount": True}, 12500),  # not an amount: QPay captures the whole payment
        ({"amount": None}, 12500),
    ],
)
def test_a_capture_records_what_was_taken(aws: Any, extra: dict[str, Any], captured: int) -> None:
    payment = pending_payment(amount=12500)
    returned = _apply(payment, _doc(payment, "Captured", **extra))
    stored = deps.store().get_payment(payment.id)
    assert (stored.stage, stored.captured_amount, stored.refundable_amount) == (Stage.CAPTURED, captured, captured)
    # the caller gets the payment as stored, without reading it again
    assert returned == stored
    assert (returned.version, returned.updated_at) == (payment.version + 1, NOW + 60)


@pytest.mark.parametrize(("taken", "flagged"), [(12000, True), (12499, True), (12501, True), (12500, False)])
def test_a_capture_of_another_amount_than_ordered_is_parked_and_flagged(
    aws: Any, capfd: Any, taken: int, flagged: bool
) -> None:
    payment = pending_payment(amount=12500)
    returned = _apply(payment, _doc(payment, "Captured", amount=taken))
    stored = deps.store().get_payment(payment.id)
    assert returned == stored and (stored.stage, stored.captured_amount) == (Stage.CAPTURED, taken)
    assert stored.attention is flagged
    assert stored.attention_reason == (f"captured {taken}, ordered 12500" if flagged else None)
    anomaly = aws.item(f"PAYMENT#{payment.id}", "ANOMALY#capture:amount")
    if flagged:
        assert anomaly["anomaly"] == "capture_amount_mismatch"
        assert anomaly["detail"] == {"captured_amount": taken, "amount": 12500}
        assert anomaly["recorded_at"] == NOW + 60
    else:
        assert anomaly is None
    assert ("WebhookAnomalies" in capfd.readouterr().out) is flagged


def test_a_redelivered_mismatched_capture_is_parked_once(aws: Any, capfd: Any) -> None:
    payment = pending_payment(amount=12500)
    for _ in range(2):
        apply_event(
            deps.store(), payment.id, event_id="evt_x", event_type="payment_captured", cko_id=payment.cko_id,
            amount=12000, now=NOW + 60, settings=settings(),
        )  # fmt: skip
    lines = capfd.readouterr().out.splitlines()
    assert sum("WebhookAnomalies" in line for line in lines) == 1  # one metric line: parked once


def test_the_refundable_balance_subtracts_what_was_refunded(aws: Any) -> None:
    payment = pending_payment(amount=12500)
    earlier = dataclasses.replace(payment, refunded_amount=2000)  # as if refunds were counted meanwhile
    returned = _apply(earlier, _doc(payment, "Captured", amount=12500))
    assert (returned.captured_amount, returned.refundable_amount) == (12500, 10500)


@pytest.mark.parametrize(
    ("status", "stage"),
    [
        ("Declined", Stage.DECLINED),
        ("Canceled", Stage.CANCELED),
        ("Expired", Stage.EXPIRED),
        ("Voided", Stage.EXPIRED),
        ("Authorized", Stage.CAPTURE_PENDING),
        ("Paid", Stage.CAPTURED),
    ],
)
def test_each_checkout_status_moves_the_payment(aws: Any, status: str, stage: Stage) -> None:
    payment = pending_payment()
    returned = _apply(payment, _doc(payment, status), source="expiry")
    assert returned == deps.store().get_payment(payment.id)
    assert returned.stage is stage
    events = [i["sk"]["S"] for i in aws.items() if i["sk"]["S"].startswith("EVENT#")]
    applied = aws.item(f"PAYMENT#{payment.id}", "PAYMENT")["applied_events"]
    assert events == [] and applied == [f"expiry:{_event(status)}"]  # the event id names who heard it


def _event(status: str) -> str:
    from qpay.domain.states import CHECKOUT_STATUS_EVENTS

    return CHECKOUT_STATUS_EVENTS[status]


@pytest.mark.parametrize("status", ["Pending", "Weird", "None"])
def test_statuses_that_move_nothing_return_the_payment_untouched(aws: Any, capfd: Any, status: str) -> None:
    payment = pending_payment()
    before = aws.items()
    assert _apply(payment, _doc(payment, status)) is payment
    assert aws.items() == before
    out = capfd.readouterr().out
    assert ('"CheckoutStatusUnmapped":[1.0]' in out) is (status != "Pending")


def test_a_stale_answer_returns_the_payment_as_stored(aws: Any) -> None:
    payment = pending_payment()
    captured = _apply(payment, _doc(payment, "Captured"))
    # our copy still says Pending, Checkout says Declined: nothing moves, the caller learns it is Captured
    assert _apply(payment, _doc(payment, "Declined")) == captured
    assert deps.store().get_payment(payment.id).stage is Stage.CAPTURED


def test_an_answer_about_another_checkout_payment_is_not_applied(aws: Any) -> None:
    payment = pending_payment()
    other = {"id": cko_id("pay_"), "status": "Captured", "amount": payment.amount}
    returned = _apply(payment, other)
    assert returned.stage is Stage.PENDING and returned.cko_id == payment.cko_id
    assert deps.store().get_payment(payment.id).stage is Stage.PENDING


def test_the_same_answer_twice_is_one_transition(aws: Any) -> None:
    payment = pending_payment()
    first = _apply(payment, _doc(payment, "Authorized"))
    again = _apply(payment, _doc(payment, "Authorized"))  # our copy is old: a duplicate at the store
    assert again == first == deps.store().get_payment(payment.id)


def test_a_capture_after_an_ending_is_flagged_for_a_human(aws: Any, capfd: Any) -> None:
    payment = pending_payment()
    ended = _apply(payment, _doc(payment, "Expired"))
    assert ended.stage is Stage.EXPIRED
    done = apply_event(
        deps.store(), payment.id, event_id="evt_late", event_type="payment_captured", cko_id=payment.cko_id,
        amount=12500, now=NOW + 120, settings=settings(),
    )  # fmt: skip
    assert done.result.value == "applied"
    stored = deps.store().get_payment(payment.id)
    assert stored.stage is Stage.CAPTURED and stored.attention
    assert stored.attention_reason == "captured after it had ended (Expired): check for a second payment"
    assert '"PaymentsCapturedAfterEnd":[1.0]' in capfd.readouterr().out


def test_an_event_about_another_checkout_payment_is_recorded_once(aws: Any, capfd: Any) -> None:
    payment = pending_payment()
    other = cko_id("pay_")
    for _ in range(2):
        done = apply_event(
            deps.store(), payment.id, event_id="evt_x", event_type="payment_captured", cko_id=other,
            amount=12500, now=NOW + 1, settings=settings(),
        )  # fmt: skip
        assert done.result.value == "foreign"
    anomalies = [aws.item(f"PAYMENT#{payment.id}", i["sk"]["S"]) for i in aws.items() if "ANOMALY" in i["sk"]["S"]]
    assert len(anomalies) == 1
    assert anomalies[0]["anomaly"] == "foreign_checkout_payment"
    assert anomalies[0]["sk"] == "ANOMALY#event:evt_x"
    assert anomalies[0]["detail"] == {
        "event_id": "evt_x",
        "event_type": "payment_captured",
        "cko_id": other,
        "bound_cko_id": payment.cko_id,
    }
    assert capfd.readouterr().out.count('"WebhookAnomalies":[1.0]') == 1


def test_retention_is_days_after_now(aws: Any) -> None:
    assert retention(1_000, settings(event_retention_days=2)) == 1_000 + 2 * 86400

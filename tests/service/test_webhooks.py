"""service/webhooks.handle, called directly: the de-duplication window's edge, payments found by
Checkout's id, what each result means for the stored payment, and the 4xx texts a sender sees."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qpay import deps
from qpay.domain.errors import Unauthorized, ValidationFailed
from qpay.domain.states import Stage
from qpay.service.webhooks import authenticate, handle, read_event
from tests.service.helpers import NOW, captured_payment, pending_payment, signed, webhook_ports
from tests.support import keys
from tests.support.webhooks import cko_id, notification

DAY = 86400


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _captured(payment: Any, **extra: Any) -> dict[str, Any]:
    doc = notification("payment_captured", cko_payment_id=payment.cko_id, payment_id=payment.id, amount=12500)
    doc.update(extra)
    return doc


def _handle(doc: dict[str, Any], *, now: int = NOW, **settings: Any) -> str:
    raw, signature = signed(doc)
    return handle(raw, signature=signature, authorization=None, now=now, ports=webhook_ports(**settings))


@pytest.mark.parametrize(
    ("age_s", "result", "stage"),
    [
        (89 * DAY, "applied", Stage.CAPTURED),  # exactly the window less a day: still applied
        (89 * DAY + 1, "too_old", Stage.PENDING),  # one second more: a replay, acknowledged, never applied
        (0, "applied", Stage.CAPTURED),
    ],
)
def test_the_deduplication_window_has_a_sharp_edge(aws: Any, age_s: int, result: str, stage: Stage) -> None:
    # event_retention_days = 90: duplicates are remembered 90 days; anything dated older than 89 is refused
    payment = pending_payment()
    assert _handle(_captured(payment, created_on=_iso(NOW - age_s)), event_retention_days=90) == result
    assert deps.store().get_payment(payment.id).stage is stage


def test_the_window_follows_the_retention_setting(aws: Any) -> None:
    payment = pending_payment()
    doc = _captured(payment, created_on=_iso(NOW - 2 * DAY))
    assert _handle(doc, event_retention_days=2) == "too_old"
    assert _handle(doc, event_retention_days=3) == "applied"


def test_an_undated_notification_is_not_too_old(aws: Any) -> None:
    payment = pending_payment()
    doc = _captured(payment)
    doc.pop("created_on", None)
    assert _handle(doc) == "applied"


def test_a_webhook_without_our_id_finds_its_payment_by_checkout_id(aws: Any) -> None:
    payment = pending_payment()
    doc = notification("payment_canceled", cko_payment_id=payment.cko_id, payment_id=None)  # no metadata
    assert _handle(doc) == "applied"
    assert deps.store().get_payment(payment.id).stage is Stage.CANCELED


def test_a_webhook_before_the_create_finished_binds_checkout_s_id(aws: Any) -> None:
    payment = pending_payment(bound=False)  # the create call has not returned yet
    pay = cko_id("pay_")
    doc = notification("payment_capture_pending", cko_payment_id=pay, payment_id=payment.id)
    assert _handle(doc) == "applied"
    stored = deps.store().get_payment(payment.id)
    assert (stored.stage, stored.cko_id) == (Stage.CAPTURE_PENDING, pay)


def test_the_captured_amount_comes_from_the_notification(aws: Any) -> None:
    payment = pending_payment(amount=12500)
    doc = notification("payment_captured", cko_payment_id=payment.cko_id, payment_id=payment.id, amount=12000)
    assert _handle(doc) == "applied"
    stored = deps.store().get_payment(payment.id)
    assert (stored.captured_amount, stored.refundable_amount) == (12000, 12000)


@pytest.mark.parametrize(
    ("doc", "result"),
    [
        (notification("card_verified", cko_payment_id=cko_id("pay_"), payment_id=None), "ignored"),
        (notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id=None), "unknown_payment"),
    ],
)
def test_what_is_not_ours_is_acknowledged_and_changes_nothing(aws: Any, doc: dict[str, Any], result: str) -> None:
    before = aws.items()
    assert _handle(doc) == result
    assert aws.items() == before


def test_a_duplicate_changes_nothing(aws: Any) -> None:
    payment = pending_payment()
    doc = _captured(payment)
    assert _handle(doc) == "applied"
    before = aws.items()
    assert _handle(doc) == "duplicate"
    assert aws.items() == before


def test_a_refund_outcome_without_action_id_is_refused_naming_the_field(aws: Any) -> None:
    payment = pending_payment()
    doc = notification("payment_refunded", cko_payment_id=payment.cko_id, payment_id=payment.id)
    del doc["data"]["action_id"]
    with pytest.raises(ValidationFailed) as info:
        _handle(doc)
    assert info.value.message == "refund notification without action_id"
    assert info.value.details == [{"field": "data.action_id", "issue": "required"}]


def test_unreadable_bodies_say_why(aws: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        read_event(b'{"id": "evt_1"}')
    assert info.value.message == "not a Checkout.com notification: id and type are required strings"
    assert info.value.details == [{"field": "body", "issue": "id and type are required strings"}]
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValidationFailed) as info:
        read_event(deep)
    assert info.value.message == "not a Checkout.com notification: nested too deeply"
    assert info.value.details == [{"field": "body", "issue": "too deep"}]
    with pytest.raises(ValidationFailed) as info:
        read_event(b"not json")
    assert info.value.details[0]["field"] == "body"


def test_authentication_names_what_failed(aws: Any) -> None:
    raw, signature = signed({"id": "evt_1"})
    current = deps.keys()
    authenticate(raw, signature=signature, authorization=None, keys=current)  # no error
    with pytest.raises(Unauthorized) as info:
        authenticate(raw, signature="0" * 64, authorization=None, keys=current)
    assert info.value.message == "Cko-Signature does not match the body"
    with_header = type(current)(
        webhook_signing_keys=(keys.WEBHOOK_SIGNING_KEY,), webhook_authorization="Bearer shared-secret-0123456789"
    )
    authenticate(raw, signature=signature, authorization="Bearer shared-secret-0123456789", keys=with_header)
    for wrong in (None, "Bearer nope", ""):
        with pytest.raises(Unauthorized) as info:
            authenticate(raw, signature=signature, authorization=wrong, keys=with_header)
        assert info.value.message == "webhook authorization header is not valid"


def test_a_redelivered_refund_outcome_still_wakes_the_waiting_workflow(aws: Any) -> None:
    """The first delivery counted the outcome and died before waking the workflow: the redelivery
    (a duplicate) must wake it, or the workflow sits out its whole timeout."""
    from qpay.domain.records import Refund
    from qpay.service.refund_outcomes import record_refund_outcome

    payment = captured_payment(amount=10000)
    store = deps.store()
    rid = "qrf_" + "a" * 26
    store.reserve_refund(Refund(id=rid, payment_id=payment.id, amount=4000, created_at=NOW, updated_at=NOW), now=NOW)
    store.mark_refund_pending(payment.id, rid, action_id="act_1", now=NOW)
    store.store_task_token(payment.id, rid, token="tok-1", now=NOW)
    doc = notification(
        "payment_refunded", cko_payment_id=payment.cko_id, payment_id=payment.id, amount=4000, action_id="act_1",
        reference=rid,
    )  # fmt: skip
    record_refund_outcome(  # the first delivery's write; it died before the notify
        store, payment.id, action_id="act_1", amount=4000, currency="QAR", approved=True, reference=rid,
        event_id=doc["id"], now=NOW + 1, retain_until=NOW + 99,
    )  # fmt: skip
    sent: list[dict[str, Any]] = []

    class Sfn:
        def send_task_success(self, *, taskToken: str, output: str) -> None:
            sent.append({"token": taskToken, "output": json.loads(output)})

    raw, signature = signed(doc)
    ports = webhook_ports()
    ports = type(ports)(store=ports.store, settings=ports.settings, keys=ports.keys, stepfunctions=Sfn())
    assert handle(raw, signature=signature, authorization=None, now=NOW + 2, ports=ports) == "duplicate"
    assert sent == [{"token": "tok-1", "output": {"refund_id": rid, "state": "Refunded", "action_id": "act_1"}}]


class _Sfn:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_task_success(self, *, taskToken: str, output: str) -> None:
        self.sent.append({"token": taskToken, "output": json.loads(output)})


def _refund_in_flight(amount: int = 4000, *, token: str | None = "tok-1") -> tuple[Any, str]:
    from qpay.domain.records import Refund

    payment = captured_payment(amount=10000)
    store = deps.store()
    rid = "qrf_" + "a" * 26
    store.reserve_refund(Refund(id=rid, payment_id=payment.id, amount=amount, created_at=NOW, updated_at=NOW), now=NOW)
    store.mark_refund_pending(payment.id, rid, action_id="act_1", now=NOW)
    if token:
        store.store_task_token(payment.id, rid, token=token, now=NOW)
    return payment, rid


def _deliver(doc: dict[str, Any], sfn: Any) -> str:
    raw, signature = signed(doc)
    ports = webhook_ports()
    ports = type(ports)(store=ports.store, settings=ports.settings, keys=ports.keys, stepfunctions=sfn)
    return handle(raw, signature=signature, authorization=None, now=NOW + 5, ports=ports)


@pytest.mark.parametrize(
    ("event_type", "state", "money"),
    [("payment_refunded", "Refunded", (4000, 6000)), ("payment_refund_declined", "Declined", (0, 10000))],
)
def test_a_refund_outcome_is_counted_and_wakes_the_workflow(
    aws: Any, event_type: str, state: str, money: tuple[int, int]
) -> None:
    payment, rid = _refund_in_flight()
    sfn = _Sfn()
    doc = notification(event_type, cko_payment_id=payment.cko_id, payment_id=payment.id, amount=4000, action_id="act_1")
    assert _deliver(doc, sfn) == "applied"
    stored = deps.store().get_payment(payment.id)
    assert (stored.refunded_amount, stored.refundable_amount) == money
    assert deps.store().get_refund(payment.id, rid).state.value == state
    assert sfn.sent == [{"token": "tok-1", "output": {"refund_id": rid, "state": state, "action_id": "act_1"}}]


def test_a_refund_made_elsewhere_is_counted_and_wakes_nothing(aws: Any) -> None:
    payment, _ = _refund_in_flight()
    sfn = _Sfn()
    doc = notification(
        "payment_refunded", cko_payment_id=payment.cko_id, payment_id=payment.id, amount=1000, action_id="act_dash",
        reference="ORD-1",
    )  # fmt: skip
    assert _deliver(doc, sfn) == "applied"
    assert deps.store().get_payment(payment.id).refunded_amount == 1000
    assert sfn.sent == []


def test_refund_pending_is_recorded_for_a_refund_we_know_by_its_action(aws: Any) -> None:
    payment, rid = _refund_in_flight(token=None)
    store = deps.store()
    doc = notification("payment_refund_pending", cko_payment_id=payment.cko_id, payment_id=None, action_id="act_1")
    assert _deliver(doc, None) == "recorded"
    assert store.get_refund(payment.id, rid).state.value == "Pending"
    unknown = notification(
        "payment_refund_pending", cko_payment_id=payment.cko_id, payment_id=None, action_id="act_other"
    )
    before = aws.items()
    assert _deliver(unknown, None) == "ignored"  # nothing to match yet: its outcome will say
    assert aws.items() == before


@pytest.mark.parametrize("unusable", ["webhook_signing_keys", "webhook_authorization"])
def test_an_unusable_webhook_key_refuses_every_notification(aws: Any, unusable: str) -> None:
    from qpay.adapters.secrets import SecretsInvalid

    raw, signature = signed({"id": "evt_1"})
    refusing = type(deps.keys())(
        webhook_signing_keys=(keys.WEBHOOK_SIGNING_KEY,), problems={unusable: "a placeholder (set-me)"}
    )
    with pytest.raises(SecretsInvalid) as info:
        authenticate(raw, signature=signature, authorization=None, keys=refusing)
    assert info.value.problems == [f"{unusable}: a placeholder (set-me)"]
    # a problem with a key webhooks do not use does not stop them
    other = type(deps.keys())(webhook_signing_keys=(keys.WEBHOOK_SIGNING_KEY,), problems={"order_token_keys": "x"})
    authenticate(raw, signature=signature, authorization=None, keys=other)


def test_the_authorization_header_reaches_the_check(aws: Any) -> None:
    import dataclasses

    payment = pending_payment()
    raw, signature = signed(_captured(payment))
    ports = webhook_ports()
    shared = "Bearer shared-secret-0123456789"
    guarded = dataclasses.replace(
        ports, keys=type(deps.keys())(webhook_signing_keys=(keys.WEBHOOK_SIGNING_KEY,), webhook_authorization=shared)
    )
    assert handle(raw, signature=signature, authorization=shared, now=NOW, ports=guarded) == "applied"
    with pytest.raises(Unauthorized):
        handle(raw, signature=signature, authorization=None, now=NOW, ports=guarded)


# -- decline reasons reach the merchant (review U4) ------------------------------------------------------------


def _declined(payment: Any, **data: Any) -> dict[str, Any]:
    doc = notification("payment_capture_declined", cko_payment_id=payment.cko_id, payment_id=payment.id)
    doc["data"].update(data)
    return doc


def test_a_decline_keeps_checkouts_reason_for_the_merchant(aws: Any) -> None:
    from qpay.api.views import payment_view

    payment = pending_payment()
    assert _handle(_declined(payment, response_code="20006", response_summary="Incorrect PIN")) == "applied"
    stored = deps.store().get_payment(payment.id)
    assert stored.stage is Stage.DECLINED
    assert stored.decline == {"response_code": "20006", "response_summary": "Incorrect PIN"}
    merchant = payment_view(stored, [], now=NOW, merchant=True)
    assert merchant["decline"] == {"response_code": "20006", "response_summary": "Incorrect PIN"}
    assert "decline" not in payment_view(stored, [], now=NOW, merchant=False)  # not for the browser


def test_a_redelivered_or_later_decline_never_replaces_the_first_reason(aws: Any) -> None:
    payment = pending_payment()
    _handle(_declined(payment, response_code="20006", response_summary="Incorrect PIN"))
    again = _declined(payment, response_code="20051", response_summary="Insufficient Funds")
    assert _handle(again) == "stale"  # another decline notification: the payment is declined already
    assert deps.store().get_payment(payment.id).decline == {
        "response_code": "20006",
        "response_summary": "Incorrect PIN",
    }


def test_a_decline_after_the_return_already_declined_it_still_tells_why(aws: Any) -> None:
    # the shopper's return asks Checkout first (its GET carries no reason); the webhook comes after
    from qpay.service.transitions import apply_checkout_status
    from tests.service.helpers import settings

    payment = pending_payment()
    doc = {"id": payment.cko_id, "status": "Declined"}  # Checkout's GET: no response_code on the payment
    apply_checkout_status(deps.store(), payment, doc, now=NOW, settings=settings(), source="return")
    assert deps.store().get_payment(payment.id).decline is None  # no reason given: none invented
    assert _handle(_declined(payment, response_code="20006", response_summary="Incorrect PIN")) == "stale"
    assert deps.store().get_payment(payment.id).decline == {
        "response_code": "20006",
        "response_summary": "Incorrect PIN",
    }


def test_no_reason_is_kept_on_a_payment_that_ended_otherwise(aws: Any) -> None:
    payment = captured_payment()
    doc = _declined(payment, response_code="20006", response_summary="Incorrect PIN")
    _handle(doc)
    stored = deps.store().get_payment(payment.id)
    assert stored.stage is Stage.CAPTURED and stored.decline is None

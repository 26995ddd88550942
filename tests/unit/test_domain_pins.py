"""What the domain promises to its callers, pinned exactly: the texts that reach an API error body or a
webhook's 422, the limits of what a notification may carry, the jitter interval, the client secret scheme.
Each of these was a surviving mutant (``make mutation``): a change here must fail a test."""

from __future__ import annotations

import random

import pytest

from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, NotRefundable, ValidationFailed
from qpay.domain.events import MAX_EVENT_ID, MalformedEvent, parse_event
from qpay.domain.expiry import rearm_delay
from qpay.domain.refunds import refund_amount
from qpay.domain.states import Stage
from tests.support.webhooks import cko_id

SERVER_KEY = "srv_unit_test_server_key_0123456789_abcdef"


# ------------------------------------------------------------------ refund errors (API body: message + fields)
@pytest.mark.parametrize(
    ("requested", "refundable", "stage", "error", "message", "fields"),
    [
        (
            None,
            0,
            Stage.CAPTURED,
            AmountExceedsBalance,
            "nothing left to refund",
            [{"field": "amount", "issue": "no refundable balance"}],
        ),
        (
            701,
            700,
            Stage.CAPTURED,
            AmountExceedsBalance,
            "amount 701 exceeds the refundable balance 700",
            [{"field": "amount", "issue": "at most 700"}],
        ),
        (
            0,
            700,
            Stage.CAPTURED,
            ValidationFailed,
            "invalid amount",
            [{"field": "amount", "issue": "must be a positive integer"}],
        ),
        (100, 700, Stage.PENDING, NotRefundable, "payment is Pending: only captured payments can be refunded", []),
        (100, 700, Stage.EXPIRED, NotRefundable, "payment is Expired: only captured payments can be refunded", []),
    ],
)
def test_refund_refusals_say_exactly_why(
    requested: int | None,
    refundable: int,
    stage: Stage,
    error: type,
    message: str,
    fields: list[dict[str, str]],
) -> None:
    with pytest.raises(error) as info:
        refund_amount(requested, refundable, stage)
    assert (info.value.message, info.value.details, str(info.value)) == (message, fields, message)


# ------------------------------------------------------------------ notifications
def _doc(**data: object) -> dict[str, object]:
    base: dict[str, object] = {"id": cko_id("pay_"), "metadata": {"qpay_payment_id": ids.new_payment_id()}}
    base.update(data)
    return {"id": "evt_1", "type": "payment_captured", "data": base}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "body is not a JSON object"),
        ({**_doc(), "id": ""}, "id and type are required strings"),
        ({**_doc(), "type": 7}, "id and type are required strings"),
        ({**_doc(), "data": None}, "data is required"),
        (_doc(id="pay_short"), "data.id must be a Checkout.com payment id"),
        (_doc(id=5), "data.id must be a Checkout.com payment id"),
    ],
)
def test_malformed_notifications_say_what_is_wrong(doc: object, message: str) -> None:
    # the text becomes the 422's fields[].issue: Checkout's Dashboard shows it to whoever debugs the webhook
    with pytest.raises(MalformedEvent) as info:
        parse_event(doc)
    assert str(info.value) == message


def test_a_notification_carries_its_ids_through() -> None:
    pay = cko_id("pay_")
    event = parse_event({"id": "evt_7", "type": "payment_captured", "data": {"id": pay}})
    assert (event.event_id, event.type, event.cko_payment_id, event.payment_id) == (
        "evt_7",
        "payment_captured",
        pay,
        None,
    )


def test_text_fields_are_one_to_256_characters() -> None:
    assert parse_event(_doc(reference="R")).reference == "R"  # one character is a reference
    assert parse_event(_doc(reference="r" * 256)).reference == "r" * 256
    assert parse_event(_doc(reference="r" * 257)).reference is None
    assert parse_event(_doc(action_id="a")).action_id == "a"
    assert parse_event({**_doc(), "type": "t"}).type == "t"
    assert parse_event({**_doc(), "id": "e" * MAX_EVENT_ID}).event_id == "e" * MAX_EVENT_ID
    assert MAX_EVENT_ID == 128


# ------------------------------------------------------------------ expiry
class _Recording(random.Random):
    def __init__(self) -> None:
        super().__init__(0)
        self.calls: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.calls.append((a, b))
        return b


def test_rearm_jitter_is_full_jitter_from_zero() -> None:
    rng = _Recording()
    assert [rearm_delay(n, 300, 3600, rng) for n in (1, 2, 3)] == [300, 600, 1200]
    assert rng.calls == [(0, 300), (0, 600), (0, 1200)]


def test_rearm_delay_uses_the_module_rng_without_one() -> None:
    random.seed(7)
    first = [rearm_delay(4, 300, 3600) for _ in range(5)]
    random.seed(7)
    assert first == [max(300, int(random.uniform(0, 2400))) for _ in range(5)]


# ------------------------------------------------------------------ ids
def test_client_secret_scheme_is_pinned() -> None:
    # derived, never stored: a silent change of the scheme would lock every shopper out of their payment page
    pid = "qpp_oeaop3obeuchblwxfecjc3pzrx"
    assert ids.client_secret_for(SERVER_KEY, pid) == (
        "qpp_oeaop3obeuchblwxfecjc3pzrx_secret_ob6f3znumikyetdga3wf4jmv5dv4ufyyyli2ez3km246emhtj7pq"
    )
    assert ids.client_secret_for(SERVER_KEY, pid) != ids.client_secret_for(SERVER_KEY, ids.new_payment_id())


# ------------------------------------------------------------------ records
@pytest.mark.parametrize(
    ("stage", "now", "awaiting"),
    [
        (Stage.PENDING, 999, False),  # before its deadline: just pending
        (Stage.PENDING, 1000, True),  # from the deadline on: awaiting Checkout's word, never "expired"
        (Stage.CAPTURE_PENDING, 1000, True),
        (Stage.CAPTURED, 5000, False),
        (Stage.EXPIRED, 5000, False),
        (Stage.DECLINED, 999, False),
    ],
)
def test_awaiting_confirmation_is_open_and_past_the_deadline(stage: Stage, now: int, awaiting: bool) -> None:
    from qpay.domain.records import Payment

    payment = Payment(
        id="qpp_x", reference="R", amount=1, currency="QAR", description="d", language="en", quantity=1,
        stage=stage, deadline=1000,
    )  # fmt: skip
    assert payment.awaiting_confirmation(now) is awaiting

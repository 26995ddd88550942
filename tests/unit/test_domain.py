from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpay.api.auth import authenticate, mint_order_token
from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, Forbidden, NotRefundable, Unauthorized, ValidationFailed
from qpay.domain.events import MalformedEvent, parse_event
from qpay.domain.expiry import rearm_delay, should_flag
from qpay.domain.money import format_amount, is_valid_amount
from qpay.domain.refunds import refund_amount
from qpay.domain.signature import sign, verify
from qpay.domain.states import Stage
from tests.support.webhooks import cko_id, notification


def test_ids_have_their_formats() -> None:
    assert ids.is_payment_id(ids.new_payment_id())
    assert ids.is_refund_id(ids.new_refund_id())
    assert ids.payment_id_for_key("s", "k") == ids.payment_id_for_key("s", "k")
    assert ids.payment_id_for_key("s", "k") != ids.payment_id_for_key("t", "k")
    assert ids.is_payment_id(ids.payment_id_for_key("s", "k"))


@pytest.mark.parametrize("value", [1, 100, 2_147_483_647])
def test_valid_amounts(value: int) -> None:
    assert is_valid_amount(value)


@pytest.mark.parametrize("value", [0, -1, 1.5, "100", True, None, 2_147_483_648])
def test_invalid_amounts(value: object) -> None:
    assert not is_valid_amount(value)


def test_format_amount() -> None:
    assert format_amount(12500, "QAR") == "125.00 QAR"


def test_refund_amount_rules() -> None:
    assert refund_amount(None, 700, Stage.CAPTURED) == 700
    assert refund_amount(300, 700, Stage.CAPTURED) == 300
    with pytest.raises(AmountExceedsBalance):
        refund_amount(701, 700, Stage.CAPTURED)
    with pytest.raises(AmountExceedsBalance):
        refund_amount(None, 0, Stage.CAPTURED)
    with pytest.raises(NotRefundable):
        refund_amount(100, 700, Stage.PENDING)
    with pytest.raises(ValidationFailed):
        refund_amount(0, 700, Stage.CAPTURED)


@given(body=st.binary(max_size=300), key=st.text(min_size=1, max_size=40))
def test_signature_verifies_exact_bytes_only(body: bytes, key: str) -> None:
    sig = sign(body, key)
    assert verify(body, sig, [key])
    assert verify(body, sig.upper(), ["other", key])
    assert not verify(body + b" ", sig, [key])
    assert not verify(body, sig, ["not-" + key])
    assert not verify(body, None, [key])


def test_parse_event_reads_our_payment_id() -> None:
    pid = ids.new_payment_id()
    event = parse_event(notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id=pid, amount=500))
    assert event.payment_id == pid and event.amount == 500 and event.type == "payment_captured"


@pytest.mark.parametrize(
    "doc", [[], {"id": "evt_x"}, {"id": "e", "type": "t", "data": {"id": "nope"}}, {"id": "e", "type": "t"}]
)
def test_parse_event_rejects_malformed(doc: object) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(doc)


def test_parse_event_ignores_forged_payment_ids() -> None:
    doc = notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id="not-ours")
    assert parse_event(doc).payment_id is None


def test_rearm_backoff_is_bounded_and_at_least_the_base() -> None:
    rng = random.Random(1)
    delays = [rearm_delay(n, 300, 3600, rng) for n in range(1, 30)]
    assert all(300 <= d <= 3600 for d in delays)
    assert should_flag(0, 100, 100) and not should_flag(0, 99, 100)


def test_order_token_round_trip_and_tamper() -> None:
    token = mint_order_token("k1", reference="ORD-9", amount=500, currency="QAR", expires_at=2_000)
    body = {"reference": "ORD-9", "amount": 500, "currency": "QAR"}
    caller = authenticate(
        authorization=None, order_token=token, body=body, api_keys=(), token_keys=("k0", "k1"), now=1_000, leeway_s=0
    )
    assert caller.kind == "order-token"
    with pytest.raises(Forbidden):  # the shopper changed the amount
        authenticate(
            authorization=None,
            order_token=token,
            body={**body, "amount": 1},
            api_keys=(),
            token_keys=("k1",),
            now=1_000,
            leeway_s=0,
        )
    with pytest.raises(Forbidden):  # expired
        authenticate(
            authorization=None, order_token=token, body=body, api_keys=(), token_keys=("k1",), now=3_000, leeway_s=0
        )
    with pytest.raises(Forbidden):  # signed with another key
        authenticate(
            authorization=None, order_token=token, body=body, api_keys=(), token_keys=("k2",), now=1_000, leeway_s=0
        )
    head, payload, mac = token.split(".")
    with pytest.raises(Forbidden):
        authenticate(
            authorization=None,
            order_token=f"{head}.{payload[:-2]}xx.{mac}",
            body=body,
            api_keys=(),
            token_keys=("k1",),
            now=1_000,
            leeway_s=0,
        )


def test_merchant_key_auth() -> None:
    assert (
        authenticate(
            authorization="Bearer mk", order_token=None, body={}, api_keys=("mk",), token_keys=(), now=0, leeway_s=0
        ).kind
        == "merchant"
    )
    with pytest.raises(Unauthorized):
        authenticate(
            authorization="Bearer nope", order_token=None, body={}, api_keys=("mk",), token_keys=(), now=0, leeway_s=0
        )
    with pytest.raises(Unauthorized):
        authenticate(authorization=None, order_token=None, body={}, api_keys=("mk",), token_keys=(), now=0, leeway_s=0)

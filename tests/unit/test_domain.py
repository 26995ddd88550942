from __future__ import annotations

import random
import time

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpay.api.auth import AUDIENCE, authenticate, authorize_read, mint_order_token
from qpay.domain import ids
from qpay.domain.errors import AmountExceedsBalance, Forbidden, NotFound, NotRefundable, Unauthorized, ValidationFailed
from qpay.domain.events import METADATA_PAYMENT_ID, MalformedEvent, parse_event
from qpay.domain.expiry import rearm_delay, should_flag
from qpay.domain.money import MAX_AMOUNT, MINOR_UNITS, is_valid_amount
from qpay.domain.records import Refund
from qpay.domain.refund_states import FINAL_REFUND_STATES, OPEN_REFUND_STATES, RefundState
from qpay.domain.refunds import match_refund, outcome_problem, refund_amount
from qpay.domain.signature import sign, verify
from qpay.domain.states import Stage
from tests.support.webhooks import cko_id, notification

SERVER_KEY = "srv_unit_test_server_key_0123456789_abcdef"
TOKEN_KEY = "otk_unit_test_token_key_0123456789_abcdefgh"


# ------------------------------------------------------------------ ids
def test_ids_have_their_formats() -> None:
    assert ids.is_payment_id(ids.new_payment_id())
    assert ids.is_refund_id(ids.new_refund_id())
    assert ids.is_payment_id(ids.payment_id_for_key(SERVER_KEY, "merchant", "k"))


def test_payment_id_derivation_is_pinned() -> None:
    # a silent change of the scheme would break idempotent replays across a deploy
    assert ids.payment_id_for_key(SERVER_KEY, "merchant", "order-1") == "qpp_oeaop3obeuchblwxfecjc3pzrx"
    assert ids.refund_id_for_key("qpp_oeaop3obeuchblwxfecjc3pzrx", "r-1") == "qrf_lduqknteknhm7zfp3s6uwi3new"


def test_payment_ids_are_keyed_by_the_server_secret() -> None:
    a = ids.payment_id_for_key(SERVER_KEY, "merchant", "order-1")
    assert a != ids.payment_id_for_key(SERVER_KEY + "x", "merchant", "order-1")  # unguessable without the key
    assert a != ids.payment_id_for_key(SERVER_KEY, "token:j", "order-1")  # scoped by caller
    assert a != ids.payment_id_for_key(SERVER_KEY, "merchant", "order-2")


def test_client_secret_names_its_payment_and_needs_the_key() -> None:
    pid = ids.payment_id_for_key(SERVER_KEY, "merchant", "order-1")
    secret = ids.client_secret_for(SERVER_KEY, pid)
    assert secret.startswith(pid + "_secret_") and len(secret) > len(pid) + 40
    assert secret != ids.client_secret_for(SERVER_KEY + "x", pid)
    assert secret != ids.client_secret_for(SERVER_KEY, ids.new_payment_id())


@pytest.mark.parametrize(
    "value",
    [
        "qpp_" + "a" * 25,
        "qpp_" + "a" * 27,
        "qpp_" + "a" * 26 + "x",
        "QPP_" + "a" * 26,
        "qpp_" + "A" * 26,
        "qpp_" + "1" * 26,  # 1 is not base32
        "qrf_" + "a" * 26,
        " qpp_" + "a" * 26,
        "",
    ],
)
def test_malformed_payment_ids_are_refused(value: str) -> None:
    assert not ids.is_payment_id(value)


@pytest.mark.parametrize("value", ["qrf_" + "a" * 25, "qrf_" + "a" * 26 + "_", "qrf_" + "a_" * 13, None, ""])
def test_malformed_refund_ids_are_refused(value: str | None) -> None:
    assert not ids.is_refund_id(value)


@pytest.mark.parametrize(("regex", "prefix"), [(ids.CKO_PAYMENT_ID_RE, "pay_"), (ids.CKO_SESSION_ID_RE, "sid_")])
def test_checkout_ids_follow_the_published_pattern(regex: object, prefix: str) -> None:
    import re

    assert isinstance(regex, re.Pattern)
    assert regex.match(prefix + "a" * 26) and regex.match(prefix + "Ab_9" * 6 + "zz")
    for bad in (
        prefix + "a" * 25,
        prefix + "a" * 27,
        prefix + "a" * 26 + "\n",
        prefix + "é" * 26,
        "x" + prefix[1:] + "a" * 26,
    ):
        assert not regex.match(bad), bad


# ------------------------------------------------------------------ money
@pytest.mark.parametrize("value", [1, 100, MAX_AMOUNT])
def test_valid_amounts(value: int) -> None:
    assert is_valid_amount(value)


@pytest.mark.parametrize("value", [0, -1, 1.5, "100", True, None, MAX_AMOUNT + 1])
def test_invalid_amounts(value: object) -> None:
    assert not is_valid_amount(value)


def test_max_amount_is_a_signed_32_bit_int() -> None:
    assert MAX_AMOUNT == 2**31 - 1
    assert MINOR_UNITS == {"QAR": 2}


# ------------------------------------------------------------------ refunds
def test_refund_amount_rules() -> None:
    assert refund_amount(None, 700, Stage.CAPTURED) == 700
    assert refund_amount(300, 700, Stage.CAPTURED) == 300
    assert refund_amount(700, 700, Stage.CAPTURED) == 700  # exactly the rest
    assert refund_amount(None, 1, Stage.CAPTURED) == 1  # a full refund of the last dirham
    with pytest.raises(AmountExceedsBalance):
        refund_amount(701, 700, Stage.CAPTURED)
    with pytest.raises(AmountExceedsBalance):
        refund_amount(None, 0, Stage.CAPTURED)
    with pytest.raises(NotRefundable):
        refund_amount(100, 700, Stage.PENDING)
    with pytest.raises(ValidationFailed):
        refund_amount(0, 700, Stage.CAPTURED)


@pytest.mark.parametrize(
    ("requested", "refundable", "error", "details"),
    [
        (None, 0, AmountExceedsBalance, [{"field": "amount", "issue": "no refundable balance"}]),
        (701, 700, AmountExceedsBalance, [{"field": "amount", "issue": "at most 700"}]),
        (-5, 700, ValidationFailed, [{"field": "amount", "issue": "must be a positive integer"}]),
    ],
)
def test_refund_errors_name_the_field(
    requested: int | None, refundable: int, error: type, details: list[dict[str, str]]
) -> None:
    with pytest.raises(error) as info:
        refund_amount(requested, refundable, Stage.CAPTURED)
    assert info.value.details == details


@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.CAPTURED])
def test_only_captured_payments_are_refundable(stage: Stage) -> None:
    with pytest.raises(NotRefundable):
        refund_amount(None, 700, stage)


def test_refund_state_sets_are_pinned() -> None:
    assert {RefundState.REQUESTED, RefundState.PENDING} == OPEN_REFUND_STATES
    assert {RefundState.REFUNDED, RefundState.DECLINED, RefundState.FAILED} == FINAL_REFUND_STATES


def _refund(rid: str, *, action_id: str | None = None, state: RefundState = RefundState.PENDING) -> Refund:
    return Refund(id=rid, payment_id="qpp_x", amount=100, action_id=action_id, state=state)


def test_refund_outcomes_match_by_action_id_first_then_reference() -> None:
    a, b = _refund("qrf_a", action_id="act_1"), _refund("qrf_b")
    assert match_refund([a, b], action_id="act_1", reference="ORD-5023") is a  # the payment's reference
    assert match_refund([a, b], action_id="act_2", reference="qrf_b") is b
    assert match_refund([a, b], action_id="act_2", reference="qrf_a") is None  # qrf_a's action is act_1
    assert match_refund([a, b], action_id="act_9", reference="qrf_zzz") is None  # no such refund of ours
    assert match_refund([a, b], action_id=None, reference=None) is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, None),
        ({"amount": None}, "amount is not a positive whole number of minor units"),
        ({"amount": 2**80}, "amount is not a positive whole number of minor units"),
        ({"event_currency": "USD"}, "currency USD is not the payment's QAR"),
        ({"stage": Stage.PENDING}, "the payment is Pending, not captured"),
        ({"reserved": 400}, "refunded 500 where 400 was requested"),
        ({"reserved": None, "amount": 1001}, "refunded 1001 is more than the refundable balance 1000"),
        ({"reserved": None, "amount": 1000}, None),
        ({"approved": False, "reserved": 400}, None),  # a decline moves no money
        ({"event_currency": None}, None),
    ],
)
def test_money_that_does_not_add_up_is_named(kwargs: dict[str, object], expected: str | None) -> None:
    args: dict[str, object] = {
        "stage": Stage.CAPTURED,
        "currency": "QAR",
        "refundable": 1000,
        "reserved": 500,
        "amount": 500,
        "event_currency": "QAR",
        "approved": True,
    }
    args.update(kwargs)
    assert outcome_problem(**args) == expected  # type: ignore[arg-type]


# ------------------------------------------------------------------ signatures
@given(body=st.binary(max_size=300), key=st.text(min_size=1, max_size=40))
def test_signature_verifies_exact_bytes_only(body: bytes, key: str) -> None:
    sig = sign(body, key)
    assert verify(body, sig, [key])
    assert verify(body, sig.upper(), ["other", key])
    assert verify(body, sig, [key, "other"])  # any position in the rotation list
    assert verify(body, " " + sig + "\n", [key])
    assert not verify(body + b" ", sig, [key])
    assert not verify(body, sig, ["not-" + key])
    assert not verify(body, None, [key])
    assert not verify(body, "", [key])


def test_non_ascii_signature_is_a_mismatch_not_an_error() -> None:
    assert not verify(b"{}", "é" * 64, ["k"])
    assert not verify(b"{}", "\u0661" * 64, ["k"])


def test_signature_is_lowercase_hex_hmac_sha256() -> None:
    import hashlib
    import hmac

    assert sign(b'{"a":1}', "k") == hmac.new(b"k", b'{"a":1}', hashlib.sha256).hexdigest()


# ------------------------------------------------------------------ events
def test_parse_event_reads_our_payment_id() -> None:
    pid = ids.new_payment_id()
    event = parse_event(notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id=pid, amount=500))
    assert event.payment_id == pid and event.amount == 500 and event.type == "payment_captured"
    assert METADATA_PAYMENT_ID == "qpay_payment_id"


def _valid(**data: object) -> dict[str, object]:
    base: dict[str, object] = {"id": cko_id("pay_"), "metadata": {"qpay_payment_id": ids.new_payment_id()}}
    base.update(data)
    return {"id": "evt_1", "type": "payment_captured", "data": base}


@pytest.mark.parametrize(
    "doc",
    [
        [],
        "x",
        {"id": "evt_x"},
        {"id": "e", "type": "t", "data": {"id": "nope"}},
        {"id": "e", "type": "t"},
        {**_valid(), "id": ""},  # the event id is the de-duplication key: never empty
        {**_valid(), "type": ""},
        {**_valid(), "id": 5},
        {**_valid(), "id": "e" * 129},
        {**_valid(), "data": "x"},
        _valid(id="pay_" + "a" * 26 + "junk"),
        _valid(id="pay_short"),
    ],
)
def test_parse_event_rejects_malformed(doc: object) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(doc)


@pytest.mark.parametrize("metadata", ["x", [1], 5, None, {"qpay_payment_id": 5}, {"qpay_payment_id": "not-ours"}])
def test_unreadable_metadata_means_no_payment_id(metadata: object) -> None:
    assert parse_event(_valid(metadata=metadata)).payment_id is None


@pytest.mark.parametrize("amount", [12.5, "100", True, None, [1]])
def test_amounts_that_are_not_integers_are_dropped(amount: object) -> None:
    assert parse_event(_valid(amount=amount)).amount is None


def test_fields_of_the_wrong_type_are_dropped() -> None:
    event = parse_event(_valid(action_id=123, reference={}, currency="QARX"))
    assert event.action_id is None and event.reference is None and event.currency is None
    event = parse_event(_valid(action_id="act_1", reference="ORD-1", currency="QAR"))
    assert (event.action_id, event.reference, event.currency) == ("act_1", "ORD-1", "QAR")


def test_created_on_dates_the_notification() -> None:
    doc = {**_valid(), "created_on": "2026-11-25T10:00:00.000Z"}
    assert parse_event(doc).created_epoch() == 1795600800
    older = {**_valid(), "timestamp": "2021-06-11T11:59:50.071+00:00"}  # the older envelope
    assert parse_event(older).created_epoch() == 1623412790
    for bad in ("", "garbage", 5):
        assert parse_event({**_valid(), "created_on": bad}).created_epoch() is None


# ------------------------------------------------------------------ expiry
class _Top(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


class _Bottom(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


def test_rearm_backoff_doubles_to_its_cap() -> None:
    assert [rearm_delay(n, 300, 3600, _Top()) for n in (1, 2, 3, 4, 5, 6)] == [300, 600, 1200, 2400, 3600, 3600]
    assert [rearm_delay(n, 300, 3600, _Bottom()) for n in (1, 2, 5)] == [300, 300, 300]  # never below the base
    rng = random.Random(1)
    assert all(300 <= rearm_delay(n, 300, 3600, rng) <= 3600 for n in range(1, 30))


def test_should_flag_is_the_age_since_creation() -> None:
    assert should_flag(0, 100, 100) and not should_flag(0, 99, 100)
    assert not should_flag(1_000, 1_099, 100) and should_flag(1_000, 1_100, 100)


# ------------------------------------------------------------------ order tokens and reads
def _token(**overrides: object) -> str:
    claims: dict[str, object] = {
        "reference": "ORD-9",
        "amount": 500,
        "currency": "QAR",
        "exp": 2_000,
        "aud": AUDIENCE,
        "jti": "jti-0123456789abcdef",
    }
    claims.update(overrides)
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None}, TOKEN_KEY, algorithm="HS256", headers={"kid": "k1"}
    )


BODY = {"reference": "ORD-9", "amount": 500, "currency": "QAR"}


def _auth(token: str, body: dict[str, object] = BODY, now: int = 1_000, keys: dict[str, str] | None = None) -> object:
    table = {"k1": TOKEN_KEY} if keys is None else keys
    return authenticate(
        authorization=None, order_token=token, body=body, api_keys=(), token_key=table.get, now=now, leeway_s=0
    )


def test_order_token_round_trip_and_scope() -> None:
    caller = _auth(
        mint_order_token(
            TOKEN_KEY,
            kid="k1",
            reference="ORD-9",
            amount=500,
            currency="QAR",
            expires_at=2_000,
            jti="jti-0123456789abcdef",
        )
    )
    assert caller.kind == "order-token" and caller.scope == "token:jti-0123456789abcdef"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("token", "body", "now", "message"),
    [
        (_token(), {**BODY, "amount": 1}, 1_000, "amount does not match the order token"),
        (_token(), {**BODY, "reference": "ORD-8"}, 1_000, "reference does not match the order token"),
        (_token(), BODY, 2_001, "order token has expired"),
        (_token(aud="other"), BODY, 1_000, f"order token audience must be {AUDIENCE}"),
        (_token(jti=None), BODY, 1_000, "order token lacks the jti claim"),
        (_token(jti="short"), BODY, 1_000, "order token jti must be 16-128 printable characters"),
        (_token(amount="500"), BODY, 1_000, "order token amount must be an integer and reference a string"),
        ("v1.abc.def", BODY, 1_000, "order token is not a JWT (expected <header>.<claims>.<signature>, HS256)"),
        ("not a token", BODY, 1_000, "order token is not a JWT (expected <header>.<claims>.<signature>, HS256)"),
    ],
)
def test_order_token_refusals_say_why(token: str, body: dict[str, object], now: int, message: str) -> None:
    with pytest.raises(Forbidden) as info:
        _auth(token, body, now)
    assert info.value.message == message


def test_order_token_key_rotation_by_kid() -> None:
    token = _token()
    with pytest.raises(Forbidden, match="names no known key"):
        _auth(token, keys={"k2": TOKEN_KEY})
    with pytest.raises(Forbidden, match="signature is invalid"):
        _auth(token, keys={"k1": TOKEN_KEY + "-rotated"})
    none_alg = jwt.encode({"reference": "ORD-9"}, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(Forbidden, match="HS256"):
        _auth(none_alg)


def test_order_token_leeway() -> None:
    token = _token()
    assert authenticate(
        authorization=None,
        order_token=token,
        body=BODY,
        api_keys=(),
        token_key={"k1": TOKEN_KEY}.get,
        now=2_030,
        leeway_s=30,
    )
    with pytest.raises(Forbidden):
        authenticate(
            authorization=None,
            order_token=token,
            body=BODY,
            api_keys=(),
            token_key={"k1": TOKEN_KEY}.get,
            now=2_031,
            leeway_s=30,
        )


def test_merchant_key_auth_is_one_stable_scope() -> None:
    def auth(header: str | None, keys: tuple[str, ...] = ("mk-a", "mk-b")) -> object:
        return authenticate(
            authorization=header, order_token=None, body={}, api_keys=keys, token_key={}.get, now=0, leeway_s=0
        )

    assert auth("Bearer mk-a").scope == auth("Bearer mk-b").scope == "merchant"  # type: ignore[attr-defined]
    for bad, message in (
        ("Bearer nope", "merchant API key is not valid"),
        ("mk-a", "use Authorization: Bearer <merchant API key>"),
    ):
        with pytest.raises(Unauthorized) as info:
            auth(bad)
        assert info.value.message == message
    with pytest.raises(Unauthorized):
        auth(None)


def test_reads_need_the_merchant_key_or_the_payment_s_client_secret() -> None:
    def read(authorization: str | None = None, secret: str | None = None) -> str:
        return authorize_read(
            authorization=authorization, client_secret=secret, expected_secret=lambda: "good", api_keys=lambda: ("mk",)
        )

    assert read("Bearer mk") == "merchant"
    assert read(secret="good") == "client"
    with pytest.raises(NotFound):  # a wrong secret reveals nothing about the payment
        read(secret="bad")
    with pytest.raises(Unauthorized):
        read()
    with pytest.raises(Unauthorized):
        read("Bearer wrong")


def test_minted_tokens_are_fresh_per_order_attempt() -> None:
    a = mint_order_token(TOKEN_KEY, kid="k1", reference="R", amount=1, currency="QAR", expires_at=int(time.time()) + 60)
    b = mint_order_token(TOKEN_KEY, kid="k1", reference="R", amount=1, currency="QAR", expires_at=int(time.time()) + 60)
    assert (
        jwt.decode(a, options={"verify_signature": False})["jti"]
        != jwt.decode(b, options={"verify_signature": False})["jti"]
    )

"""The secret fails closed: every key is checked when it is read, a bad key is refused only to the callers
that need it (with the operator's reason, never the value), and a bad read is retried sooner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qpay.adapters.secrets import FAILED_READ_CACHE_S, Keys, SecretReader, SecretsInvalid, parse_keys
from tests.conftest import secret_doc
from tests.support import keys as k


def doc(**overrides: Any) -> dict[str, Any]:
    out = secret_doc()
    for name, value in overrides.items():
        if value is ...:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def test_a_good_document_has_no_problems_and_keeps_every_key() -> None:
    got = parse_keys(doc(webhook_authorization="Bearer hook-secret"))
    assert got.problems == {}
    assert got.checkout_secret_key == k.CHECKOUT_SECRET_KEY
    assert got.webhook_signing_keys == (k.WEBHOOK_SIGNING_KEY, k.WEBHOOK_SIGNING_KEY_OLD)
    assert got.merchant_api_keys == (k.MERCHANT_API_KEY,)
    assert got.order_token_keys == ((k.ORDER_TOKEN_KID, k.ORDER_TOKEN_KEY),)
    assert got.server_key == k.SERVER_KEY
    assert got.webhook_authorization == "Bearer hook-secret"
    assert got.order_token_key(k.ORDER_TOKEN_KID) == k.ORDER_TOKEN_KEY
    assert got.order_token_key("other") is None
    got.require("checkout_secret_key", "webhook_signing_keys", "merchant_api_keys", "order_token_keys", "server_key")


@pytest.mark.parametrize(
    ("value", "issue"),
    [
        (..., "set your Checkout.com secret key (sk_…)"),
        ("", "set your Checkout.com secret key (sk_…)"),
        (None, "set your Checkout.com secret key (sk_…)"),
        (" Set-Me ", "set your Checkout.com secret key (sk_…)"),
        ("CHANGEME", "set your Checkout.com secret key (sk_…)"),
        ("pk_sbox_m73dzbpy7cf3gfd46xr4yj5xo4e", "not a Checkout.com secret key (sk_…)"),
        ("sk_" + "a" * 15, "not a Checkout.com secret key (sk_…)"),
        (k.CHECKOUT_SECRET_KEY + "\n", "not a Checkout.com secret key (sk_…)"),
        ("sk_sbox m73dzbpy7cf3gfd46xr4yj5x", "not a Checkout.com secret key (sk_…)"),
    ],
)
def test_a_bad_checkout_key_is_a_problem(value: Any, issue: str) -> None:
    assert parse_keys(doc(checkout_secret_key=value)).problems == {"checkout_secret_key": issue}


def test_checkout_key_shapes_that_pass() -> None:
    for value in ("sk_" + "a" * 16, "sk_sbox_A-b_c*d#e$f=g0123456", k.CHECKOUT_SECRET_KEY):
        assert parse_keys(doc(checkout_secret_key=value)).problems == {}, value


@pytest.mark.parametrize(
    ("name", "minimum"),
    [("webhook_signing_keys", 16), ("merchant_api_keys", 32)],
)
def test_key_lists_need_keys_of_a_minimum_length(name: str, minimum: int) -> None:
    empty = "a non-empty list of keys is required"
    bad: Any
    for bad in (..., [], {}, 5, None):
        assert parse_keys(doc(**{name: bad})).problems == {name: empty}, bad
    assert parse_keys(doc(**{name: ["x" * minimum, "y" * minimum]})).problems == {}
    assert parse_keys(doc(**{name: "z" * minimum})).problems == {}  # one key as a plain string
    assert getattr(parse_keys(doc(**{name: "z" * minimum})), name) == ("z" * minimum,)
    short = parse_keys(doc(**{name: ["x" * minimum, "y" * (minimum - 1)]}))
    assert short.problems == {name: f"every key needs at least {minimum} characters"}
    placeholder = parse_keys(doc(**{name: ["x" * minimum, "set-me"]}))
    assert placeholder.problems == {name: "still holds the set-me placeholder"}
    assert getattr(parse_keys(doc(**{name: [12345678901234567890123456789012345]})), name) == (
        "12345678901234567890123456789012345",
    )


@pytest.mark.parametrize(
    ("tokens", "issue"),
    [
        (..., "no order-token key: browser checkout is off"),
        ({}, "no order-token key: browser checkout is off"),
        (["otk"], "an object {kid: key} is required"),
        ("otk", "an object {kid: key} is required"),
        ({"a b": "k" * 32}, "kids are 1-64 letters, digits, dot, dash or underscore"),
        ({"": "k" * 32}, "kids are 1-64 letters, digits, dot, dash or underscore"),
        ({"k" * 65: "k" * 32}, "kids are 1-64 letters, digits, dot, dash or underscore"),
        ({"kid\n": "k" * 32}, "kids are 1-64 letters, digits, dot, dash or underscore"),
        ({"kid": "todo"}, "still holds the set-me placeholder"),
        ({"kid": "k" * 31}, "every key needs at least 32 characters"),
    ],
)
def test_order_token_keys_problems(tokens: Any, issue: str) -> None:
    assert parse_keys(doc(order_token_keys=tokens)).problems == {"order_token_keys": issue}


def test_order_token_kids_that_pass() -> None:
    tokens = {"a" * 64: "k" * 32, "Z.9_-x": "m" * 40}
    got = parse_keys(doc(order_token_keys=tokens))
    assert got.problems == {}
    assert got.order_token_keys == (("a" * 64, "k" * 32), ("Z.9_-x", "m" * 40))


@pytest.mark.parametrize("server", [..., "", None, "s" * 31, "placeholder"])
def test_a_missing_short_or_placeholder_server_key_is_a_problem(server: Any) -> None:
    problems = parse_keys(doc(server_key=server)).problems
    assert problems == {"server_key": "a random key of at least 32 characters is required"}


def test_a_server_key_of_exactly_the_minimum_passes() -> None:
    assert parse_keys(doc(server_key="s" * 32)).problems == {}


@pytest.mark.parametrize(
    ("value", "problem", "kept"),
    [
        (..., False, None),
        (None, False, None),
        ("", False, None),
        ("Basic abc", False, "Basic abc"),
        (5, True, None),
        (["x"], True, None),
        ("set-me", True, "set-me"),
    ],
)
def test_the_optional_webhook_authorization(value: Any, problem: bool, kept: str | None) -> None:
    got = parse_keys(doc(webhook_authorization=value))
    assert got.webhook_authorization == kept
    expected = {"webhook_authorization": "set it to the value configured in Checkout's Dashboard, or remove it"}
    assert got.problems == (expected if problem else {})


def test_a_key_with_a_problem_is_refused_only_to_the_callers_that_need_it(capsys: pytest.CaptureFixture[str]) -> None:
    got = parse_keys(doc(merchant_api_keys=["short"]))
    got.require("checkout_secret_key", "webhook_signing_keys")  # not needed here: fine
    capsys.readouterr()
    with pytest.raises(SecretsInvalid) as info:
        got.require("webhook_signing_keys", "merchant_api_keys")
    assert info.value.problems == ["merchant_api_keys: every key needs at least 32 characters"]
    assert info.value.status == 503
    assert info.value.message == "the service is not configured yet; the operator has been alerted"
    out = capsys.readouterr().out
    assert '"SecretsInvalid":[1.0]' in out  # the metric the alarm watches
    assert "short" not in out.replace("too short", "")  # the log names keys, never values


def test_an_unreadable_secret_is_refused_to_every_caller() -> None:
    broken = Keys(problems={"secret": "must be a JSON object"})
    with pytest.raises(SecretsInvalid) as info:
        broken.require()
    assert info.value.problems == ["secret: must be a JSON object"]


def test_keys_never_print() -> None:
    got = parse_keys(doc(server_key="s" * 31))
    assert repr(got) == "Keys(<redacted>, problems=['server_key'])"
    assert k.MERCHANT_API_KEY not in repr(got)


class Secrets:
    def __init__(self, *strings: str | None) -> None:
        self.strings = list(strings)
        self.asked: list[str] = []

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.asked.append(SecretId)
        value = self.strings.pop(0) if len(self.strings) > 1 else self.strings[0]
        return {} if value is None else {"SecretString": value}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_secret_is_read_once_per_max_age() -> None:
    api, clock = Secrets(json.dumps(secret_doc())), Clock()
    reader = SecretReader(lambda: api, "qpay-keys", 300, clock)
    first = reader.keys()
    clock.now += 299.9
    assert reader.keys() is first
    assert (reader.reads, api.asked) == (1, ["qpay-keys"])
    clock.now += 0.1  # exactly max_age later: read again
    reader.keys()
    assert reader.reads == 2


def test_a_bad_secret_is_read_again_sooner() -> None:
    good = json.dumps(secret_doc())
    api, clock = Secrets(json.dumps(doc(server_key="set-me")), good), Clock()
    reader = SecretReader(lambda: api, "qpay-keys", 300, clock)
    assert "server_key" in reader.keys().problems
    clock.now += FAILED_READ_CACHE_S - 0.1
    assert "server_key" in reader.keys().problems
    assert reader.reads == 1
    clock.now += 0.1
    assert reader.keys().problems == {}  # the operator's fix, picked up within 30 s
    assert FAILED_READ_CACHE_S == 30
    short = SecretReader(lambda: Secrets(json.dumps(doc(server_key="x"))), "s", 10, clock)
    short.keys()
    clock.now += 10
    short.keys()
    assert short.reads == 2  # a max age under 30 s still wins


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', "", None])
def test_a_secret_that_is_not_a_json_object_is_one_problem(raw: str | None) -> None:
    reader = SecretReader(lambda: Secrets(raw), "qpay-keys", 300, Clock())
    assert reader.keys().problems == {"secret": "must be a JSON object"}

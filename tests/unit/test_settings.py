"""Settings from the environment: every wrong variable named at once, bounds at their edges, prod's stricter
URLs, and a refused cold start that says why (log line + metric)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from qpay.settings import Settings, SettingsInvalid, _internal_host, _url_problem, get_settings

CHANNEL = "pc_" + "a" * 26


def env(**overrides: str | None) -> dict[str, str]:
    out: dict[str, str | None] = {
        "TABLE_NAME": "qpay-payments",
        "SECRET_ID": "qpay-keys",
        "STOREFRONT_SUCCESS_URL": "https://shop.example.qa/thanks",
        "STOREFRONT_FAILURE_URL": "https://shop.example.qa/retry",
        "PROCESSING_CHANNEL_ID": CHANNEL,
    }
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def problems(**overrides: str | None) -> list[str]:
    with pytest.raises(SettingsInvalid) as info:
        Settings.from_env(env(**overrides))
    assert str(info.value) == "invalid configuration: " + "; ".join(info.value.problems)
    return info.value.problems


def test_defaults_and_names_are_case_insensitive() -> None:
    got = Settings.from_env({k.lower(): v for k, v in env().items()})
    assert got.table_name == "qpay-payments"
    assert (got.stage, got.secret_max_age_s, got.checkout_max_attempts) == ("dev", 300, 3)
    assert (got.checkout_connect_timeout_s, got.checkout_timeout_s, got.checkout_deadline_s) == (1.5, 4.0, 12.0)
    assert got.checkout_base_url == "https://api.sandbox.checkout.com"
    assert got.public_base_url is None
    assert got.checkout_single_channel_key is False


def test_every_missing_required_variable_is_named_at_once() -> None:
    with pytest.raises(SettingsInvalid) as info:
        Settings.from_env({})
    assert info.value.problems == [
        "TABLE_NAME: required",
        "SECRET_ID: required",
        "STOREFRONT_SUCCESS_URL: required",
        "STOREFRONT_FAILURE_URL: required",
    ]


def test_empty_means_unset_except_for_plain_strings() -> None:
    got = Settings.from_env(env(CHECKOUT_MAX_ATTEMPTS="", PUBLIC_BASE_URL="", ORDER_EVENTS_SOURCE=""))
    assert got.checkout_max_attempts == 3  # the default
    assert got.public_base_url is None
    assert got.order_events_source == ""  # a plain string may be set empty
    assert problems(TABLE_NAME="") == ["TABLE_NAME: at least 3 characters"]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), (" TRUE ", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("No", False)],
)
def test_booleans(raw: str, value: bool) -> None:
    assert Settings.from_env(env(CHECKOUT_LISTS_PENDING_REFUNDS=raw)).checkout_lists_pending_refunds is value


def test_a_blank_boolean_is_false() -> None:
    assert Settings.from_env(env(CHECKOUT_LISTS_PENDING_REFUNDS=" ")).checkout_lists_pending_refunds is False


def test_names_at_their_minimum_and_an_empty_secret_id() -> None:
    assert Settings.from_env(env(TABLE_NAME="abc")).table_name == "abc"
    assert problems(SECRET_ID="") == ["SECRET_ID: required"]


def test_a_boolean_that_is_neither() -> None:
    assert problems(CHECKOUT_LISTS_PENDING_REFUNDS="maybe") == ["CHECKOUT_LISTS_PENDING_REFUNDS: must be true or false"]


def test_numbers_and_their_bounds_at_the_edges() -> None:
    ok = Settings.from_env(
        env(CHECKOUT_MAX_ATTEMPTS="5", CHECKOUT_TIMEOUT_S="10", CHECKOUT_CONNECT_TIMEOUT_S="0.01", SECRET_MAX_AGE_S="0")
    )
    assert (ok.checkout_max_attempts, ok.checkout_timeout_s, ok.checkout_connect_timeout_s) == (5, 10.0, 0.01)
    assert ok.secret_max_age_s == 0
    assert type(ok.checkout_max_attempts) is int
    assert type(ok.checkout_timeout_s) is float
    assert problems(CHECKOUT_MAX_ATTEMPTS="6") == ["CHECKOUT_MAX_ATTEMPTS: must be at most 5"]
    assert problems(CHECKOUT_MAX_ATTEMPTS="0") == ["CHECKOUT_MAX_ATTEMPTS: must be at least 1"]
    assert problems(CHECKOUT_TIMEOUT_S="0") == ["CHECKOUT_TIMEOUT_S: must be more than 0"]
    assert problems(CHECKOUT_TIMEOUT_S="10.5") == ["CHECKOUT_TIMEOUT_S: must be at most 10"]
    assert problems(SECRET_MAX_AGE_S="-1") == ["SECRET_MAX_AGE_S: must be at least 0"]
    assert problems(CHECKOUT_MAX_ATTEMPTS="2.5", CHECKOUT_TIMEOUT_S="x") == [
        "CHECKOUT_TIMEOUT_S: must be a number",
        "CHECKOUT_MAX_ATTEMPTS: must be an integer",
    ]


def test_the_stage_and_the_channel() -> None:
    assert problems(STAGE="test") == ["STAGE: one of dev, prod"]
    assert problems(PROCESSING_CHANNEL_ID="pc_short") == [
        "PROCESSING_CHANNEL_ID: must look like pc_ followed by 26 base32 characters"
    ]
    assert problems(PROCESSING_CHANNEL_ID=CHANNEL + "\n")[0].startswith("PROCESSING_CHANNEL_ID: must look like")
    assert problems(PROCESSING_CHANNEL_ID=None) == [
        "PROCESSING_CHANNEL_ID: required (a key serving several processing channels must name one), "
        "unless CHECKOUT_SINGLE_CHANNEL_KEY=true"
    ]
    single = Settings.from_env(env(PROCESSING_CHANNEL_ID=None, CHECKOUT_SINGLE_CHANNEL_KEY="true"))
    assert single.processing_channel_id is None


def test_the_rearm_cap_is_at_least_its_base() -> None:
    assert problems(EXPIRY_REARM_BASE_S="600", EXPIRY_REARM_CAP_S="599") == [
        "EXPIRY_REARM_CAP_S: must be at least EXPIRY_REARM_BASE_S"
    ]
    assert Settings.from_env(env(EXPIRY_REARM_BASE_S="600", EXPIRY_REARM_CAP_S="600")).expiry_rearm_cap_s == 600


def test_urls_lose_their_trailing_slash_and_must_be_absolute() -> None:
    got = Settings.from_env(
        env(CHECKOUT_BASE_URL="http://127.0.0.1:3001/", PUBLIC_BASE_URL="https://pay.example.qa/shopX/")
    )
    assert (got.checkout_base_url, got.public_base_url) == ("http://127.0.0.1:3001", "https://pay.example.qa/shopX")
    assert problems(STOREFRONT_SUCCESS_URL="/thanks", CHECKOUT_BASE_URL="ftp://x") == [
        "CHECKOUT_BASE_URL: must be an absolute http(s) URL",
        "STOREFRONT_SUCCESS_URL: must be an absolute http(s) URL",
    ]


def test_prod_wants_public_https_hosts() -> None:
    assert problems(STAGE="prod", STOREFRONT_FAILURE_URL="http://shop.example.qa/retry") == [
        "STOREFRONT_FAILURE_URL: must be https in prod"
    ]
    assert problems(STAGE="prod", PUBLIC_BASE_URL="https://10.0.0.1") == [
        "PUBLIC_BASE_URL: must be a public host name in prod (not this machine, a numeric or a private address)"
    ]
    assert Settings.from_env(env(STAGE="prod")).stage == "prod"


def test_the_public_base_url_leaves_room_in_checkouts_255_characters() -> None:
    base = "https://pay.example.qa/"
    at_most = base + "p" * (150 - len(base))
    assert Settings.from_env(env(PUBLIC_BASE_URL=at_most)).public_base_url == at_most
    assert problems(PUBLIC_BASE_URL=at_most + "pp") == [
        "PUBLIC_BASE_URL: at most 150 characters (Checkout's return URLs: 255)"
    ]


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "127.0.0.1",
        "0.0.0.0",
        "::1",
        "db.localhost",
        "printer.local",
        "api.internal",
        "2130706433",
        "127.1",
        "0x7f000001",
        "169.254.169.254",
        "8.8.8.8",
        "::ffff:127.0.0.1",
    ],
)
def test_internal_hosts(host: str) -> None:
    assert _internal_host(host)


@pytest.mark.parametrize(
    "host", ["pay.example.qa", "localhost.example.qa", "internal.example.qa", "0xcafe.qa", "db.localX", "box.local.X"]
)
def test_public_hosts(host: str) -> None:
    assert not _internal_host(host)


def test_url_problems_in_dev_and_prod() -> None:
    assert _url_problem("http://localhost:3000", https_only=False) is None
    assert _url_problem("https://localhost", https_only=True) is not None
    assert _url_problem("https://", https_only=False) == "must be an absolute http(s) URL"
    assert _url_problem("https://pay.example.qa", https_only=True) is None


def test_a_refused_cold_start_names_the_problems_in_one_line_and_a_metric(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TABLE_NAME", "SECRET_ID", "STOREFRONT_SUCCESS_URL", "STOREFRONT_FAILURE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsInvalid):
            get_settings()
        out = capsys.readouterr().out
        assert '"SettingsInvalid":[1.0]' in out
        assert "TABLE_NAME: required" in out
        for k, v in env().items():
            monkeypatch.setenv(k, v)
        get_settings.cache_clear()
        first = get_settings()
        assert get_settings() is first
        assert first.table_name == "qpay-payments"
    finally:
        get_settings.cache_clear()


def test_every_setting_type_is_one_the_parser_reads() -> None:
    kinds: set[Any] = {str(f.type) for f in fields(Settings)}
    assert kinds <= {"str", "str | None", "bool", "int", "float"}

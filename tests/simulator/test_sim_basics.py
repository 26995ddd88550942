"""Ids, the clock, query-string appending, and national_id never leaking anywhere."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime

import httpx
import pytest
from checkout_sdk.default_sdk import StaticKeys
from simhelpers import AUTH, NATIONAL_ID, Sink, create

from cko_sim import Clock, SimConfig, Simulator, append_query, ids


@pytest.mark.parametrize("prefix", ["pay", "act", "evt", "sid", "cus"])
def test_ids_have_checkout_format(prefix: str) -> None:
    values = {ids.new_id(prefix) for _ in range(50)}
    assert len(values) == 50
    for value in values:
        assert re.fullmatch(rf"{prefix}_[a-z2-7]{{26}}", value)
        assert ids.is_id(value, prefix)


def test_sandbox_key_format_matches_the_sdk() -> None:
    sdk_re = re.compile(StaticKeys._SECRET_KEY_PATTERN)
    for key in ["sk_sbox_" + "a" * 26 + c for c in "a7*#$="]:
        assert ids.is_sandbox_secret_key(key)
        assert sdk_re.match(key)
    assert not ids.is_sandbox_secret_key("sk_" + "a" * 27)  # production format is not a sandbox key


def test_clock_advances_and_freezes() -> None:
    frozen = Clock(datetime(2030, 1, 1, tzinfo=UTC), frozen=True)
    assert frozen.now() == datetime(2030, 1, 1, tzinfo=UTC)
    frozen.advance(90)
    assert frozen.now() == datetime(2030, 1, 1, 0, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        frozen.advance(-1)
    live = Clock()
    before = live.now()
    live.advance(3600)
    assert (live.now() - before).total_seconds() >= 3600
    seen: list[int] = []
    live.add_listener(lambda: seen.append(1))
    live.advance(1)
    assert seen == [1]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://m.example/ok", "https://m.example/ok?cko-session-id=sid_x"),
        ("https://m.example/ok?a=1&b=%20x", "https://m.example/ok?a=1&b=%20x&cko-session-id=sid_x"),
        ("http://m.example:8080/p/q?x=#frag", "http://m.example:8080/p/q?x=&cko-session-id=sid_x#frag"),
    ],
)
def test_append_query_preserves_merchant_query(url: str, expected: str) -> None:
    assert append_query(url, "cko-session-id", "sid_x") == expected


def test_national_id_never_leaves_the_simulator(
    make_sim, sink: Sink, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = make_sim(webhook_urls=[sink.url])
    seen: list[bytes] = []
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        created = create(c)
        pay_id = created["id"]
        seen.append(httpx.get(created["_links"]["redirect"]["href"]).content)
        seen.append(c.get(f"/payments/{pay_id}").content)
        sim.pay(pay_id)
        seen.append(c.get(f"/payments/{pay_id}/actions").content)
        seen.append(c.post(f"/payments/{pay_id}/refunds", json={"amount": 10}).content)
        seen.append(c.post("/payments", json={"amount": -1, "source": {"national_id": NATIONAL_ID}}).content)
        for path in ("payments", f"payments/{pay_id}", "webhooks/events", "requests"):
            seen.append(httpx.get(f"{sim.base_url}/_sim/{path}").content)
    assert sim.webhooks.wait_idle(5)
    seen.extend(raw for _, raw in sink.received)
    seen.extend(e.body for e in sim.webhooks.events)
    assert len(sink.received) >= 4
    for blob in seen:
        assert NATIONAL_ID.encode() not in blob
    assert NATIONAL_ID not in caplog.text
    out = capsys.readouterr()
    assert NATIONAL_ID not in out.out + out.err
    assert NATIONAL_ID not in repr(sim.get_payment(pay_id))


def test_context_manager_stops_everything() -> None:
    before = {t.name for t in threading.enumerate()}
    with Simulator(SimConfig(webhook_urls=["http://127.0.0.1:9/x"], time_scale=0.001)) as sim:
        sim.start(port=0)
        with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
            create(c)
        assert any(t.name.startswith("cko-sim") for t in threading.enumerate())
    leftovers = {t.name for t in threading.enumerate() if t.name.startswith("cko-sim")} - before
    assert leftovers == set()

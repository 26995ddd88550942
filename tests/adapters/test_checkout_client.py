"""The Checkout.com client's own behaviour, through a scripted transport in place of its urllib3 pool: the
request it sends, what it retries (and what it must never repeat: a refund that may have gone through),
how long it waits, and how Checkout's answers become typed errors."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
import urllib3

from qpay.adapters.checkout import (
    CheckoutClient,
    CheckoutListIncomplete,
    CheckoutNotFound,
    CheckoutOutcomeUnknown,
    CheckoutRejected,
    CheckoutUnavailable,
    _redact,
)

KEY = "sk_sbox_0123456789abcdefghij"
NO_POOL: Any = None  # urllib3's exceptions name the pool or connection; these tests have none


@dataclass
class Reply:
    status: int
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def js(doc: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(doc).encode(), headers)


@dataclass
class Sent:
    method: str
    url: str
    body: bytes | None
    headers: dict[str, str]
    timeout: urllib3.Timeout
    kwargs: dict[str, Any]


@dataclass
class ScriptedPool:
    """Answers each ``urlopen`` with the next reply, or raises the next exception."""

    script: list[Reply | Exception]
    sent: list[Sent] = field(default_factory=list)
    closed: bool = False

    def urlopen(self, method: str, url: str, *, body: bytes | None, headers: dict[str, str], **kw: Any) -> Reply:
        timeout = kw.pop("timeout")
        self.sent.append(Sent(method, url, body, dict(headers), timeout, kw))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


class Top(random.Random):
    """Full jitter at its ceiling: ``uniform(a, b)`` returns ``b``."""

    def uniform(self, a: float, b: float) -> float:
        return b


def client(
    *script: Reply | Exception, base: str = "https://api.example.com", **kw: Any
) -> tuple[CheckoutClient, ScriptedPool, Clock]:
    clock = Clock()
    kw.setdefault("rng", Top())
    c = CheckoutClient(base, lambda: KEY, sleep=clock.sleep, clock=clock, **kw)
    pool = ScriptedPool(list(script))
    c._pool = pool  # type: ignore[assignment] # the transport double
    return c, pool, clock


# ------------------------------------------------------------------ the request
def test_a_write_carries_the_key_the_idempotency_key_and_compact_json() -> None:
    c, pool, _ = client(js({"id": "pay_1"}, 201), base="https://api.example.com/baseX/")
    assert c.create_payment({"amount": 100, "currency": "QAR"}, "idem-1") == {"id": "pay_1"}
    (sent,) = pool.sent
    assert (sent.method, sent.url) == ("POST", "/baseX/payments")
    assert sent.body == b'{"amount":100,"currency":"QAR"}'
    assert sent.headers == {
        "Accept": "application/json",
        "User-Agent": "qpay-aws/0.2",
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Cko-Idempotency-Key": "idem-1",
    }
    assert sent.kwargs == {"retries": False, "redirect": False, "preload_content": True}
    assert c.calls == 1


def test_a_read_has_no_body_no_content_type_and_no_idempotency_key() -> None:
    c, pool, _ = client(js({"id": "pay_1"}))
    c.get_payment("sid_ab/c?d")
    (sent,) = pool.sent
    assert (sent.method, sent.url, sent.body) == ("GET", "/payments/sid_ab%2Fc%3Fd", None)
    assert "Content-Type" not in sent.headers
    assert "Cko-Idempotency-Key" not in sent.headers


def test_each_attempt_has_its_connect_and_read_timeouts_within_the_deadline() -> None:
    c, pool, _ = client(js({}), connect_timeout_s=1.5, timeout_s=4.0, deadline_s=12.0)
    c.get_payment("pay_1")
    t = pool.sent[0].timeout
    assert (t.connect_timeout, t.read_timeout, t.total) == (1.5, 4.0, 12.0)
    c, pool, _ = client(js({}))  # the defaults
    c.get_payment("pay_1")
    t = pool.sent[0].timeout
    assert (t.connect_timeout, t.read_timeout, t.total) == (1.5, 4.0, 12.0)
    c, pool, _ = client(js({}), connect_timeout_s=1.5, timeout_s=4.0, deadline_s=1.0)
    c.get_payment("pay_1")
    t = pool.sent[0].timeout
    assert (t.connect_timeout, t.read_timeout, t.total) == (1.0, 1.0, 1.0)


def test_a_https_base_url_gets_a_verifying_tls_pool_and_close_closes_it() -> None:
    c = CheckoutClient("https://api.example.com", lambda: KEY)
    assert isinstance(c._pool, urllib3.HTTPSConnectionPool)
    assert c._pool.conn_kw["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    # a bounded pool that never blocks a request, and no retries of urllib3's own (ours are counted)
    assert c._pool.pool is not None
    assert (c._pool.pool.maxsize, c._pool.block, c._pool.retries) == (10, False, False)
    plain = CheckoutClient("http://127.0.0.1:9", lambda: KEY)
    assert not isinstance(plain._pool, urllib3.HTTPSConnectionPool)
    c._pool._new_conn()  # every pool option was one urllib3 knows (an unknown one fails the connection)
    c2, pool, _ = client()
    c2.close()
    assert pool.closed


# ------------------------------------------------------------------ retries and waits
def test_a_transient_failure_is_retried_after_a_jittered_backoff() -> None:
    c, pool, clock = client(Reply(503), Reply(502), js({"id": "pay_1"}), backoff_base_s=0.2, backoff_cap_s=2.0)
    assert c.get_payment("pay_1") == {"id": "pay_1"}
    assert len(pool.sent) == 3
    assert clock.slept == [0.2, 0.4]  # full jitter at its ceiling: base x 2^(attempt-1)
    assert c.calls == 3


def test_the_default_client_tries_three_times_with_a_backoff_from_02_to_2_seconds() -> None:
    c, pool, clock = client(Reply(503), Reply(503), Reply(503), Reply(503), js({}))
    with pytest.raises(CheckoutUnavailable):
        c.get_payment("pay_1")
    assert (len(pool.sent), clock.slept) == (3, [0.2, 0.4])
    c, _, clock = client(*(Reply(503) for _ in range(5)), js({}), max_attempts=6, deadline_s=60)
    c.get_payment("pay_1")
    assert clock.slept == [0.2, 0.4, 0.8, 1.6, 2.0]  # capped at 2 s


def test_the_default_deadline_is_twelve_seconds() -> None:
    c, pool, clock = client(Reply(503), Reply(503), js({}), max_attempts=3, backoff_base_s=6.5, backoff_cap_s=6.5)
    with pytest.raises(CheckoutUnavailable):
        c.get_payment("pay_1")
    assert clock.slept == [6.5]  # 6.5 s waited + 6.5 s more would pass 12 s
    assert len(pool.sent) == 2


def test_a_wait_that_ends_exactly_at_the_deadline_is_still_taken() -> None:
    c, pool, clock = client(Reply(503), Reply(503), backoff_base_s=2.0, backoff_cap_s=2.0, deadline_s=2.0)
    with pytest.raises(CheckoutUnavailable):
        c.get_payment("pay_1")
    assert clock.slept == [2.0]


def test_the_backoff_is_capped() -> None:
    c, _, clock = client(Reply(500), Reply(500), Reply(500), js({}), max_attempts=4, backoff_base_s=1.0,
                         backoff_cap_s=1.5, deadline_s=60)  # fmt: skip
    c.get_payment("pay_1")
    assert clock.slept == [1.0, 1.5, 1.5]


def test_the_jitter_is_drawn_from_zero_to_the_ceiling() -> None:
    draws: list[tuple[float, float]] = []

    class Spy(random.Random):
        def uniform(self, a: float, b: float) -> float:
            draws.append((a, b))
            return 0.05

    c, _, clock = client(Reply(503), js({}), rng=Spy(), backoff_base_s=0.2)
    c.get_payment("pay_1")
    assert draws == [(0, 0.2)]
    assert clock.slept == [0.05]


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    c, _, clock = client(js({}, 429, **{"retry-after": "1.5"}), js({}), backoff_cap_s=2.0)
    c.get_payment("pay_1")
    assert clock.slept == [1.5]
    c, _, clock = client(js({}, 429, **{"retry-after": "30"}), js({}), backoff_cap_s=2.0)
    c.get_payment("pay_1")
    assert clock.slept == [2.0]
    c, _, clock = client(js({}, 429, **{"retry-after": "soon"}), js({}), backoff_base_s=0.2)
    c.get_payment("pay_1")
    assert clock.slept == [0.2]  # an unreadable Retry-After: the plain backoff


def test_still_failing_after_the_attempts_is_unavailable_with_the_last_status() -> None:
    c, pool, clock = client(Reply(503), Reply(429), Reply(504), max_attempts=3)
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert type(info.value) is CheckoutUnavailable
    assert (info.value.last_status, info.value.attempts, info.value.reason) == (504, 3, "HTTP 504")
    assert len(pool.sent) == 3
    assert len(clock.slept) == 2  # no wait after the last attempt
    assert str(info.value) == "Checkout.com unavailable after 3 attempts (HTTP 504)"


def test_a_connection_failure_is_retried_and_named() -> None:
    c, _, _ = client(urllib3.exceptions.NewConnectionError(NO_POOL, "refused"), urllib3.exceptions.ProtocolError("x"),
                     max_attempts=2)  # fmt: skip
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert (info.value.last_status, info.value.attempts) == (None, 2)
    assert info.value.reason == "connection error: ProtocolError"
    c, _, _ = client(urllib3.exceptions.ReadTimeoutError(NO_POOL, "u", "slow"), max_attempts=1)
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert info.value.reason == "timeout"
    c, _, _ = client(urllib3.exceptions.ConnectTimeoutError(), max_attempts=1)
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert info.value.reason == "connection error: ConnectTimeoutError"


def test_no_attempt_starts_without_time_left_and_no_wait_runs_past_the_deadline() -> None:
    c, pool, _ = client(js({}), connect_timeout_s=1.5, deadline_s=0.4)
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert (info.value.attempts, info.value.reason, pool.sent) == (0, "deadline", [])
    assert str(info.value) == "Checkout.com unavailable after 0 attempts (deadline)"
    # 0.5 s left is still enough for an attempt (the floor is min(connect, 0.5))
    c, pool, _ = client(js({"ok": 1}), connect_timeout_s=1.5, deadline_s=0.5)
    assert c.get_payment("pay_1") == {"ok": 1}
    c, pool, clock = client(Reply(503), js({}), backoff_base_s=3.0, backoff_cap_s=5.0, deadline_s=2.0)
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert (len(pool.sent), clock.slept, info.value.reason) == (1, [], "HTTP 503")


def test_the_attempt_after_a_wait_gets_only_the_time_left() -> None:
    c, pool, _ = client(Reply(503), js({}), backoff_base_s=1.0, deadline_s=5.0, timeout_s=4.0)
    c.get_payment("pay_1")
    assert pool.sent[1].timeout.read_timeout == 4.0
    assert pool.sent[1].timeout.total == 4.0  # 5 s deadline - 1 s waited


# ------------------------------------------------------------------ refunds: never repeated blindly
@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (Reply(500), "HTTP 500"),
        (Reply(503), "HTTP 503"),
        (urllib3.exceptions.ReadTimeoutError(NO_POOL, "u", "slow"), "timeout"),
        (urllib3.exceptions.ProtocolError("dropped"), "connection error: ProtocolError"),
    ],
)
def test_a_refund_that_may_have_been_processed_is_not_repeated(first: Reply | Exception, reason: str) -> None:
    c, pool, clock = client(first, js({"action_id": "act_1"}, 202))
    with pytest.raises(CheckoutOutcomeUnknown) as info:
        c.refund("pay_1", amount=100, reference="qpr_1", idempotency_key="r1")
    assert (len(pool.sent), clock.slept) == (1, [])
    assert (info.value.attempts, info.value.reason) == (1, reason)
    assert info.value.last_status == (first.status if isinstance(first, Reply) else None)
    assert str(info.value) == f"Checkout.com may have processed the request ({reason})"


@pytest.mark.parametrize(
    "first",
    [
        Reply(429),
        Reply(409),
        urllib3.exceptions.ConnectTimeoutError(),
        urllib3.exceptions.NewConnectionError(NO_POOL, ""),
    ],
)
def test_a_refund_that_cannot_have_been_processed_is_sent_again(first: Reply | Exception) -> None:
    c, pool, _ = client(first, js({"action_id": "act_1"}, 202))
    assert c.refund("pay/1", amount=100, reference="qpr_1", idempotency_key="r1") == {"action_id": "act_1"}
    assert len(pool.sent) == 2
    sent = pool.sent[1]
    assert (sent.method, sent.url) == ("POST", "/payments/pay%2F1/refunds")
    assert json.loads(sent.body or b"") == {"amount": 100, "reference": "qpr_1"}
    assert sent.headers["Cko-Idempotency-Key"] == "r1"


def test_a_refund_key_still_in_flight_at_the_end_may_yet_succeed() -> None:
    c, _, _ = client(Reply(409), Reply(409), max_attempts=2)
    with pytest.raises(CheckoutOutcomeUnknown) as info:
        c.refund("pay_1", amount=100, reference="qpr_1", idempotency_key="r1")
    assert (info.value.last_status, info.value.attempts, info.value.reason) == (409, 2, "HTTP 409")
    c, _, _ = client(Reply(429), Reply(429), max_attempts=2)
    with pytest.raises(CheckoutUnavailable) as plain:
        c.refund("pay_1", amount=100, reference="qpr_1", idempotency_key="r1")
    assert type(plain.value) is CheckoutUnavailable  # rate limited throughout: nothing was processed


def test_a_refund_answered_with_something_that_is_not_json_may_have_gone_through() -> None:
    c, _, _ = client(Reply(202, b"<html>ok</html>"))
    with pytest.raises(CheckoutOutcomeUnknown) as info:
        c.refund("pay_1", amount=100, reference="qpr_1", idempotency_key="r1")
    assert (info.value.last_status, info.value.attempts, info.value.reason) == (202, 1, "response is not JSON")


def test_a_read_that_is_not_json_is_unavailable_not_a_success() -> None:
    c, _, _ = client(Reply(200, b"<html>"))
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert type(info.value) is CheckoutUnavailable
    assert (info.value.last_status, info.value.reason) == (200, "response is not JSON")
    c, _, _ = client(js([1, 2], 201))
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_payment("pay_1")
    assert (info.value.last_status, info.value.attempts, info.value.reason) == (201, 1, "response is not a JSON object")
    c, _, _ = client(Reply(204))
    assert c.get_payment("pay_1") == {}


# ------------------------------------------------------------------ refusals
def test_a_refusal_is_typed_with_checkouts_error_fields() -> None:
    doc = {"error_type": "request_invalid", "error_codes": ["amount_invalid", 7], "request_id": "req_body"}
    c, pool, _ = client(js(doc, 422, **{"cko-request-id": "req_header"}))
    with pytest.raises(CheckoutRejected) as info:
        c.create_payment({}, "k")
    assert type(info.value) is CheckoutRejected
    assert info.value == CheckoutRejected(422, "request_invalid", ["amount_invalid", "7"], "req_body")
    assert len(pool.sent) == 1  # a 4xx is never retried
    assert str(info.value) == "Checkout.com answered 422 request_invalid amount_invalid,7"


def test_a_refusal_without_a_body_keeps_the_header_request_id() -> None:
    c, _, _ = client(Reply(401, b"", {"Cko-Request-Id": "req_h"}))
    with pytest.raises(CheckoutRejected) as info:
        c.get_payment("pay_1")
    assert info.value == CheckoutRejected(401, None, [], "req_h")
    c, _, _ = client(Reply(403, b"denied", {"cko-request-id": "req_h"}))
    with pytest.raises(CheckoutRejected) as info:
        c.get_payment("pay_1")
    assert info.value == CheckoutRejected(403, None, [], "req_h")
    c, _, _ = client(js({"error_type": 5, "error_codes": "x", "request_id": 9}, 400, **{"cko-request-id": "req_h"}))
    with pytest.raises(CheckoutRejected) as info:
        c.get_payment("pay_1")
    assert info.value == CheckoutRejected(400, None, [], "req_h")
    c, _, _ = client(js(["not", "an", "object"], 400))
    with pytest.raises(CheckoutRejected) as info:
        c.get_payment("pay_1")
    assert info.value == CheckoutRejected(400, None, [], None)


def test_not_found_is_its_own_type() -> None:
    c, _, _ = client(Reply(404))
    with pytest.raises(CheckoutNotFound) as info:
        c.get_payment("pay_1")
    assert info.value.status == 404
    assert str(info.value) == "Checkout.com answered 404  "


# ------------------------------------------------------------------ lists
def payments(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": f"pay_{i}"} for i in range(start, start + n)]


def test_the_reference_list_is_read_page_by_page_to_its_end() -> None:
    c, pool, _ = client(
        js({"data": payments(2), "total_count": 5}),
        js({"data": [*payments(2, 2), "junk"], "total_count": 5}),
        js({"data": payments(1, 4), "total_count": 5}),
    )
    got = c.get_payments_by_reference("ORD 1&x", limit=2)
    assert [p["id"] for p in got] == [f"pay_{i}" for i in range(5)]
    assert {s.method for s in pool.sent} == {"GET"}
    assert [s.url for s in pool.sent] == [
        "/payments?reference=ORD+1%26x&limit=2&skip=0",
        "/payments?reference=ORD+1%26x&limit=2&skip=2",
        "/payments?reference=ORD+1%26x&limit=2&skip=4",
    ]


def test_the_list_stops_at_its_total_or_a_short_page() -> None:
    c, pool, _ = client(js({"data": payments(2), "total_count": 2}))
    assert len(c.get_payments_by_reference("R", limit=2)) == 2
    assert len(pool.sent) == 1
    c, pool, _ = client(js({"data": payments(1)}))
    assert len(c.get_payments_by_reference("R", limit=2)) == 1
    assert len(pool.sent) == 1
    c, pool, _ = client(js({"data": "nonsense"}))
    assert c.get_payments_by_reference("R", limit=2) == []
    c, pool, _ = client(js({"data": payments(2), "total_count": "2"}), js({"data": []}))
    assert len(c.get_payments_by_reference("R", limit=2)) == 2
    assert len(pool.sent) == 2  # a total that is not a number is not believed


def test_a_list_longer_than_the_pages_read_is_incomplete_not_absent() -> None:
    c, pool, _ = client(*(js({"data": payments(2, 2 * i), "total_count": 9}) for i in range(2)))
    with pytest.raises(CheckoutListIncomplete, match="more than 4 payments"):
        c.get_payments_by_reference("R", limit=2, max_pages=2)
    assert len(pool.sent) == 2


def test_the_default_page_is_a_hundred_and_five_pages_at_most() -> None:
    c, pool, _ = client(*(js({"data": payments(100, 100 * i)}) for i in range(5)))
    with pytest.raises(CheckoutListIncomplete):
        c.get_payments_by_reference("R")
    assert [s.url.rsplit("&", 2)[1:] for s in pool.sent][-1] == ["limit=100", "skip=400"]


def test_actions_are_a_list_of_objects() -> None:
    c, pool, _ = client(js([{"id": "act_1"}, "junk", {"id": "act_2"}]))
    assert c.get_actions("pay/1") == [{"id": "act_1"}, {"id": "act_2"}]
    assert (pool.sent[0].method, pool.sent[0].url) == ("GET", "/payments/pay%2F1/actions")
    c, _, _ = client(Reply(200))
    assert c.get_actions("pay_1") == []
    c, _, _ = client(js({"id": "act_1"}, 201))
    with pytest.raises(CheckoutUnavailable) as info:
        c.get_actions("pay_1")
    assert (info.value.last_status, info.value.attempts, info.value.reason) == (200, 1, "actions are not a JSON array")


def test_session_ids_are_cut_in_logged_paths() -> None:
    assert _redact("/payments/sid_abcdefghijklmnop/actions") == "/payments/sid_abcd…/actions"
    assert _redact("/payments/pay_abcdefghijklmnop") == "/payments/pay_abcdefghijklmnop"

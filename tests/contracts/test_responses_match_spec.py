"""Every answer the simulator gives on Checkout's API routes validates against the response schema
for that operation and status that we derived from Checkout's published OpenAPI (``schemas.py``).

One recorder sees every response of every scenario below; the test then checks each of them and
that the scenarios covered every published (operation, status) pair the simulator can produce.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cko_sim import Simulator
from tests.contracts import schemas
from tests.contracts.checker import errors, messages
from tests.contracts.helpers import AUTH, NATIONAL_ID, Recorded, Recorder, qpay_body

#: Statuses the simulator can answer that the spec does not publish for that operation, and why.
UNPUBLISHED = {
    409: "same Cko-Idempotency-Key still in flight (SimConfig.idempotency_conflict_status; Checkout "
    "documents only that one request is processed)",
    429: "rate limited / in flight: published only for POST /payments",
    500: "fault injection (accept_then_500, fail-next 500)",
    503: "fault injection (accept_then_503, fail-next 503)",
}
#: Published statuses whose body the spec leaves undescribed; Checkout answers them with an empty body.
EMPTY_BODY_STATUSES = {401, 403, 404}

MUST_COVER = {
    ("POST /payments", 202),
    ("POST /payments", 401),
    ("POST /payments", 422),
    ("POST /payments", 429),
    ("POST /payments", 502),
    ("GET /payments", 200),
    ("GET /payments", 401),
    ("GET /payments", 422),
    ("GET /payments/{id}", 200),
    ("GET /payments/{id}", 401),
    ("GET /payments/{id}", 404),
    ("GET /payments/{id}/actions", 200),
    ("GET /payments/{id}/actions", 401),
    ("GET /payments/{id}/actions", 404),
    ("POST /payments/{id}/refunds", 202),
    ("POST /payments/{id}/refunds", 401),
    ("POST /payments/{id}/refunds", 403),
    ("POST /payments/{id}/refunds", 404),
    ("POST /payments/{id}/refunds", 422),
    ("POST /payments/{id}/refunds", 502),
}


def check(recorded: Recorded) -> None:
    op, status = recorded.operation, recorded.status
    responses = schemas.OPERATIONS[op].responses
    if status not in responses:
        assert status in UNPUBLISHED, f"{op} answered {status}, which the spec does not publish"
        if recorded.body:
            found = errors(schemas.ANY_ERROR, recorded.json())
            assert found == [], messages(found)
        return
    schema = responses[status]
    if schema is None:
        if status in EMPTY_BODY_STATUSES:
            assert recorded.body == b"", f"{op} {status} must have an empty body"
        elif recorded.body:  # e.g. 502: no published body; ours is Checkout's generic error
            found = errors(schemas.ERROR, recorded.json())
            assert found == [], messages(found)
        return
    assert recorded.content_type.startswith("application/json")
    body = recorded.json()
    if op == "GET /payments/{id}/actions" and body == []:
        # Known difference (README): a payment with no action yet answers [], the spec says minItems 1
        return
    found = errors(schema, body)
    assert found == [], f"{op} {status}: {messages(found)}"


def _client(sim: Simulator, recorder: Recorder, auth: bool = True) -> httpx.Client:
    return httpx.Client(
        base_url=sim.base_url,
        headers=AUTH if auth else {},
        timeout=10,
        event_hooks={"response": [recorder]},
    )


def _create(c: httpx.Client, **overrides: Any) -> str:
    response = c.post("/payments", json=qpay_body(**overrides))
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _payments_in_every_state(sim: Simulator, c: httpx.Client) -> None:
    pending = _create(c, reference="ORD-PEND")
    c.get(f"/payments/{pending}")
    c.get(f"/payments/{pending}/actions")
    paid = _create(c, reference="ORD-PAID")
    url = sim.pay(paid)
    sid = url.split("cko-session-id=")[1]
    c.get(f"/payments/{sid}")
    c.get(f"/payments/{paid}")
    assert c.post(f"/payments/{paid}/refunds", json={"amount": 100, "reference": "qrf_1"}).status_code == 202
    assert sim.webhooks.wait_idle(5)
    c.get(f"/payments/{paid}")  # Partially Refunded
    c.get(f"/payments/{paid}/actions")
    assert c.post(f"/payments/{paid}/refunds", json={"amount": 999_999}).status_code == 422
    assert c.post(f"/payments/{paid}/refunds", json={"reference": "R" * 51}).status_code == 422
    assert c.post(f"/payments/{paid}/refunds").status_code == 202  # no body: the rest
    assert sim.webhooks.wait_idle(5)
    c.get(f"/payments/{paid}")  # Refunded
    assert c.post(f"/payments/{paid}/refunds", json={"amount": 1}).status_code == 403
    declined = _create(c, reference="ORD-DECL")
    sim.pay(declined, card="4000000000000002")
    c.get(f"/payments/{declined}")
    c.get(f"/payments/{declined}/actions")
    canceled = _create(c, reference="ORD-CANC")
    sim.cancel(canceled)
    c.get(f"/payments/{canceled}")
    expired = _create(c, reference="ORD-EXP", customer={"id": "cus_" + "a" * 26})
    sim.expire_payment(expired)
    c.get(f"/payments/{expired}")
    for reference in ("ORD-PAID", "ORD-EXP", "ORD-NONE"):
        c.get("/payments", params={"reference": reference})
    _create(c, reference="ORD-PAID")
    c.get("/payments", params={"reference": "ORD-PAID", "limit": 1, "skip": 1})


def _errors(sim: Simulator, c: httpx.Client, anonymous: httpx.Client) -> None:
    assert c.post("/payments", json=qpay_body(amount=-1, source={"type": "qpay"})).status_code == 422
    assert c.post("/payments", content=b"{", headers={"Content-Type": "application/json"}).status_code == 422
    assert c.get("/payments").status_code == 422
    assert c.get("/payments", params={"reference": "x", "limit": 500}).status_code == 422
    unknown = "pay_" + "z" * 26
    assert c.get(f"/payments/{unknown}").status_code == 404
    assert c.get(f"/payments/{unknown}/actions").status_code == 404
    assert c.post(f"/payments/{unknown}/refunds", json={"amount": 1}).status_code == 404
    assert anonymous.post("/payments", json=qpay_body()).status_code == 401
    assert anonymous.get("/payments", params={"reference": "x"}).status_code == 401
    assert anonymous.get(f"/payments/{unknown}").status_code == 401
    assert anonymous.get(f"/payments/{unknown}/actions").status_code == 401
    assert anonymous.post(f"/payments/{unknown}/refunds").status_code == 401


def _faults(sim: Simulator, c: httpx.Client) -> None:
    paid = _create(c, reference="ORD-FAULT")
    sim.pay(paid)
    for status in (502, 503, 500, 429):
        sim.faults.fail_next(1, status=status, path_prefix="/payments", method="POST")
        assert c.post("/payments", json=qpay_body()).status_code == status
    sim.faults.fail_next(1, status=502, path_prefix="/payments/*/refunds")
    assert c.post(f"/payments/{paid}/refunds", json={"amount": 1}).status_code == 502
    for kind, status in (("accept_then_500", 500), ("accept_then_503", 503)):
        sim.faults.fail_next(1, status=kind, path_prefix="/payments", method="POST")  # type: ignore[arg-type]
        assert c.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": kind}).status_code == status


def _in_flight(sim: Simulator, c: httpx.Client) -> None:
    sim.faults.slow_next(1, seconds=2.0)  # generous: the machine may be busy
    results: list[int] = []

    def first() -> None:
        results.append(c.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": "busy"}).status_code)

    thread = threading.Thread(target=first)
    thread.start()
    for _ in range(100):  # until the first request is being held
        if sim.faults.pending == []:
            break
        threading.Event().wait(0.01)
    threading.Event().wait(0.1)
    second = c.post("/payments", json=qpay_body(), headers={"Cko-Idempotency-Key": "busy"})
    thread.join(5)
    assert second.status_code == sim.config.idempotency_conflict_status
    assert results == [202]


@pytest.mark.parametrize("expired_status", ["Expired", "Voided"])
def test_every_api_response_matches_the_published_schema(
    make_sim: Callable[..., Simulator], expired_status: str
) -> None:
    recorder = Recorder()
    sim = make_sim(expired_payment_status=expired_status, idempotency_conflict_status=429)
    with _client(sim, recorder) as c, _client(sim, recorder, auth=False) as anonymous:
        _payments_in_every_state(sim, c)
        _errors(sim, c, anonymous)
        _faults(sim, c)
        _in_flight(sim, c)
    assert recorder.seen() >= MUST_COVER, sorted(MUST_COVER - recorder.seen())
    for recorded in recorder.responses:
        check(recorded)
        assert NATIONAL_ID.encode() not in recorded.body


def test_the_409_in_flight_answer_has_checkouts_error_shape(make_sim: Callable[..., Simulator]) -> None:
    recorder = Recorder()
    sim = make_sim()
    with _client(sim, recorder) as c:
        _in_flight(sim, c)
    conflicts = [r for r in recorder.responses if r.status == 409]
    assert len(conflicts) == 1
    check(conflicts[0])
    assert errors(schemas.VALIDATION_ERROR, conflicts[0].json()) == []


def test_check_rejects_what_the_spec_rejects() -> None:
    """The checker itself fails on a wrong body (so a green run means something)."""
    bad_created = Recorded("POST /payments", 202, b'{"id": "pay_x", "status": "Captured"}', "application/json")
    with pytest.raises(AssertionError):
        check(bad_created)
    bad_details = Recorded("GET /payments/{id}", 200, b'{"id": "pay_' + b"a" * 26 + b'"}', "application/json")
    with pytest.raises(AssertionError):
        check(bad_details)
    with pytest.raises(AssertionError):
        check(Recorded("GET /payments/{id}", 404, b"{}", "application/json"))
    with pytest.raises(AssertionError):
        check(Recorded("GET /payments/{id}", 418, b"", ""))


_PAY_ID = "pay_" + "a" * 26
_HREF = {"href": f"https://sim.example/payments/{_PAY_ID}"}
VALID_DETAILS: dict[str, Any] = {
    "id": _PAY_ID,
    "requested_on": "2026-01-02T03:04:05.678Z",
    "source": {"type": "qpay", "description": "Order 1001", "pun": "p" * 20},
    "amount": 12500,
    "currency": "QAR",
    "payment_type": "Regular",
    "status": "Expired",
    "approved": False,
    "risk": {"flagged": False},
    "customer": {"id": "cus_" + "b" * 26, "email": "shopper@shop.example", "name": "Shopper"},
    "metadata": {"qpay_payment_id": "qpp_1"},
    "balances": {"total_captured": 0, "total_refunded": 0},
    "_links": {"self": _HREF, "actions": _HREF, "redirect": _HREF},
    "reference": "ORD-1001",
    "expires_on": "2026-01-02T04:04:05.678Z",
}
BROKEN_DETAILS: list[tuple[str, Any]] = [
    ("status", "Capture Pending"),
    ("amount", 12500.0),
    ("amount", "12500"),
    ("currency", "QATAR"),
    ("requested_on", "yesterday"),
    ("source", {"type": "qpay"}),
    ("source", {"type": "card", "description": "Order 1001"}),
    ("source", {"type": "qpay", "description": "Order 1001", "national_id": "28463400123"}),
    ("customer", {"email": "shopper@shop.example"}),
    ("customer", {"id": "cus_short"}),
    ("balances", {"total_captured": "0"}),
    ("_links", {"self": _HREF}),
    ("_links", {"self": _HREF, "actions": {"url": "x"}}),
    ("3ds", {"enrolled": "Y"}),
    ("approved", "false"),
]


def _recorded(operation: str, status: int, body: Any) -> Recorded:
    return Recorded(operation, status, json.dumps(body).encode(), "application/json")


def test_the_valid_bodies_pass_the_checker() -> None:
    check(_recorded("GET /payments/{id}", 200, VALID_DETAILS))
    listed = {"limit": 10, "skip": 0, "total_count": 1, "data": [VALID_DETAILS]}
    check(_recorded("GET /payments", 200, listed))  # Expired in the list item: erratum


@pytest.mark.parametrize(("field", "value"), BROKEN_DETAILS, ids=lambda v: repr(v)[:40])
def test_check_refuses_each_broken_field(field: str, value: Any) -> None:
    broken = {**VALID_DETAILS, field: value}
    with pytest.raises(AssertionError):
        check(_recorded("GET /payments/{id}", 200, broken))
    with pytest.raises(AssertionError):
        check(_recorded("GET /payments", 200, {"limit": 10, "skip": 0, "total_count": 1, "data": [broken]}))

"""Property: Checkout.com delivers a payment's webhooks at least once and in any order. Whatever the
order and duplication of a realistic history of the nine QPay events, the real webhook handler and
table end in the state the in-order history gives, and the status never moves backwards on the way."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TABLE, body_of, create_body, invoke_create, invoke_get, invoke_webhook
from tests.support.template import table_definition
from tests.support.webhooks import notification

AMOUNT = 12500
CAPTURED_FAMILY = {"Captured", "Partially Refunded", "Refunded"}
DEAD = {"Declined", "Canceled", "Expired"}
RANK = {
    "Pending": 0,
    "Capture Pending": 1,
    "Declined": 2,
    "Canceled": 2,
    "Expired": 2,
    "Captured": 2,
    "Partially Refunded": 3,
    "Refunded": 4,
}


@dataclass(frozen=True)
class Ev:
    key: str  # stable within a history; the event id and action id derive from it
    type: str
    amount: int = AMOUNT
    action: str | None = None
    reference: str = "ORD"


def _refunds(amounts: list[int], declined: int) -> list[Ev]:
    out: list[Ev] = []
    for i, amount in enumerate(amounts):
        ref = f"DASHBOARD-{i}"  # made in Checkout's Dashboard: not one of our qrf_ ids
        out.append(Ev(f"rp{i}", "payment_refund_pending", amount, f"r{i}", ref))
        out.append(Ev(f"r{i}", "payment_refunded", amount, f"r{i}", ref))
    if declined:
        out.append(Ev("dp", "payment_refund_pending", declined, "d", "DASHBOARD-d"))
        out.append(Ev("d", "payment_refund_declined", declined, "d", "DASHBOARD-d"))
    return out


@st.composite
def histories(draw: Any) -> list[Ev]:
    kind = draw(st.sampled_from(["captured", "declined", "canceled", "expired", "refunded"]))
    start = [Ev("p", "payment_pending")]
    if kind == "declined":
        return [*start, Ev("cd", "payment_capture_declined")]
    if kind in ("canceled", "expired"):
        return [*start, Ev("x", f"payment_{kind}")]
    captured = [*start, Ev("cp", "payment_capture_pending"), Ev("c", "payment_captured")]
    if kind == "captured":
        return captured
    parts = draw(st.lists(st.integers(1, 4000), min_size=1, max_size=3))  # Checkout never refunds more than it captured
    full = draw(st.booleans())  # sometimes refund everything that is left
    if full:
        parts = [*parts[:-1], AMOUNT - sum(parts[:-1])]
    declined = draw(st.sampled_from([0, 700]))
    return captured + _refunds(parts, declined)


@st.composite
def deliveries(draw: Any) -> tuple[list[Ev], list[Ev]]:
    history = draw(histories())
    dupes = draw(st.lists(st.sampled_from(history), max_size=4))
    return history, draw(st.permutations(history + dupes))


def _new_payment() -> tuple[str, str]:
    answer = invoke_create(create_body(reference=f"ORD-{uuid.uuid4().hex[:10]}"))
    assert answer["statusCode"] == 201, answer
    body = body_of(answer)
    return body["id"], body["reference"]


def _deliver(pid: str, cko: str, ev: Ev) -> str | None:
    """One delivery; None when the product says "not yet" (a refund outcome before its capture):
    Checkout.com retries any non-2xx later, which the caller models by delivering it again after."""
    doc = notification(
        ev.type,
        cko_payment_id=cko,
        payment_id=pid,
        amount=ev.amount,
        reference=ev.reference,
        action_id=f"act_{ev.action or ev.key}_{pid[4:]}",
        event_id=f"evt_{ev.key}_{pid}",
    )
    answer = invoke_webhook(doc)
    if answer["statusCode"] == 409 and body_of(answer)["code"] == "not_yet":
        return None
    assert answer["statusCode"] == 200, answer
    return str(body_of(answer)["result"])


def _state(aws: Any, pid: str) -> tuple[str, int, int]:
    view = body_of(invoke_get(pid))
    item = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    return view["status"], int(view["refunded_amount"]), int(item["refundable_amount"])


def _fresh_table(aws: Any) -> None:
    """A new table per example: moto's transactions deep-copy the table (and its stream) each time, so
    they slow down as it grows."""
    aws.ddb.delete_table(TableName=TABLE)
    aws.ddb.create_table(**table_definition(TABLE))


def _cko(aws: Any, pid: str) -> str:
    return str(aws.item(f"PAYMENT#{pid}", "PAYMENT")["cko_id"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=deliveries())
def test_any_order_and_duplication_ends_where_the_ordered_history_ends(aws: Any, sim: Any, case: Any) -> None:
    """Random permutation + duplicates of a history (captured / declined / canceled / expired /
    captured then Dashboard partial refunds incl. a declined one) → same (status, refunded_amount,
    refundable_amount) as in order; along the way the status never moves backwards and refunded money
    never shrinks; every refund is counted once."""
    history, shuffled = case
    _fresh_table(aws)
    ordered_pid, _ = _new_payment()
    for ev in history:
        _deliver(ordered_pid, _cko(aws, ordered_pid), ev)
    expected = _state(aws, ordered_pid)

    pid, _ = _new_payment()
    cko = _cko(aws, pid)
    seen = [_state(aws, pid)]
    queue = list(shuffled)
    retries = 0
    while queue:
        ev = queue.pop(0)
        if _deliver(pid, cko, ev) is None:
            retries += 1
            assert retries <= 4 * len(shuffled), "a refused delivery never became applicable"
            queue.append(ev)  # Checkout.com's retry, after the others
        seen.append(_state(aws, pid))
    assert seen[-1] == expected, (history, shuffled, seen)

    approved = sum(e.amount for e in history if e.type == "payment_refunded")
    if any(e.type == "payment_captured" for e in history):
        assert expected == (
            "Refunded" if approved == AMOUNT else "Partially Refunded" if approved else "Captured",
            approved,
            AMOUNT - approved,
        )
    for (s0, r0, _), (s1, r1, _) in itertools.pairwise(seen):
        assert r1 >= r0, seen
        assert RANK[s1] >= RANK[s0] or (s0 in DEAD and s1 in CAPTURED_FAMILY) or s1 == s0, seen
        if s0 in CAPTURED_FAMILY:
            assert s1 in CAPTURED_FAMILY, seen
        if s0 in DEAD:
            assert s1 in {s0} | CAPTURED_FAMILY, seen

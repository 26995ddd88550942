"""The payment state machine: any order and any duplication of a payment's events ends the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpay.domain.states import (
    CHECKOUT_STATUS_EVENTS,
    CHECKOUT_STATUSES_WITHOUT_EVENT,
    DEAD_STAGES,
    FINAL_STAGES,
    INTENT_ABANDONED,
    OPEN_STAGES,
    PAYMENT_EVENT_TYPES,
    QPAY_EVENT_TYPES,
    REFUND_EVENT_TYPES,
    TRANSITIONS,
    Stage,
    Status,
    Transition,
    derive_status,
    next_stage,
)

# Histories Checkout.com can produce for one QPay payment, in the order it produces them.
HISTORIES = {
    "captured": ["payment_pending", "payment_capture_pending", "payment_captured"],
    "declined": ["payment_pending", "payment_capture_pending", "payment_capture_declined"],
    "canceled": ["payment_pending", "payment_canceled"],
    "expired": ["payment_pending", "payment_expired"],
    "abandoned-after-approval": ["payment_pending", "payment_capture_pending", "payment_expired"],
    "canceled-after-approval": ["payment_pending", "payment_capture_pending", "payment_canceled"],
}


def run(events: list[str], start: Stage = Stage.PENDING) -> Stage:
    stage = start
    for e in events:
        stage = next_stage(stage, e) or stage
    return stage


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_in_order_history_reaches_its_end(name: str) -> None:
    expected = {
        "captured": Stage.CAPTURED,
        "declined": Stage.DECLINED,
        "canceled": Stage.CANCELED,
        "expired": Stage.EXPIRED,
        "abandoned-after-approval": Stage.EXPIRED,
        "canceled-after-approval": Stage.CANCELED,
    }[name]
    assert run(HISTORIES[name]) is expected


@given(data=st.data(), name=st.sampled_from(sorted(HISTORIES)))
def test_any_order_and_duplication_ends_the_same(data: st.DataObject, name: str) -> None:
    history = HISTORIES[name]
    delivered = data.draw(
        st.lists(st.sampled_from(history), min_size=len(history), max_size=3 * len(history)).filter(
            lambda xs: set(xs) == set(history)
        )
    )
    shuffled = data.draw(st.permutations(delivered))
    assert run(list(shuffled)) is run(history)


@given(events=st.lists(st.sampled_from(PAYMENT_EVENT_TYPES), max_size=12))
def test_never_moves_backwards(events: list[str]) -> None:
    rank = {Stage.PENDING: 0, Stage.CAPTURE_PENDING: 1}
    stage = Stage.PENDING
    for e in events:
        after = next_stage(stage, e) or stage
        if stage in FINAL_STAGES:
            # a final stage only ever yields to a confirmed capture
            assert after is stage or after is Stage.CAPTURED
        else:
            assert rank.get(after, 2) >= rank[stage]
        if stage is Stage.CAPTURED:
            assert after is Stage.CAPTURED
        stage = after


def test_capture_pending_after_captured_is_ignored() -> None:
    assert next_stage(Stage.CAPTURED, "payment_capture_pending") is None


def test_capture_wins_over_an_earlier_ending() -> None:
    for dead in (Stage.DECLINED, Stage.CANCELED, Stage.EXPIRED):
        assert next_stage(dead, "payment_captured") is Stage.CAPTURED


def test_checkout_pending_never_moves_a_payment() -> None:
    assert "Pending" not in CHECKOUT_STATUS_EVENTS
    for status, event in CHECKOUT_STATUS_EVENTS.items():
        assert event in TRANSITIONS, status


@pytest.mark.parametrize(
    ("captured", "refunded", "status"),
    [
        (1000, 0, Status.CAPTURED),
        (1000, 1, Status.PARTIALLY_REFUNDED),
        (1000, 999, Status.PARTIALLY_REFUNDED),
        (1000, 1000, Status.REFUNDED),
        (1, 1, Status.REFUNDED),  # a one-dirham payment refunded in full
        (0, 0, Status.CAPTURED),  # a capture whose amount we never learned is not "refunded"
    ],
)
def test_status_follows_refunded_sum(captured: int, refunded: int, status: Status) -> None:
    assert derive_status(Stage.CAPTURED, captured, refunded) is status


def test_open_stages_show_their_own_status() -> None:
    assert derive_status(Stage.CAPTURE_PENDING, 0, 0) is Status.CAPTURE_PENDING
    assert derive_status(Stage.PENDING, 0, 0) is Status.PENDING


# ------------------------------------------------------------------ the tables, pinned entry by entry
P, CP, C, D, X, E = (
    Stage.PENDING,
    Stage.CAPTURE_PENDING,
    Stage.CAPTURED,
    Stage.DECLINED,
    Stage.CANCELED,
    Stage.EXPIRED,
)


def test_transition_table_is_exactly_this() -> None:
    assert {
        "payment_pending": Transition(P, frozenset({P})),
        "payment_capture_pending": Transition(CP, frozenset({P})),
        "payment_captured": Transition(C, frozenset({P, CP, D, X, E})),
        "payment_capture_declined": Transition(D, frozenset({P, CP})),
        "payment_canceled": Transition(X, frozenset({P, CP})),
        "payment_expired": Transition(E, frozenset({P, CP})),
        INTENT_ABANDONED: Transition(E, frozenset({P})),
    } == TRANSITIONS


def test_stage_sets_and_event_lists_are_exactly_these() -> None:
    assert frozenset({P, CP}) == OPEN_STAGES
    assert frozenset({C, D, X, E}) == FINAL_STAGES
    assert frozenset({D, X, E}) == DEAD_STAGES
    assert PAYMENT_EVENT_TYPES == (
        "payment_pending",
        "payment_capture_pending",
        "payment_captured",
        "payment_capture_declined",
        "payment_canceled",
        "payment_expired",
    )
    assert REFUND_EVENT_TYPES == ("payment_refund_pending", "payment_refunded", "payment_refund_declined")
    assert QPAY_EVENT_TYPES == PAYMENT_EVENT_TYPES + REFUND_EVENT_TYPES
    assert INTENT_ABANDONED not in QPAY_EVENT_TYPES  # never accepted from a webhook


def test_checkout_status_table_is_exactly_this() -> None:
    assert CHECKOUT_STATUS_EVENTS == {
        "Captured": "payment_captured",
        "Paid": "payment_captured",
        "Partially Refunded": "payment_captured",
        "Refunded": "payment_captured",
        "Authorized": "payment_capture_pending",
        "Declined": "payment_capture_declined",
        "Canceled": "payment_canceled",
        "Expired": "payment_expired",
        "Voided": "payment_expired",
    }
    assert frozenset({"Pending"}) == CHECKOUT_STATUSES_WITHOUT_EVENT


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("event", sorted(TRANSITIONS))
def test_next_stage_for_every_stage_and_event(stage: Stage, event: str) -> None:
    rule = TRANSITIONS[event]
    expected = rule.target if stage in rule.sources and stage is not rule.target else None
    assert next_stage(stage, event) is expected


def test_unknown_events_move_nothing() -> None:
    for stage in Stage:
        assert next_stage(stage, "payment_declined") is None


def test_public_statuses_are_these_strings() -> None:
    assert [s.value for s in Status] == [
        "Pending",
        "Capture Pending",
        "Captured",
        "Partially Refunded",
        "Refunded",
        "Declined",
        "Canceled",
        "Expired",
    ]
    for stage in (D, X, E, P, CP):
        assert derive_status(stage, 100, 100).value == stage.value

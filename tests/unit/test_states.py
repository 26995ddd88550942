"""The payment state machine: any order and any duplication of a payment's events ends the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpay.domain.states import (
    CHECKOUT_STATUS_EVENTS,
    FINAL_STAGES,
    PAYMENT_EVENT_TYPES,
    TRANSITIONS,
    Stage,
    Status,
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
    ],
)
def test_status_follows_refunded_sum(captured: int, refunded: int, status: Status) -> None:
    assert derive_status(Stage.CAPTURED, captured, refunded) is status


def test_open_stages_show_their_own_status() -> None:
    assert derive_status(Stage.CAPTURE_PENDING, 0, 0) is Status.CAPTURE_PENDING
    assert derive_status(Stage.PENDING, 0, 0) is Status.PENDING

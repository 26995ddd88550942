"""Every checker fails on a hand-made violation and passes on the same facts made right: a checker that
cannot fail is not a checker."""

from __future__ import annotations

import copy
from typing import Any

from qpay_sim import checkers as c
from qpay_sim.checkers import CkoPayment, CkoRefund, PaymentFacts, RefundFacts, StateHistory


def facts(**over: Any) -> PaymentFacts:
    base = PaymentFacts(
        id="qpp_a", reference="ORD-1", stage="Captured", status="Partially Refunded", created_at=0,
        captured_amount=1000, refunded_amount=300, refundable_amount=500, attention=False, cko_id="pay_a",
        refunds=[RefundFacts("qrf_1", 300, "Refunded"), RefundFacts("qrf_2", 200, "Pending")],
        cko=[CkoPayment("pay_a", "ORD-1", "Partially Refunded", 1000,
                        [CkoRefund("act_1", 300, "qrf_1", "approved"), CkoRefund("act_2", 200, "qrf_2", "pending")])],
    )  # fmt: skip
    for k, v in over.items():
        setattr(base, k, v)
    return base


def names(violations: list[c.Violation]) -> set[str]:
    return {v.checker for v in violations}


def test_one_checkout_refund_per_request() -> None:
    assert c.one_checkout_refund_per_request(facts()) == []
    bad = facts()
    bad.cko[0].refunds.append(CkoRefund("act_3", 300, "qrf_1", "approved"))  # the same request, refunded again
    assert names(c.one_checkout_refund_per_request(bad)) == {"money.one_checkout_refund_per_request"}


def test_never_more_than_captured_and_the_ledger_balances() -> None:
    assert c.never_more_than_captured(facts()) == []
    assert c.never_more_than_captured(facts(refunded_amount=1200, refundable_amount=-400))
    assert c.never_more_than_captured(facts(refundable_amount=600))  # 600 + 300 + 200 != 1000
    over = facts()
    over.cko[0].refunds.append(CkoRefund("act_9", 900, "DASHBOARD-X", "approved"))
    assert c.never_more_than_captured(over)


def test_refunds_match_checkout_at_rest() -> None:
    settled = facts(refunds=[RefundFacts("qrf_1", 300, "Refunded")], refundable_amount=700)
    settled.cko[0].refunds = [CkoRefund("act_1", 300, "qrf_1", "approved")]
    assert c.refunds_match_checkout(settled) == []
    drift = copy.deepcopy(settled)
    drift.cko[0].refunds.append(CkoRefund("act_4", 100, "DASHBOARD-Y", "approved"))
    assert names(c.refunds_match_checkout(drift)) == {"money.refunds_match_checkout"}
    assert c.refunds_match_checkout(facts()) == []  # something still pending: not at rest, not judged


def test_state_never_backwards() -> None:
    history = StateHistory()
    assert history.never_backwards(facts(stage="Pending", refunded_amount=0)) == []
    assert history.never_backwards(facts(stage="Captured", refunded_amount=300)) == []
    assert names(history.never_backwards(facts(stage="Expired", refunded_amount=300))) == {"state.never_backwards"}
    assert history.never_backwards(facts(stage="Captured", refunded_amount=100))  # refunds went down
    other = StateHistory()
    other.never_backwards(facts(stage="Canceled"))
    assert other.never_backwards(facts(stage="Expired"))  # one end replaced by another


def test_final_by_deadline() -> None:
    day = 86400
    assert c.final_by_deadline(facts(stage="Pending"), now=day, max_age_s=2 * day) == []
    assert c.final_by_deadline(facts(stage="Pending"), now=3 * day, max_age_s=2 * day)
    assert c.final_by_deadline(facts(stage="Pending", attention=True), now=3 * day, max_age_s=2 * day) == []


def test_one_capture_per_reference() -> None:
    one = [CkoPayment("pay_a", "ORD-1", "Captured", 1000), CkoPayment("pay_b", "ORD-1", "Expired", 0)]
    assert c.one_capture_per_reference("ORD-1", one) == []
    two = [*one, CkoPayment("pay_c", "ORD-1", "Captured", 1000)]
    assert names(c.one_capture_per_reference("ORD-1", two)) == {"orders.one_capture_per_reference"}


def test_answer_consistent() -> None:
    link = "https://cko.example/pay?pun=1"
    assert c.answer_consistent("O", 201, {"status": "Pending", "redirect_url": link}, payable=True) == []
    assert c.answer_consistent("O", 201, {"status": "Expired", "redirect_url": link}, payable=True)  # F4
    assert c.answer_consistent("O", 201, {"status": "Expired", "redirect_url": link}, payable=False) == []
    assert c.answer_consistent("O", 201, {"status": "Pending", "redirect_url": ""}, payable=False)  # F-3
    assert c.answer_consistent("O", 409, {"status": "Expired", "redirect_url": link}, payable=True) == []


def event(kind: str, event_id: str, **detail: Any) -> dict[str, Any]:
    return {"DetailType": kind, "Detail": {"payment_id": "qpp_a", "event_id": event_id, **detail}}


def test_one_event_per_transition() -> None:
    p = facts(status="Captured", refunds=[RefundFacts("qrf_1", 300, "Refunded")])
    good = [event("Payment Captured", "qpp_a.v2.payment-captured"),
            event("Payment Captured", "qpp_a.v2.payment-captured"),  # a redelivery: same id
            event("Refund Succeeded", "qrf_1.refunded", refund_id="qrf_1")]  # fmt: skip
    assert c.one_event_per_transition(p, good) == []
    assert c.one_event_per_transition(p, good[2:])  # captured, never told
    twice = [*good, event("Payment Captured", "qpp_a.v5.payment-captured")]
    assert c.one_event_per_transition(p, twice)
    assert c.one_event_per_transition(p, good[:2])  # the refund's end never told


def test_nothing_in_flight() -> None:
    assert c.nothing_in_flight(facts(refunds=[RefundFacts("qrf_1", 300, "Refunded")]), []) == []
    assert c.nothing_in_flight(facts(), [])  # qrf_2 still Pending, not flagged
    assert c.nothing_in_flight(facts(attention=True), []) == []
    assert c.nothing_in_flight(facts(refunds=[]), ["qrf_1-3"])
    # a refund handed to a human: the sweeper keeps looking, its workflow may be running at rest
    assert c.nothing_in_flight(facts(attention=True), ["qrf_2-13"]) == []
    assert c.nothing_in_flight(facts(attention=True), ["qrf_1-1"])  # qrf_1 is final: its workflow must end

"""service/reconcile, the refund half: what a captured payment's refunds look like after the daily
reconciliation asked Checkout.com (its balances and its actions), in a dry run and for real: refunds made
elsewhere counted once, ours settled after the grace, young ones left to their workflow, money that does
not add up parked, and what stays open reported with its exact text (the runbook searches it)."""

from __future__ import annotations

from typing import Any

import pytest

from qpay import deps
from qpay.domain.records import Payment, Refund
from qpay.domain.refund_states import RefundState
from qpay.service.reconcile import Finding, ReconcilePorts, reconcile_payment
from tests.service.helpers import NOW, captured_payment, settings

GRACE = 6 * 3600
LATER = NOW + 2 * GRACE  # when the reconciliation runs


class Checkout:
    """Checkout.com as reconciliation sees it: one payment's details and its actions (latest first)."""

    def __init__(self, doc: dict[str, Any], actions: list[dict[str, Any]] | None = None) -> None:
        self.doc, self.actions = doc, actions or []
        self.action_reads = 0

    def get_payment(self, cko_id: str) -> dict[str, Any]:
        assert cko_id == self.doc["id"]
        return self.doc

    def get_actions(self, cko_id: str) -> list[dict[str, Any]]:
        assert cko_id == self.doc["id"]
        self.action_reads += 1
        return self.actions


def our_refund(payment: Payment, amount: int, *, at: int, action_id: str | None = None, letter: str = "a") -> Refund:
    store = deps.store()
    refund = Refund(id="qrf_" + letter * 26, payment_id=payment.id, amount=amount, created_at=at, updated_at=at)
    store.reserve_refund(refund, now=at)
    if action_id:
        assert store.mark_refund_pending(payment.id, refund.id, action_id=action_id, now=at)
    return refund


def checkout_for(payment: Payment, refunded: int, actions: list[dict[str, Any]] | None = None) -> Checkout:
    doc = {"id": payment.cko_id, "status": "Captured", "amount": 12500, "balances": {"total_refunded": refunded}}
    return Checkout(doc, actions)


def action(action_id: str, amount: Any, *, approved: Any = True, reference: Any = None, kind: str = "Refund"):
    return {"id": action_id, "type": kind, "amount": amount, "approved": approved, "reference": reference}


def run(payment: Payment, checkout: Checkout, *, fix: bool = True, now: int = LATER) -> list[Finding]:
    ports = ReconcilePorts(store=deps.store(), checkout=checkout, settings=settings(), stepfunctions=None)  # type: ignore[arg-type]
    return reconcile_payment(payment.id, now=now, ports=ports, fix=fix)


def balances(payment: Payment) -> tuple[int, int]:
    stored = deps.store().get_payment(payment.id)
    assert stored is not None
    return stored.refunded_amount, stored.refundable_amount


def test_in_step_with_checkout_nothing_is_asked_or_found(aws: Any) -> None:
    payment = captured_payment()
    checkout = checkout_for(payment, 0)
    assert run(payment, checkout) == []
    assert checkout.action_reads == 0  # balances agree and nothing is open: the actions are not read


def test_a_dry_run_reports_the_difference_and_changes_nothing(aws: Any) -> None:
    payment = captured_payment()
    stale = our_refund(payment, 2000, at=NOW, action_id="act_" + "s" * 26)
    checkout = checkout_for(payment, 5000, [action("act_" + "e" * 26, 3000, reference="DASH-1")])
    findings = run(payment, checkout, fix=False)
    assert findings == [
        Finding(payment.id, "refund_total", False, "refunded here 0, at Checkout.com 5000"),
        Finding(payment.id, "refund_open", False, f"{stale.id} Pending"),
    ]
    assert balances(payment) == (0, 10500)  # 2000 reserved, nothing counted
    assert deps.store().get_refund(payment.id, stale.id).state is RefundState.PENDING


def test_a_dry_run_says_nothing_of_totals_while_a_young_refund_is_in_flight(aws: Any) -> None:
    payment = captured_payment()
    our_refund(payment, 2000, at=LATER - GRACE + 1, action_id="act_" + "y" * 26)  # one second short of stale
    findings = run(payment, checkout_for(payment, 2000), fix=False)
    assert findings == []


@pytest.mark.parametrize(("age", "stale"), [(GRACE, True), (GRACE - 1, False)])
def test_the_grace_boundary_decides_what_is_stale(aws: Any, age: int, stale: bool) -> None:
    payment = captured_payment()
    refund = our_refund(payment, 2000, at=LATER - age, action_id="act_" + "g" * 26)
    findings = run(payment, checkout_for(payment, 0), fix=False)
    assert findings == ([Finding(payment.id, "refund_open", False, f"{refund.id} Pending")] if stale else [])


def test_a_refund_made_elsewhere_is_counted_once(aws: Any) -> None:
    payment = captured_payment()
    checkout = checkout_for(payment, 3000, [action("act_" + "e" * 26, 3000, reference="DASH-1")])
    assert run(payment, checkout) == [
        Finding(payment.id, "refund", True, f"refund made elsewhere (DASH-1): {'act_' + 'e' * 26} approved 3000")
    ]
    assert balances(payment) == (3000, 9500)
    assert run(payment, checkout) == []  # the next run finds it counted
    assert balances(payment) == (3000, 9500)


def test_our_refund_past_the_grace_is_settled_from_its_action(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "o" * 26
    refund = our_refund(payment, 2500, at=NOW, action_id=act)
    checkout = checkout_for(payment, 2500, [action(act, 2500, reference=refund.id)])
    assert run(payment, checkout) == [
        Finding(payment.id, "refund", True, f"our refund {refund.id}: {act} approved 2500")
    ]
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.REFUNDED
    assert balances(payment) == (2500, 10000)


def test_our_declined_refund_gives_the_money_back(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "d" * 26
    refund = our_refund(payment, 2500, at=NOW, action_id=act)
    checkout = checkout_for(payment, 0, [action(act, 2500, approved=False, reference=refund.id)])
    assert run(payment, checkout) == [
        Finding(payment.id, "refund", True, f"our refund {refund.id}: {act} declined 2500")
    ]
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.DECLINED
    assert balances(payment) == (0, 12500)


def test_a_young_refund_of_ours_is_left_to_its_workflow(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "w" * 26
    refund = our_refund(payment, 2500, at=LATER - 60, action_id=act)
    checkout = checkout_for(payment, 2500, [action(act, 2500, reference=refund.id)])
    assert run(payment, checkout) == []  # in flight: no finding, and no total reported either
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.PENDING
    assert balances(payment) == (0, 10000)


def test_undecided_and_other_actions_are_not_outcomes(aws: Any) -> None:
    payment = captured_payment()
    actions = [
        action("act_" + "u" * 26, 3000, approved=None, reference="DASH-2"),  # not decided yet
        action("act_" + "c" * 26, 12500, kind="Capture"),
    ]
    findings = run(payment, checkout_for(payment, 3000, actions))
    assert findings == [Finding(payment.id, "refund_total", False, "refunded here 0, at Checkout.com 3000")]
    assert balances(payment) == (0, 12500)


def test_outcomes_are_applied_oldest_first(aws: Any) -> None:
    payment = captured_payment()
    newest, oldest = "act_" + "n" * 26, "act_" + "f" * 26
    actions = [action(newest, 2000, reference="DASH-NEW"), action(oldest, 1000, reference="DASH-OLD")]
    findings = run(payment, checkout_for(payment, 3000, actions))
    assert [f.detail for f in findings] == [
        f"refund made elsewhere (DASH-OLD): {oldest} approved 1000",
        f"refund made elsewhere (DASH-NEW): {newest} approved 2000",
    ]
    assert balances(payment) == (3000, 9500)


@pytest.mark.parametrize("amount", [20_000, "3000", True, None])
def test_money_that_does_not_add_up_is_parked_not_counted(aws: Any, amount: Any) -> None:
    payment = captured_payment()
    act = "act_" + "p" * 26
    findings = run(payment, checkout_for(payment, 20_000, [action(act, amount, reference="DASH-3")]))
    assert findings == [
        Finding(payment.id, "refund_parked", False, f"{act}: does not add up"),
        Finding(payment.id, "refund_total", False, "refunded here 0, at Checkout.com 20000"),
    ]
    assert balances(payment) == (0, 12500)


def test_a_reference_that_is_not_text_is_no_reference(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "r" * 26
    findings = run(payment, checkout_for(payment, 1500, [action(act, 1500, reference=12345)]))
    assert findings == [Finding(payment.id, "refund", True, f"refund made elsewhere (12345): {act} approved 1500")]
    assert balances(payment) == (1500, 11000)


def test_what_still_differs_after_repairing_is_reported(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "h" * 26
    stale = our_refund(payment, 1000, at=NOW, action_id="act_" + "z" * 26, letter="z")  # Checkout lists no outcome
    checkout = checkout_for(payment, 5000, [action(act, 3000, reference="DASH-4")])
    findings = run(payment, checkout)
    assert findings == [
        Finding(payment.id, "refund", True, f"refund made elsewhere (DASH-4): {act} approved 3000"),
        Finding(payment.id, "refund_total", False, "refunded here 3000, at Checkout.com 5000"),
        Finding(payment.id, "refund_open", False, f"{stale.id} still Pending at Checkout.com"),
    ]
    assert balances(payment) == (3000, 8500)


def test_our_refund_matched_by_its_reference_alone(aws: Any) -> None:
    payment = captured_payment()
    refund = our_refund(payment, 2500, at=NOW)  # Checkout's 202 never recorded: no action id on our side
    act = "act_" + "m" * 26
    checkout = checkout_for(payment, 2500, [action(act, 2500, reference=refund.id)])
    assert run(payment, checkout) == [
        Finding(payment.id, "refund", True, f"our refund {refund.id}: {act} approved 2500")
    ]
    got = deps.store().get_refund(payment.id, refund.id)
    assert (got.state, got.action_id) == (RefundState.REFUNDED, act)
    assert balances(payment) == (2500, 10000)


def test_a_refund_exactly_the_grace_old_is_no_longer_in_flight(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "b" * 26
    refund = our_refund(payment, 2000, at=LATER - GRACE, action_id=act)
    # a dry run reports the totals (nothing is in flight any more) and the open refund
    assert run(payment, checkout_for(payment, 2000), fix=False) == [
        Finding(payment.id, "refund_total", False, "refunded here 0, at Checkout.com 2000"),
        Finding(payment.id, "refund_open", False, f"{refund.id} Pending"),
    ]
    # for real, its decided action settles it (it is not young any more)
    findings = run(payment, checkout_for(payment, 2000, [action(act, 2000, reference=refund.id)]))
    assert findings == [Finding(payment.id, "refund", True, f"our refund {refund.id}: {act} approved 2000")]


def test_a_refund_checkout_has_not_decided_is_reported_from_the_grace_on(aws: Any) -> None:
    payment = captured_payment()
    refund = our_refund(payment, 2000, at=LATER - GRACE, action_id="act_" + "k" * 26)
    assert run(payment, checkout_for(payment, 0)) == [
        Finding(payment.id, "refund_open", False, f"{refund.id} still Pending at Checkout.com")
    ]


def test_a_young_refund_of_ours_does_not_stop_the_others_being_counted(aws: Any) -> None:
    payment = captured_payment()
    mine, elsewhere = "act_" + "y" * 26, "act_" + "x" * 26
    refund = our_refund(payment, 1000, at=LATER - 60, action_id=mine)
    actions = [action(elsewhere, 3000, reference="DASH-9"), action(mine, 1000, reference=refund.id)]  # latest first
    assert run(payment, checkout_for(payment, 4000, actions)) == [
        Finding(payment.id, "refund", True, f"refund made elsewhere (DASH-9): {elsewhere} approved 3000")
    ]


class StepFunctions:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_task_success(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def test_settling_our_refund_wakes_its_waiting_workflow(aws: Any) -> None:
    payment = captured_payment()
    act = "act_" + "t" * 26
    refund = our_refund(payment, 2500, at=NOW, action_id=act)
    deps.store().store_task_token(payment.id, refund.id, token="token-1", now=NOW)
    sfn = StepFunctions()
    ports = ReconcilePorts(
        store=deps.store(),
        checkout=checkout_for(payment, 2500, [action(act, 2500, reference=refund.id)]),  # type: ignore[arg-type]
        settings=settings(),
        stepfunctions=sfn,
    )
    assert [f.kind for f in reconcile_payment(payment.id, now=LATER, ports=ports)] == ["refund"]
    assert sfn.sent == [
        {"taskToken": "token-1", "output": f'{{"refund_id": "{refund.id}", "state": "Refunded", "action_id": "{act}"}}'}
    ]

"""service/refund_outcomes and refund_notify: one refund outcome counted once whoever heard it, money
that does not add up parked with its detail, early outcomes retried, and the waiting workflow woken."""

from __future__ import annotations

from typing import Any

import pytest

from qpay import deps
from qpay.adapters.store import ApplyResult
from qpay.domain.errors import NotYet
from qpay.domain.records import Refund
from qpay.domain.refund_states import RefundState
from qpay.service import refund_outcomes
from qpay.service.refund_notify import notify_workflow
from qpay.service.refund_outcomes import record_refund_outcome
from tests.service.helpers import NOW, captured_payment, pending_payment


def _captured(amount: int = 10000) -> Any:
    return captured_payment(amount=amount)


def _reserve(payment: Any, amount: int, *, rid: str = "qrf_" + "a" * 26, action: str | None = "act_1") -> Refund:
    refund = Refund(id=rid, payment_id=payment.id, amount=amount, created_at=NOW, updated_at=NOW)
    deps.store().reserve_refund(refund, now=NOW)
    if action:
        deps.store().mark_refund_pending(payment.id, rid, action_id=action, now=NOW)
    return deps.store().get_refund(payment.id, rid)


def _outcome(payment: Any, **kw: Any) -> refund_outcomes.Outcome:
    args: dict[str, Any] = {
        "action_id": "act_1",
        "amount": 4000,
        "currency": "QAR",
        "approved": True,
        "reference": None,
        "event_id": "evt_r1",
        "now": NOW + 100,
        "retain_until": NOW + 9999,
    }
    args.update(kw)
    return record_refund_outcome(deps.store(), payment.id, **args)


def _money(payment_id: str) -> tuple[int, int]:
    p = deps.store().get_payment(payment_id)
    return p.refunded_amount, p.refundable_amount


def test_our_refund_approved_moves_the_reservation_to_refunded(aws: Any) -> None:
    payment = _captured()
    refund = _reserve(payment, 4000)
    assert _money(payment.id) == (0, 6000)
    got = _outcome(payment)
    assert got.result is ApplyResult.APPLIED and got.refund == refund
    assert _money(payment.id) == (4000, 6000)
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.REFUNDED
    again = _outcome(payment)  # the same outcome heard again (workflow, reconciliation)
    assert again.result is ApplyResult.DUPLICATE  # and it still names our refund: its workflow may wait
    assert again.refund == deps.store().get_refund(payment.id, refund.id)
    assert _money(payment.id) == (4000, 6000)


def test_our_refund_declined_releases_what_we_reserved(aws: Any) -> None:
    payment = _captured()
    _reserve(payment, 4000)
    got = _outcome(payment, approved=False, amount=1)  # the reservation, not Checkout's amount, comes back
    assert got.result is ApplyResult.APPLIED
    assert _money(payment.id) == (0, 10000)


def test_an_outcome_matched_by_our_reference(aws: Any) -> None:
    payment = _captured()
    refund = _reserve(payment, 4000, action=None)
    got = _outcome(payment, action_id="act_9", reference=refund.id)
    assert got.refund is not None and got.refund.id == refund.id
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.REFUNDED


def test_a_refund_made_elsewhere_lowers_the_balance_and_names_no_refund(aws: Any) -> None:
    payment = _captured()
    got = _outcome(payment, action_id="act_dash", amount=2500, reference="dashboard")
    assert (got.result, got.refund) == (ApplyResult.APPLIED, None)
    assert _money(payment.id) == (2500, 7500)


@pytest.mark.parametrize(
    ("kw", "problem", "amount"),
    [
        ({"currency": "USD"}, "currency USD is not the payment's QAR", 4000),
        ({"amount": 0}, "amount is not a positive whole number of minor units", 0),
        ({"amount": 2**70}, "amount is not a positive whole number of minor units", str(2**70)),
        ({"amount": 10**45}, "amount is not a positive whole number of minor units", "1" + "0" * 39),  # cut at 40
        ({"amount": 3000}, "refunded 3000 where 4000 was requested", 3000),
    ],
)
def test_money_that_does_not_add_up_is_parked_with_its_detail(
    aws: Any, capfd: Any, kw: dict[str, Any], problem: str, amount: Any
) -> None:
    payment = _captured()
    _reserve(payment, 4000)
    got = _outcome(payment, **kw)
    assert (got.result, got.refund) == (ApplyResult.PARKED, None)
    assert _money(payment.id) == (0, 6000)  # nothing counted
    item = aws.item(f"PAYMENT#{payment.id}", "ANOMALY#action:act_1")
    assert item["anomaly"] == "refund_outcome"
    assert item["detail"] == {
        "action_id": "act_1",
        "problem": problem,
        "amount": amount,
        "currency": kw.get("currency", "QAR"),
        "approved": True,
        "event_id": "evt_r1",
    }
    assert capfd.readouterr().out.count('"WebhookAnomalies":[1.0]') == 1
    assert _outcome(payment, **kw).result is ApplyResult.PARKED  # parked once, alarmed once
    assert '"WebhookAnomalies"' not in capfd.readouterr().out


def test_the_largest_64_bit_amount_is_kept_as_a_number(aws: Any) -> None:
    payment = _captured()
    _outcome(payment, action_id="act_big", amount=2**63 - 1, reference=None)
    item = aws.item(f"PAYMENT#{payment.id}", "ANOMALY#action:act_big")
    assert item["detail"]["amount"] == 2**63 - 1
    assert item["detail"]["problem"] == "amount is not a positive whole number of minor units"
    _outcome(payment, action_id="act_bigger", amount=-(2**63), reference=None)
    assert aws.item(f"PAYMENT#{payment.id}", "ANOMALY#action:act_bigger")["detail"]["amount"] == str(-(2**63))


def test_a_dashboard_refund_over_the_balance_is_parked(aws: Any) -> None:
    payment = _captured()
    _reserve(payment, 8000)  # 2000 left
    got = _outcome(payment, action_id="act_dash", amount=2001)
    assert got.result is ApplyResult.PARKED
    problem = aws.item(f"PAYMENT#{payment.id}", "ANOMALY#action:act_dash")["detail"]["problem"]
    assert problem == "refunded 2001 is more than the refundable balance 2000"


def test_an_outcome_before_the_capture_is_early_not_wrong(aws: Any) -> None:
    payment = pending_payment()
    with pytest.raises(NotYet) as info:
        _outcome(payment)
    assert info.value.message == "refund outcome for a payment whose capture is not recorded yet; retry later"
    # money that could never add up is parked even before the capture
    assert _outcome(payment, currency="USD").result is ApplyResult.PARKED
    assert _outcome(payment, action_id="act_2", amount=0).result is ApplyResult.PARKED


def test_an_outcome_for_no_payment_is_unknown(aws: Any) -> None:
    assert record_refund_outcome(
        deps.store(), "qpp_" + "q" * 26, action_id="a", amount=1, currency=None, approved=True, reference=None,
        event_id=None, now=NOW, retain_until=NOW,
    ).result is ApplyResult.UNKNOWN  # fmt: skip


def test_a_refund_closed_failed_that_checkout_refunded_after_all_is_corrected(aws: Any) -> None:
    payment = _captured()
    refund = _reserve(payment, 4000)
    deps.store().close_refund(payment.id, refund.id, amount=4000, failure="timeout", now=NOW + 50)
    assert _money(payment.id) == (0, 10000)
    got = _outcome(payment)
    assert got.result is ApplyResult.APPLIED and got.refund is not None and got.refund.id == refund.id
    assert _money(payment.id) == (4000, 6000)
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.REFUNDED


def test_an_outcome_first_counted_as_elsewhere_is_repaired_when_it_turns_out_ours(aws: Any) -> None:
    payment = _captured()
    # reconciliation saw the action before our refund had its action id: counted as made elsewhere
    assert _outcome(payment, action_id="act_7", reference=None, event_id=None).result is ApplyResult.APPLIED
    refund = _reserve(payment, 4000, action="act_7")  # ...and it was ours, reserved meanwhile
    got = _outcome(payment, action_id="act_7", event_id="evt_late")
    assert got.result is ApplyResult.DUPLICATE
    assert deps.store().get_refund(payment.id, refund.id).state is RefundState.REFUNDED
    assert _money(payment.id) == (4000, 6000)  # counted once, the reservation released
    assert deps.store().get_action(payment.id, "act_7")["reserved"] is True


def test_a_decision_that_keeps_racing_gives_up(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from qpay.adapters.store.refunds import REFUND_NOT_OPEN

    payment = _captured()
    _reserve(payment, 4000)
    calls = []

    def racing(*a: Any, **k: Any) -> str:
        calls.append(1)
        return REFUND_NOT_OPEN

    monkeypatch.setattr(deps.store(), "count_refund_outcome", racing)
    with pytest.raises(RuntimeError, match="refund outcome act_1 kept racing with its refund's state"):
        _outcome(payment)
    assert len(calls) == refund_outcomes.DECISION_ATTEMPTS == 3


def test_a_park_from_the_store_names_the_balance(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    payment = _captured()
    monkeypatch.setattr(deps.store(), "count_refund_outcome", lambda *a, **k: ApplyResult.PARKED)
    assert _outcome(payment, action_id="act_x").result is ApplyResult.PARKED
    detail = aws.item(f"PAYMENT#{payment.id}", "ANOMALY#action:act_x")["detail"]
    assert detail["problem"] == "over the refundable balance"


# ------------------------------------------------------------------ waking the workflow
class Sfn:
    def __init__(self, error: str | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.error = error

    def send_task_success(self, *, taskToken: str, output: str) -> None:
        if self.error:
            exc = Exception(self.error)
            exc.response = {"Error": {"Code": self.error}}  # type: ignore[attr-defined]
            raise exc
        self.sent.append((taskToken, output))


def _waiting(payment: Any, state: RefundState | None = None) -> Refund:
    refund = _reserve(payment, 4000)
    deps.store().store_task_token(payment.id, refund.id, token="tok", now=NOW + 10)
    if state is RefundState.REFUNDED:
        _outcome(payment)
    return deps.store().get_refund(payment.id, refund.id)


def test_the_waiting_execution_is_told_the_final_state(aws: Any) -> None:
    payment = _captured()
    refund = _waiting(payment, RefundState.REFUNDED)
    sfn = Sfn()
    assert notify_workflow(deps.store(), sfn, payment.id, refund.id)
    assert sfn.sent == [("tok", f'{{"refund_id": "{refund.id}", "state": "Refunded", "action_id": "act_1"}}')]


def test_a_known_refund_saves_the_read(aws: Any) -> None:
    payment = _captured()
    refund = _waiting(payment)
    sfn = Sfn()
    got = notify_workflow(
        deps.store(), lambda: sfn, payment.id, refund.id, known=refund, state=RefundState.DECLINED, action_id="act_9"
    )
    assert got and sfn.sent == [("tok", f'{{"refund_id": "{refund.id}", "state": "Declined", "action_id": "act_9"}}')]
    sfn2 = Sfn()
    notify_workflow(deps.store(), sfn2, payment.id, refund.id, known=refund, state=RefundState.REFUNDED)
    assert sfn2.sent[0][1].endswith('"action_id": "act_1"}')  # the refund's own action id


def test_nothing_to_tell_without_a_token_or_a_final_state(aws: Any) -> None:
    payment = _captured()
    open_refund = _waiting(payment)  # token, but still open
    sfn = Sfn()
    assert not notify_workflow(deps.store(), sfn, payment.id, open_refund.id)
    # a known refund without a final state, or without a token, is read again
    assert not notify_workflow(deps.store(), sfn, payment.id, open_refund.id, known=open_refund, state=None)
    assert not notify_workflow(
        deps.store(), sfn, payment.id, open_refund.id, known=open_refund, state=RefundState.PENDING
    )
    no_token = _reserve(payment, 1000, rid="qrf_" + "b" * 26)
    _outcome(payment, action_id="act_1", reference=None)  # ignore: act_1 is the other refund's
    assert not notify_workflow(deps.store(), sfn, payment.id, no_token.id, known=no_token, state=RefundState.REFUNDED)
    assert not notify_workflow(deps.store(), sfn, payment.id, "qrf_" + "c" * 26)
    assert sfn.sent == []


@pytest.mark.parametrize("code", ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken", "ExecutionDoesNotExist"])
def test_an_execution_that_moved_on_is_not_an_error(aws: Any, code: str) -> None:
    payment = _captured()
    refund = _waiting(payment, RefundState.REFUNDED)
    assert not notify_workflow(deps.store(), Sfn(code), payment.id, refund.id)


def test_other_failures_are_raised(aws: Any) -> None:
    payment = _captured()
    refund = _waiting(payment, RefundState.REFUNDED)
    with pytest.raises(Exception, match="ThrottlingException"):
        notify_workflow(deps.store(), Sfn("ThrottlingException"), payment.id, refund.id)

    class Plain:
        def send_task_success(self, **_: Any) -> None:
            raise ValueError("no response attribute")

    with pytest.raises(ValueError, match="no response attribute"):
        notify_workflow(deps.store(), Plain(), payment.id, refund.id)

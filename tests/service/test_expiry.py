"""service/expiry: a payment past its deadline is settled by what Checkout.com says, re-armed with
backoff while Checkout says Pending, flagged for a human past the maximum age, never silently expired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutNotFound, CheckoutUnavailable
from qpay.domain.states import Stage
from qpay.service.expiry import ExpiryPorts, Outcome, on_timer_removed, reconcile_open
from tests.service.helpers import NOW, pending_payment, settings
from tests.support.webhooks import cko_id


@dataclass
class Checkout:
    docs: dict[str, Any] = field(default_factory=dict)
    by_reference: list[dict[str, Any]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def get_payment(self, cko: str) -> dict[str, Any]:
        self.asked.append(cko)
        doc = self.docs.get(cko, CheckoutNotFound(404))
        if isinstance(doc, Exception):
            raise doc
        return dict(doc)

    def get_payments_by_reference(self, reference: str) -> list[dict[str, Any]]:
        self.asked.append(f"reference={reference}")
        return self.by_reference


def _ports(checkout: Checkout, flagged: list[Any] | None = None, **s: Any) -> ExpiryPorts:
    defaults: dict[str, Any] = {"expiry_rearm_base_s": 300, "expiry_rearm_cap_s": 3600, "expiry_max_age_s": 86400}
    defaults.update(s)
    on_flag = flagged.append if flagged is not None else None
    return ExpiryPorts(store=deps.store(), checkout=checkout, settings=settings(**defaults), on_flag=on_flag)  # type: ignore[arg-type]


def _timer(payment_id: str) -> dict[str, Any] | None:
    return (
        deps.store()
        ._db.get_item(  # the TIMER item the store arms (its TTL fires the next check)
            TableName=deps.store()._table, Key={"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "TIMER"}}
        )
        .get("Item")
    )


def _pending_at_checkout(payment: Any) -> Checkout:
    return Checkout(docs={payment.cko_id: {"id": payment.cko_id, "status": "Pending"}})


@pytest.mark.parametrize(
    ("status", "stage"),
    [("Expired", Stage.EXPIRED), ("Captured", Stage.CAPTURED), ("Declined", Stage.DECLINED), ("Voided", Stage.EXPIRED)],
)
def test_checkout_s_answer_settles_it(aws: Any, status: str, stage: Stage) -> None:
    payment = pending_payment()
    checkout = Checkout(docs={payment.cko_id: {"id": payment.cko_id, "status": status, "amount": payment.amount}})
    assert on_timer_removed(payment.id, timer_attempt=0, now=NOW + 900, ports=_ports(checkout)) is Outcome.SETTLED
    assert deps.store().get_payment(payment.id).stage is stage
    assert checkout.asked == [payment.cko_id]


def test_still_pending_rearms_with_the_backoff(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    monkeypatch.setattr(random, "uniform", lambda a, b: b)  # the top of the jitter: the ceiling itself
    payment = pending_payment()
    checkout = _pending_at_checkout(payment)
    delays = []
    for attempt, now in enumerate((NOW + 900, NOW + 1200, NOW + 1800), start=0):
        assert on_timer_removed(payment.id, timer_attempt=attempt, now=now, ports=_ports(checkout)) is Outcome.REARMED
        stored = deps.store().get_payment(payment.id)
        assert stored.expiry_attempts == attempt + 1 and stored.stage is Stage.PENDING
        delays.append(int(_timer(payment.id)["expires_at_epoch"]["N"]) - now)
    assert delays == [300, 600, 1200]


def test_redelivered_and_final_timers_do_nothing(aws: Any) -> None:
    payment = pending_payment()
    checkout = _pending_at_checkout(payment)
    on_timer_removed(payment.id, timer_attempt=0, now=NOW + 900, ports=_ports(checkout))
    on_timer_removed(payment.id, timer_attempt=1, now=NOW + 1200, ports=_ports(checkout))
    assert len(checkout.asked) == 2
    # attempt 2 is armed: a late copy of the timer with attempt 1 (or 0) is a redelivery
    for old in (0, 1):
        assert on_timer_removed(payment.id, timer_attempt=old, now=NOW + 1300, ports=_ports(checkout)) is (
            Outcome.REDELIVERED
        )
    assert on_timer_removed(payment.id, timer_attempt=2, now=NOW + 1300, ports=_ports(checkout)) is Outcome.REARMED
    checkout.docs[payment.cko_id] = {"id": payment.cko_id, "status": "Canceled"}
    assert on_timer_removed(payment.id, timer_attempt=3, now=NOW + 2000, ports=_ports(checkout)) is Outcome.SETTLED
    asked = len(checkout.asked)
    assert on_timer_removed(payment.id, timer_attempt=4, now=NOW + 3000, ports=_ports(checkout)) is Outcome.FINAL
    assert len(checkout.asked) == asked
    assert on_timer_removed("qpp_" + "a" * 26, timer_attempt=0, now=NOW, ports=_ports(checkout)) is Outcome.UNKNOWN


def test_past_the_maximum_age_it_is_flagged_once_and_kept_under_watch(aws: Any, capfd: Any) -> None:
    payment = pending_payment()
    checkout, flagged = _pending_at_checkout(payment), []
    young = NOW + 86399
    assert on_timer_removed(payment.id, timer_attempt=0, now=young, ports=_ports(checkout, flagged)) is Outcome.REARMED
    old = NOW + 86400  # exactly the maximum age
    assert on_timer_removed(payment.id, timer_attempt=1, now=old, ports=_ports(checkout, flagged)) is Outcome.FLAGGED
    stored = deps.store().get_payment(payment.id)
    assert stored.attention and stored.stage is Stage.PENDING  # never silently expired
    assert stored.attention_reason == "still pending at Checkout.com past the maximum age"
    assert [p.id for p in flagged] == [payment.id]
    assert int(_timer(payment.id)["expires_at_epoch"]["N"]) == old + 3600  # watched at the cap
    later = old + 3600
    assert on_timer_removed(payment.id, timer_attempt=2, now=later, ports=_ports(checkout, flagged)) is Outcome.FLAGGED
    assert len(flagged) == 1  # flagged once
    assert deps.store().get_payment(payment.id).expiry_attempts == 3


def test_flagging_without_a_metric_hook_still_flags(aws: Any) -> None:
    payment = pending_payment()
    got = on_timer_removed(payment.id, timer_attempt=0, now=NOW + 86400, ports=_ports(_pending_at_checkout(payment)))
    assert got is Outcome.FLAGGED and deps.store().get_payment(payment.id).attention


def test_checkout_not_knowing_a_bound_payment_keeps_it_open_and_counts_it(aws: Any, capfd: Any) -> None:
    payment = pending_payment()
    assert on_timer_removed(payment.id, timer_attempt=0, now=NOW + 900, ports=_ports(Checkout())) is Outcome.REARMED
    assert deps.store().get_payment(payment.id).stage is Stage.PENDING
    # a 404 reads as a status we cannot map: counted (the unmapped-status alarm), nothing moved
    assert '"CheckoutStatusUnmapped":[1.0]' in capfd.readouterr().out


def test_checkout_unavailable_raises_so_the_record_is_redelivered(aws: Any) -> None:
    payment = pending_payment()
    checkout = Checkout(docs={payment.cko_id: CheckoutUnavailable(503, 3)})
    with pytest.raises(CheckoutUnavailable):
        on_timer_removed(payment.id, timer_attempt=0, now=NOW + 900, ports=_ports(checkout))
    assert deps.store().get_payment(payment.id).expiry_attempts == 0


def test_an_intent_checkout_never_saw_ends_as_abandoned(aws: Any) -> None:
    payment = pending_payment(bound=False, reference="ORD-9")
    foreign = {"id": cko_id("pay_"), "status": "Captured", "metadata": {"qpay_payment_id": "qpp_" + "z" * 26}}
    checkout = Checkout(by_reference=[foreign, {"id": cko_id("pay_"), "metadata": "x"}, {"id": cko_id("pay_")}])
    got = on_timer_removed(payment.id, timer_attempt=0, now=NOW + 900, ports=_ports(checkout))
    assert got is Outcome.SETTLED
    assert checkout.asked == ["reference=ORD-9"]
    stored = deps.store().get_payment(payment.id)
    assert stored.stage is Stage.EXPIRED and stored.cko_id is None
    applied = aws.item(f"PAYMENT#{payment.id}", "PAYMENT")["applied_events"]
    assert applied == ["expiry:intent_abandoned"]


def test_an_intent_checkout_did_create_is_bound_and_settled_from_its_status(aws: Any) -> None:
    payment = pending_payment(bound=False, reference="ORD-9")
    pay = cko_id("pay_")
    mine = {
        "id": pay,
        "status": "Captured",
        "amount": payment.amount,
        "metadata": {"qpay_payment_id": payment.id},
        "_links": {"redirect": {"href": "https://qpay.example/p/1"}},
    }
    checkout = Checkout(by_reference=[{"id": cko_id("pay_"), "metadata": {}}, mine])
    got = reconcile_open(deps.store().get_payment(payment.id), now=NOW + 900, ports=_ports(checkout), source="sweep")
    assert got is Outcome.SETTLED
    stored = deps.store().get_payment(payment.id)
    assert (stored.stage, stored.cko_id, stored.redirect_url) == (Stage.CAPTURED, pay, "https://qpay.example/p/1")
    assert aws.item(f"PAYMENT#{payment.id}", "PAYMENT")["applied_events"] == ["sweep:payment_captured"]


def test_a_found_intent_still_pending_is_bound_and_rearmed(aws: Any) -> None:
    payment = pending_payment(bound=False)
    pay = cko_id("pay_")
    checkout = Checkout(by_reference=[{"id": pay, "status": "Pending", "metadata": {"qpay_payment_id": payment.id}}])
    assert reconcile_open(payment, now=NOW + 900, ports=_ports(checkout), source="expiry") is Outcome.REARMED
    stored = deps.store().get_payment(payment.id)
    assert (stored.stage, stored.cko_id, stored.redirect_url) == (Stage.PENDING, pay, "")


def test_a_found_intent_with_a_malformed_id_is_not_bound(aws: Any) -> None:
    payment = pending_payment(bound=False)
    checkout = Checkout(
        by_reference=[{"id": "pay_bad", "status": "Pending", "metadata": {"qpay_payment_id": payment.id}}]
    )
    assert reconcile_open(payment, now=NOW + 900, ports=_ports(checkout), source="expiry") is Outcome.REARMED
    assert deps.store().get_payment(payment.id).cko_id is None


def test_an_intent_whose_create_may_still_be_running_is_left_alone(aws: Any) -> None:
    payment = pending_payment(bound=False)  # lease_until = NOW + 30: the create call may still answer
    checkout = Checkout()
    assert reconcile_open(payment, now=NOW + 29, ports=_ports(checkout), source="expiry") is Outcome.REARMED
    assert checkout.asked == []
    assert reconcile_open(payment, now=NOW + 30, ports=_ports(checkout), source="expiry") is Outcome.REARMED
    assert checkout.asked == []  # the lease holds through its last second
    assert reconcile_open(payment, now=NOW + 31, ports=_ports(checkout), source="expiry") is Outcome.SETTLED
    assert checkout.asked == ["reference=ORD-1"]

"""Edges that need Checkout.com to misbehave the way it really can (the simulator's published
behaviours and faults): creates that never completed (H1), a second Checkout payment for one of ours
after a 5xx (R4), abandoned payments reported as Voided (N2)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from qpay import deps
from qpay.domain import ids
from qpay.domain.records import Payment
from qpay.domain.states import Stage
from tests.conftest import body_of, create_body, invoke_create, invoke_webhook
from tests.support.webhooks import notification


def _sweep(at: int) -> dict[str, int]:
    from qpay.handlers import sweep

    return sweep.sweep(now=at, grace_s=0)


def test_h1_an_intent_checkout_never_saw_ends_and_frees_its_order(aws: Any, sim: Any) -> None:
    """The create died between our intent and Checkout (Lambda killed): no webhook will ever come."""
    now = int(time.time()) - 3600
    intent = Payment(
        id=ids.new_payment_id(), reference="ORD-1001", amount=12500, currency="QAR", description="Order",
        language="en", quantity=1, created_at=now, updated_at=now, deadline=now + 1200, request_hash="h",
        lease_until=now + 30, create_attempt="dead",
    )  # fmt: skip
    deps.store().begin_create(intent, timer_at=intent.deadline, now=now)
    assert invoke_create(create_body(), idem="another-key")["statusCode"] == 409  # the order is held
    assert _sweep(int(time.time())) == {"settled": 1}  # asked Checkout by reference: nothing
    assert deps.store().get_payment(intent.id).stage is Stage.EXPIRED
    assert [r.path for r in sim.requests if r.method == "GET"] == ["/payments"]  # GET /payments?reference=
    retry = invoke_create(create_body(), idem="another-key")
    assert retry["statusCode"] == 201, retry  # the order can be paid again
    late = notification("payment_captured", cko_payment_id="pay_" + "l" * 26, payment_id=intent.id, amount=12500)
    assert body_of(invoke_webhook(late))["result"] == "applied"  # a late capture still wins
    assert deps.store().get_payment(intent.id).stage is Stage.CAPTURED


def test_h1_an_intent_checkout_did_create_is_bound_not_ended(
    aws: Any, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkout accepted, our answer was lost, and removing the intent failed too."""
    store = deps.store()

    def abort_fails(payment: Payment) -> bool:
        raise RuntimeError("DynamoDB unreachable")

    monkeypatch.setattr(store, "abort_create", abort_fails)
    sim.faults.fail_next(1, status="accept_then_timeout")
    sim.faults.fail_next(5, status=503)
    assert invoke_create(create_body())["statusCode"] == 503
    sim.faults.reset()
    [cko] = sim.payments.values()
    [item] = [i for i in aws.items() if i["sk"]["S"] == "PAYMENT"]
    pid = item["pk"]["S"].removeprefix("PAYMENT#")
    assert "cko_id" not in item
    later = int(time.time()) + 3600
    assert _sweep(later) == {"rearmed": 1}  # Checkout still says Pending: it stays open, now bound
    assert store.get_payment(pid).cko_id == cko.id
    sim.expire_payment(cko.id)
    assert _sweep(later + 7200) == {"settled": 1}
    assert store.get_payment(pid).stage is Stage.EXPIRED


def test_r4_a_second_checkout_payment_after_a_5xx_is_never_applied(aws: Any, sim: Any, capfd: Any) -> None:
    """Checkout processed the create, answered 500 and cached nothing: our retry made a second pay_."""
    sim.faults.fail_next(1, status="accept_then_500")
    created = invoke_create(create_body())
    assert created["statusCode"] == 201
    pid = body_of(created)["id"]
    orphan, bound = sorted(sim.payments.values(), key=lambda p: p.requested_on)
    assert deps.store().get_payment(pid).cko_id == bound.id
    sim.expire_payment(orphan.id)  # the orphan expires at Checkout: its webhook names our payment
    [expired] = [e for e in sim.webhooks.bodies("payment_expired") if e["data"]["id"] == orphan.id]
    assert body_of(invoke_webhook(expired))["result"] == "foreign"
    assert deps.store().get_payment(pid).stage is Stage.PENDING  # the shopper can still pay the real one
    assert '"WebhookAnomalies":[1.0]' in capfd.readouterr().out


def test_n2_an_abandoned_payment_reported_voided_expires(aws: Any, sim: Any) -> None:
    sim.config.expired_payment_status = "Voided"
    pid = body_of(invoke_create(create_body()))["id"]
    [cko] = sim.payments.values()
    sim.expire_payment(cko.id)  # its payment_expired webhook is lost: only GET can tell
    assert deps.checkout().get_payment(cko.id)["status"] == "Voided"
    assert _sweep(int(time.time()) + 3600) == {"settled": 1}
    assert deps.store().get_payment(pid).stage is Stage.EXPIRED

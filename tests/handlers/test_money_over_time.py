"""Money over days, not seconds (correctness review F1, F4; fidelity F-1, F-2, F-3, F-7), against the
Checkout.com simulator with its documented behaviour switched to the worst published case:

- idempotency keys are kept for 24 hours only; after that "the request will be processed as normal"
  (https://www.checkout.com/docs/payments/manage-payments/idempotency, shared/reviews/fidelity.md S4);
- "if the original request could not be processed, an idempotent result will not be saved" (S4): the
  simulator's ``accept_then_503`` makes the refund and answers 503 with nothing cached;
- whether a pending refund is listed in ``GET /payments/{id}/actions`` is not published: the simulator
  lists it only once settled, and here a refund stays pending for days.

Each test failed on 428866c (the review's reproduction) before its fix.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutRejected
from qpay.domain.refund_states import RefundState
from qpay.domain.states import Stage
from qpay.service import expiry as expiry_svc
from qpay.service import refunds as refund_svc
from tests.conftest import body_of, create_body, invoke_create, invoke_webhook
from tests.handlers.test_owners import captured_payment, ports, requested
from tests.support.webhooks import notification

DAY = 86400


@pytest.fixture
def slow_refunds(sim: Any) -> Any:
    """Refunds stay pending at Checkout for three days of simulator time (unscaled)."""
    sim.config.time_scale = 1.0
    sim.config.refund_settle_seconds = 3 * DAY
    return sim


def _checkout_refunds(sim: Any, cko: str) -> list[tuple[str, int]]:
    payment = sim.get_payment(cko)
    pending = [(r.action_id, r.amount) for r in payment.pending_refunds]
    settled = [(a.id, a.amount) for a in payment.actions if a.type == "Refund"]
    return pending + settled


def _advance(sim: Any, seconds: int) -> int:
    sim.clock.advance(seconds)
    return int(sim.clock.now().timestamp())


# ------------------------------------------------------------------ F1 / F-1
def test_f1_a_refund_pending_past_checkouts_key_window_is_never_posted_again(aws, slow_refunds) -> None:
    sim = slow_refunds
    pid, cko = captured_payment(sim)
    refund = requested(pid, 5000)
    now = int(sim.clock.now().timestamp())
    assert refund_svc.task_request(pid, refund.id, now=now, ports=ports())["state"] == "Pending"
    assert len(_checkout_refunds(sim, cko)) == 1
    # no webhook: the workflow reconciles at 2, 5, 12, 23 and 25 hours, and the sweeper restarts it
    for hours in (2, 3, 7, 11, 2):
        now = _advance(sim, hours * 3600)
        with pytest.raises(refund_svc.OutcomeUnknown):
            refund_svc.task_reconcile(pid, refund.id, now=now, ports=ports())
    assert _checkout_refunds(sim, cko) == [(deps.store().get_refund(pid, refund.id).action_id, 5000)]
    # three days later Checkout settles it and reconciliation counts it once
    now = _advance(sim, 2 * DAY)
    sim.run_due()
    assert refund_svc.task_reconcile(pid, refund.id, now=now, ports=ports())["state"] == "Refunded"
    payment = deps.store().get_payment(pid)
    assert (payment.refunded_amount, payment.refundable_amount) == (5000, 7500)


def test_f1_a_full_refund_pending_for_days_is_not_closed_failed_meanwhile(aws, slow_refunds) -> None:
    sim = slow_refunds
    pid, cko = captured_payment(sim)
    refund = requested(pid, 12500)
    now = int(sim.clock.now().timestamp())
    refund_svc.task_request(pid, refund.id, now=now, ports=ports())
    now = _advance(sim, 25 * 3600)
    with pytest.raises(refund_svc.OutcomeUnknown):  # never RefundRejected: nothing was refused
        refund_svc.task_reconcile(pid, refund.id, now=now, ports=ports())
    assert deps.store().get_refund(pid, refund.id).state is RefundState.PENDING
    assert deps.store().get_payment(pid).refundable_amount == 0  # still reserved
    assert len(_checkout_refunds(sim, cko)) == 1


# ------------------------------------------------------------------ F-2
def test_f2_a_5xx_on_the_refund_post_is_maybe_done_never_posted_again(aws, slow_refunds) -> None:
    sim = slow_refunds
    pid, cko = captured_payment(sim)
    refund = requested(pid, 5000)
    sim.faults.fail_next(1, status="accept_then_503", path_prefix="/payments/*/refunds")
    now = int(time.time())
    with pytest.raises(refund_svc.OutcomeUnknown):
        refund_svc.task_request(pid, refund.id, now=now, ports=ports())
    assert len(_checkout_refunds(sim, cko)) == 1  # the client did not POST it again
    # the workflow's retry and its reconciliation never ask again: Checkout may have it
    with pytest.raises(refund_svc.OutcomeUnknown):
        refund_svc.task_request(pid, refund.id, now=now + 5, ports=ports())
    with pytest.raises(refund_svc.OutcomeUnknown):
        refund_svc.task_reconcile(pid, refund.id, now=now + 3600, ports=ports())
    assert len(_checkout_refunds(sim, cko)) == 1
    assert deps.store().get_refund(pid, refund.id).state is RefundState.REQUESTED
    # once settled (days later), the listing names our reference: reconciliation counts it as ours
    sim.clock.advance(3 * DAY)
    sim.run_due()
    assert refund_svc.task_reconcile(pid, refund.id, now=now + 7200, ports=ports())["state"] == "Refunded"
    stored = deps.store().get_refund(pid, refund.id)
    assert stored.action_id == _checkout_refunds(sim, cko)[0][0]
    assert deps.store().get_payment(pid).refunded_amount == 5000


def test_f2_a_refund_post_that_never_left_is_asked_again(aws, sim) -> None:
    """A refusal before processing (429: "can be safely retried", fidelity S6) is not ambiguous."""
    pid, cko = captured_payment(sim)
    refund = requested(pid, 5000)
    sim.faults.fail_next(5, status=429, path_prefix="/payments/*/refunds")
    now = int(time.time())
    with pytest.raises(Exception, match="unavailable") as raised:
        refund_svc.task_request(pid, refund.id, now=now, ports=ports())
    assert type(raised.value).__name__ == "CheckoutUnavailable"
    assert _checkout_refunds(sim, cko) == []
    assert refund_svc.task_request(pid, refund.id, now=now + 5, ports=ports())["state"] == "Pending"
    assert len(_checkout_refunds(sim, cko)) == 1


def test_f2_an_outcome_naming_our_reference_with_another_action_is_a_duplicate_refund(aws, sim) -> None:
    pid, cko = captured_payment(sim)
    refund = requested(pid, 5000)
    now = int(time.time())
    refund_svc.task_request(pid, refund.id, now=now, ports=ports())
    ours = deps.store().get_refund(pid, refund.id).action_id
    other = "act_" + "d" * 26
    for action in (ours, other):
        doc = notification(
            "payment_refunded", cko_payment_id=cko, payment_id=pid, amount=5000, reference=refund.id, action_id=action
        )
        assert invoke_webhook(doc)["statusCode"] == 200
    payment = deps.store().get_payment(pid)
    assert (payment.refunded_amount, payment.refundable_amount) == (10000, 2500)  # the books match Checkout
    assert payment.attention and "duplicate refund" in payment.attention_reason
    anomaly = deps.store().get_anomaly(pid, f"action:{other}")
    assert anomaly is not None and anomaly["anomaly"] == "duplicate_refund"
    assert anomaly["detail"]["refund_id"] == refund.id and anomaly["detail"]["refund_action_id"] == ours


# ------------------------------------------------------------------ F4
class _SlowLookup:
    """Checkout as the sweep sees it, with a hook between its read and its write."""

    def __init__(self, checkout: Any, during: Any) -> None:
        self._checkout, self._during = checkout, during

    def get_payments_by_reference(self, reference: str, **kw: Any) -> list[dict[str, Any]]:
        found = self._checkout.get_payments_by_reference(reference, **kw)
        self._during()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._checkout, name)


def test_f4_the_sweep_never_abandons_a_same_key_retry_reaching_checkout(aws, sim, monkeypatch) -> None:
    from qpay import clock
    from qpay.adapters import checkout as checkout_mod

    body = create_body(reference="ORD-F4")
    real_now = int(time.time())
    # attempt 1, 1600 s ago: the Lambda is killed inside the Checkout call, before Checkout processed it
    monkeypatch.setattr(clock, "now", lambda: real_now - 1600)
    monkeypatch.setattr(checkout_mod.CheckoutClient, "create_payment", _raise_killed)
    with pytest.raises(SystemExit):
        invoke_create(body, idem="K-F4")
    monkeypatch.undo()
    store = deps.store()
    [stuck] = [p for p in _payments(store) if p.reference == "ORD-F4"]
    assert stuck.cko_id is None and stuck.stage is Stage.PENDING and stuck.lease_until < real_now
    answers: list[dict[str, Any]] = []

    def retry() -> None:  # the merchant's same-key retry takes the intent over while the sweep looks
        answers.append(body_of(invoke_create(body, idem="K-F4")))

    sweep_ports = expiry_svc.ExpiryPorts(
        store=store,
        checkout=_SlowLookup(deps.checkout(), retry),  # type: ignore[arg-type]
        settings=deps.get_settings(),
    )
    expiry_svc.reconcile_open(stuck, now=real_now, ports=sweep_ports, source="sweep")
    [answer] = answers
    assert answer["status"] == "Pending" and answer["redirect_url"].startswith("http")
    assert store.get_payment(stuck.id).stage is Stage.PENDING
    second = invoke_create(create_body(reference="ORD-F4"), idem="K-F4-other")
    assert second["statusCode"] == 409  # the order still has its one live payment


def _raise_killed(*_: Any, **__: Any) -> Any:
    raise SystemExit("Lambda killed inside the Checkout.com call")


def _payments(store: Any) -> list[Any]:
    import boto3

    from tests.conftest import REGION

    table = boto3.client("dynamodb", region_name=REGION)
    items = table.scan(TableName=deps.get_settings().table_name)["Items"]
    found = [i["pk"]["S"].removeprefix("PAYMENT#") for i in items if i["sk"]["S"] == "PAYMENT"]
    return [store.get_payment(i) for i in found]


# ------------------------------------------------------------------ F-3
def test_f3_a_replay_of_an_ended_payment_never_offers_a_payable_link(aws, sim) -> None:
    first = body_of(invoke_create(create_body(reference="ORD-F3"), idem="K-F3"))
    cko = next(p.id for p in sim.payments.values() if p.metadata.get("qpay_payment_id") == first["id"])
    sim.expire_payment(cko)
    invoke_webhook(notification("payment_expired", cko_payment_id=cko, payment_id=first["id"], reference="ORD-F3"))
    replay = invoke_create(create_body(reference="ORD-F3"), idem="K-F3")
    answer = body_of(replay)
    assert answer["status"] == "Expired"
    assert not answer.get("redirect_url")
    assert replay["statusCode"] == 200  # a replay of an ended payment, not a 201 without a link


def test_f3_a_create_whose_orphan_bound_first_still_answers_with_a_link(aws, sim) -> None:
    """Checkout processed attempt 1 and answered 500 (nothing cached); the retry inside the client makes a
    second Checkout payment; the first one's payment_pending webhook binds our payment before the create
    completes. The answer must still carry a payable link (the bound payment's), never ``""``."""
    from qpay.adapters import checkout as checkout_mod

    body = create_body(reference="ORD-F3B")
    sim.faults.fail_next(1, status="accept_then_500", path_prefix="/payments", method="POST")
    real = checkout_mod.CheckoutClient.create_payment

    def create_then_orphan_webhook(self: Any, doc: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        answer = real(self, doc, idempotency_key)
        pid = doc["metadata"]["qpay_payment_id"]
        orphan = next(p.id for p in sim.payments.values() if p.metadata.get("qpay_payment_id") == pid)
        invoke_webhook(notification("payment_pending", cko_payment_id=orphan, payment_id=pid, reference="ORD-F3B"))
        return answer

    checkout_mod.CheckoutClient.create_payment = create_then_orphan_webhook  # type: ignore[method-assign]
    try:
        response = invoke_create(body, idem="K-F3B")
    finally:
        checkout_mod.CheckoutClient.create_payment = real  # type: ignore[method-assign]
    answer = body_of(response)
    assert response["statusCode"] in (201, 503)
    if response["statusCode"] == 201:
        assert answer["status"] == "Pending" and answer["redirect_url"].startswith("http")


# ------------------------------------------------------------------ F-7
class _ListRefused:
    def __init__(self, checkout: Any) -> None:
        self._checkout = checkout

    def get_payments_by_reference(self, reference: str, **kw: Any) -> list[dict[str, Any]]:
        raise CheckoutRejected(403, None, [], None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._checkout, name)


def test_f7_a_refused_list_endpoint_flags_the_intent_instead_of_raising(aws, sim) -> None:
    from qpay.domain import ids
    from qpay.domain.records import Payment

    store = deps.store()
    now = int(time.time())
    intent = Payment(
        id=ids.new_payment_id(), reference="ORD-F7", amount=100, currency="QAR", description="d", language="en",
        quantity=1, created_at=now - 3600, updated_at=now - 3600, deadline=now - 2400, request_hash="h",
        lease_until=now - 3500, create_attempt="a",
    )  # fmt: skip
    store.begin_create(intent, timer_at=intent.deadline, now=now - 3600)
    flagged: list[str] = []
    p = expiry_svc.ExpiryPorts(
        store=store, checkout=_ListRefused(deps.checkout()), settings=deps.get_settings(), on_flag=flagged.append
    )  # type: ignore[arg-type]
    outcome = expiry_svc.reconcile_open(store.get_payment(intent.id), now=now, ports=p, source="sweep")
    assert outcome is expiry_svc.Outcome.FLAGGED
    stored = store.get_payment(intent.id)
    assert stored.stage is Stage.PENDING and stored.attention
    assert "list" in (stored.attention_reason or "")
    assert len(flagged) == 1


# ------------------------------------------------------------------ the client's side of F-2
@pytest.mark.parametrize(
    ("fault", "requests_seen"),
    [("accept_then_500", 1), (502, 1), ("accept_then_timeout", 1), ("accept_then_close", 1), ("close", 1)],
)
def test_f2_a_refund_post_that_may_have_been_processed_is_never_repeated_by_the_client(
    aws, sim, fault: Any, requests_seen: int
) -> None:
    from qpay.adapters.checkout import CheckoutOutcomeUnknown

    _, cko = captured_payment(sim)
    sim.config.timeout_hold_seconds = 0.2
    sim.faults.fail_next(3, status=fault, path_prefix="/payments/*/refunds", seconds=5.0)
    before = len([r for r in sim.requests if r.path.endswith("/refunds")])
    with pytest.raises(CheckoutOutcomeUnknown):
        deps.checkout().refund(cko, amount=100, reference="qrf_" + "a" * 26, idempotency_key="qrf_" + "a" * 26)
    assert len([r for r in sim.requests if r.path.endswith("/refunds")]) - before == requests_seen


def test_f2_a_refund_post_that_never_connected_is_retried_and_then_unavailable(aws, monkeypatch) -> None:
    import socket

    from qpay.adapters.checkout import CheckoutClient, CheckoutOutcomeUnknown, CheckoutUnavailable

    with socket.socket() as s:  # a port nothing listens on: the connection is refused, nothing is sent
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = CheckoutClient(f"http://127.0.0.1:{port}", lambda: "sk_sbox_x", sleep=lambda _: None)
    with pytest.raises(CheckoutUnavailable) as raised:
        client.refund("pay_x", amount=100, reference="r", idempotency_key="k")
    assert not isinstance(raised.value, CheckoutOutcomeUnknown)
    assert client.calls == 3  # retried: Checkout cannot have processed it


# ------------------------------------------------------------------ found by the simulation (seed 1)
def test_an_intent_the_sweep_ended_is_never_taken_back_by_a_same_key_retry(aws, sim, monkeypatch) -> None:
    """``make simulate SEED=1``: a create dies inside its POST, the sweep ends the intent (Checkout never
    saw it), then the same-key retry took the Expired item over: ``state.never_backwards`` (Expired ->
    Pending). The retry is now a 409 and the payment stays Expired; a new key creates the order afresh."""
    from qpay import clock
    from qpay.adapters import checkout as checkout_mod

    body = create_body(reference="ORD-SEED1")
    real_now = int(time.time())
    monkeypatch.setattr(clock, "now", lambda: real_now - 1600)
    monkeypatch.setattr(checkout_mod.CheckoutClient, "create_payment", _raise_killed)
    with pytest.raises(SystemExit):
        invoke_create(body, idem="K-SEED1")
    monkeypatch.undo()
    store = deps.store()
    [stuck] = [p for p in _payments(store) if p.reference == "ORD-SEED1"]
    ports_ = expiry_svc.ExpiryPorts(store=store, checkout=deps.checkout(), settings=deps.get_settings())
    assert expiry_svc.reconcile_open(stuck, now=real_now, ports=ports_, source="sweep") is expiry_svc.Outcome.SETTLED
    assert store.get_payment(stuck.id).stage is Stage.EXPIRED
    retry = invoke_create(body, idem="K-SEED1")
    assert retry["statusCode"] == 409
    assert store.get_payment(stuck.id).stage is Stage.EXPIRED
    assert invoke_create(body, idem="K-SEED1-new")["statusCode"] == 201

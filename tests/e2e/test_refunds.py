"""Refunds, full and partial, through the real refund state machine (infra/refund.asl.yaml) with its
Lambda tasks running the project's handlers, against the Checkout.com simulator."""

from __future__ import annotations

import time

import pytest

from qpay.service import refunds as refund_service
from tests.e2e.conftest import Shop, wait_for


def captured(shop: Shop, amount: int = 12500) -> str:
    payment = shop.create(amount=amount)
    shop.pay(payment)
    assert shop.get(payment["id"])["status"] == "Captured"
    return str(payment["id"])


def checkout_refunds(shop: Shop, payment_id: str) -> list:
    sim = shop.stack.sim
    cko = shop.item(payment_id)["cko_id"]
    return [a for a in sim.get_payment(cko).actions if a.type == "Refund"]


def test_full_refund(shop: Shop) -> None:
    pid = captured(shop)
    r = shop.refund(pid)  # no amount: the rest
    assert r.status_code == 202, r.text
    assert r.json()["amount"] == 12500
    assert r.json()["status"] == "Requested"
    shop.stack.drain()
    view = shop.get(pid)
    assert view["status"] == "Refunded"
    assert view["refunded_amount"] == 12500
    assert [x["status"] for x in view["refunds"]] == ["Refunded"]
    assert shop.item(pid)["refundable_amount"] == 0


def test_two_partials_then_over_refund_rejected(shop: Shop) -> None:
    pid = captured(shop)
    assert shop.refund(pid, 2500).status_code == 202
    shop.stack.drain()
    assert shop.get(pid)["status"] == "Partially Refunded"
    assert shop.refund(pid, 4000).status_code == 202
    shop.stack.drain()
    view = shop.get(pid)
    assert view["refunded_amount"] == 6500
    assert view["status"] == "Partially Refunded"
    before = shop.item(pid)
    over = shop.refund(pid, 6001)
    assert over.status_code == 422
    assert over.json()["fields"][0]["field"] == "amount"
    assert shop.item(pid) == before
    assert shop.refund(pid, 6000).status_code == 202
    shop.stack.drain()
    assert shop.get(pid)["status"] == "Refunded"
    assert sum(a.amount for a in checkout_refunds(shop, pid)) == 12500


def test_not_refundable_when_not_captured(shop: Shop) -> None:
    payment = shop.create()
    r = shop.refund(payment["id"], 100)
    assert r.status_code == 409
    assert r.json()["code"] == "not_refundable"


def test_unsigned_or_wrongly_signed_is_403_and_changes_nothing(shop: Shop) -> None:
    pid = captured(shop)
    before = shop.item(pid)
    assert shop.refund(pid, 100, signed=False).status_code == 403
    url = f"{shop.stack.api_url}/payments/{pid}/refunds"
    forged = shop.http.post(
        url,
        json={"amount": 100},
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFAKE/20261125/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature="
            + "0" * 64,
            "X-Amz-Date": "20261125T000000Z",
        },
    )
    assert forged.status_code == 403
    assert shop.item(pid) == before


def test_same_idempotency_key_is_one_refund(shop: Shop) -> None:
    pid = captured(shop)
    first = shop.refund(pid, 1000, key="same-key")
    again = shop.refund(pid, 1000, key="same-key")  # the retried start meets ExecutionAlreadyExists
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert shop.refund(pid, 999, key="same-key").status_code == 409
    shop.stack.drain()
    assert len(checkout_refunds(shop, pid)) == 1
    assert shop.get(pid)["refunded_amount"] == 1000


def test_checkout_429_then_success_refunds_exactly_once(shop: Shop) -> None:
    """429 "can be safely retried" (nothing was processed): the client retries, then the state machine's
    Retry on CheckoutUnavailable asks again with the same key, and Checkout makes one refund."""
    pid = captured(shop)
    sim = shop.stack.sim
    sim.faults.fail_next(3, status=429, path_prefix="/payments/*/refunds")  # every attempt of the first invocation
    r = shop.refund(pid, 3000)
    assert r.status_code == 202
    shop.stack.drain(timeout=60)
    assert shop.get(pid)["refunds"][0]["status"] == "Refunded"
    assert [a.amount for a in checkout_refunds(shop, pid)] == [3000]
    cko = shop.item(pid)["cko_id"]
    attempts = [q for q in sim.requests if q.path == f"/payments/{cko}/refunds"]
    assert len(attempts) == 4
    assert {q.idempotency_key for q in attempts} == {r.json()["id"]}


def test_a_5xx_after_checkout_made_the_refund_is_never_repeated(shop: Shop) -> None:
    """Checkout processed the refund and answered 503 (it caches nothing then, so a repeat would be a
    second refund: fidelity F-2). The workflow never POSTs again; it finds the refund by our reference in
    /actions once Checkout lists it, and counts it as ours."""
    pid = captured(shop)
    sim = shop.stack.sim
    sim.faults.fail_next(1, status="accept_then_503", path_prefix="/payments/*/refunds")
    r = shop.refund(pid, 3000)
    assert r.status_code == 202
    shop.stack.drain(timeout=60)
    assert shop.get(pid)["refunds"][0]["status"] == "Refunded"
    assert [a.amount for a in checkout_refunds(shop, pid)] == [3000]
    cko = shop.item(pid)["cko_id"]
    assert len([q for q in sim.requests if q.path == f"/payments/{cko}/refunds"]) == 1
    assert shop.get(pid)["refunded_amount"] == 3000


def test_a_5xx_checkout_did_not_process_leaves_the_refund_to_a_person_never_to_a_second_post(shop: Shop) -> None:
    """The cost of never repeating a POST that may have reached Checkout: a plain 503 (nothing was made)
    is indistinguishable from accept-then-503 while pending refunds may be unlisted. The workflow
    reconciles until its attempts run out, then flags the payment and fails RefundOutcomeUnknown; the
    amount stays reserved and Checkout holds no refund (docs/money-over-time.md)."""
    pid = captured(shop)
    sim = shop.stack.sim
    sim.faults.fail_next(1, status=503, path_prefix="/payments/*/refunds")
    r = shop.refund(pid, 3000)
    assert r.status_code == 202
    shop.stack.drain(timeout=120)
    assert shop.get(pid)["refunds"][0]["status"] == "Requested"
    assert checkout_refunds(shop, pid) == []
    cko = shop.item(pid)["cko_id"]
    assert len([q for q in sim.requests if q.path == f"/payments/{cko}/refunds"]) == 1
    item = shop.item(pid)
    assert item["attention"] is True and "may or may not have reached" in item["attention_reason"]
    assert item["refundable_amount"] == 12500 - 3000  # still reserved: it cannot be refunded twice
    sfn = shop.stack.client("stepfunctions")
    refund_id = r.json()["id"]
    executions = [
        e
        for arn in shop.stack.state_machine_arns.values()
        for e in sfn.list_executions(stateMachineArn=arn)["executions"]
        if e["name"] == refund_id  # the stack is shared with the other tests of this module
    ]
    [execution] = executions
    assert execution["status"] == "FAILED"
    history = sfn.get_execution_history(executionArn=execution["executionArn"], reverseOrder=True)["events"]
    failed = next(e for e in history if e["type"] == "ExecutionFailed")
    assert failed["executionFailedEventDetails"]["error"] == "RefundOutcomeUnknown"


def test_permanent_refusal_releases_the_reservation(shop: Shop) -> None:
    pid = captured(shop)
    sim = shop.stack.sim
    sim.webhooks.pause()
    sim.dashboard_refund(shop.item(pid)["cko_id"], 5000)  # we don't know yet: Checkout's balance is 7500
    r = shop.refund(pid, 10000)
    assert r.status_code == 202
    wait_for(lambda: shop.get(pid)["refunds"][0]["status"] != "Requested" and shop.stack._running_executions() == 0)
    refund = shop.get(pid)["refunds"][0]
    assert refund["status"] == "Failed"
    assert shop.item(pid)["refundable_amount"] == 12500  # released
    sim.webhooks.resume()
    shop.stack.drain()
    assert shop.get(pid)["refunded_amount"] == 5000
    assert shop.item(pid)["refundable_amount"] == 7500


def test_lost_webhook_is_reconciled_from_actions(shop: Shop) -> None:
    pid = captured(shop)
    sim = shop.stack.sim
    sim.webhooks.drop_next(2)  # payment_refund_pending and payment_refunded never arrive
    started = time.monotonic()
    assert shop.refund(pid, 2000).status_code == 202
    shop.stack.drain(timeout=60)
    view = shop.get(pid)
    assert view["refunds"][0]["status"] == "Refunded"
    assert view["refunded_amount"] == 2000
    assert time.monotonic() - started >= 4  # waited OutcomeTimeoutSeconds (5 s locally) first


def test_early_webhook_still_completes(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The refund webhook lands before the execution stores its task token."""
    pid = captured(shop)
    real_await = refund_service.task_await

    def late_await(payment_id, refund_id, token, *, now, ports):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ports.store.get_refund(payment_id, refund_id).state.value != "Refunded":
            time.sleep(0.05)
        return real_await(payment_id, refund_id, token, now=now, ports=ports)

    monkeypatch.setattr(refund_service, "task_await", late_await)
    started = time.monotonic()
    assert shop.refund(pid, 1500).status_code == 202
    shop.stack.drain(timeout=60)
    assert shop.get(pid)["refunds"][0]["status"] == "Refunded"
    assert time.monotonic() - started < 4  # completed by the await task itself, not by the timeout


def test_h2_refund_webhooks_carrying_the_payment_reference_still_settle_our_refund(shop: Shop) -> None:
    """Checkout's published payment_refunded example carries an order-style reference: matched by the
    action id the 202 gave us, the refund settles and the balance is counted once (correctness H2)."""
    sim = shop.stack.sim
    assert sim is not None
    sim.config.refund_webhook_reference = "payment"
    try:
        pid = captured(shop)
        assert shop.refund(pid, 4000).status_code == 202
        shop.stack.drain()
        view = shop.get(pid)
        assert [r["status"] for r in view["refunds"]] == ["Refunded"]
        assert (view["refunded_amount"], shop.item(pid)["refundable_amount"]) == (4000, 8500)
        assert shop.refund(pid, 8500).status_code == 202  # the whole rest is still refundable
        shop.stack.drain()
        assert shop.get(pid)["status"] == "Refunded"
    finally:
        sim.config.refund_webhook_reference = "refund"

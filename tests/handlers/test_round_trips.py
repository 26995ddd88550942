"""Round trips per path, counted by instrumenting the clients (never estimated). Budgets from the
issue: payment webhook 1 DynamoDB call; refund webhook ≤ 2 DynamoDB + 1 Step Functions (the payment and its
refunds read once, to decide whose refund it is; one transaction); create ≤ 1 Checkout + 2 DynamoDB;
return ≤ 1 Checkout + 2 DynamoDB (+1 Checkout when the session id lapsed; none once the payment is final)."""

from __future__ import annotations

import time
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest

from qpay import deps
from qpay.domain.records import Refund
from tests.conftest import body_of, create_body, invoke_create, invoke_return, invoke_webhook
from tests.support.webhooks import notification


@pytest.fixture
def count(aws, sim):
    calls: Counter[str] = Counter()
    deps.keys()  # the secret is fetched once per cold start (cached): not a per-request trip
    deps.dynamodb().meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.update([f"dynamodb.{model.name}"])
    )
    deps.stepfunctions().meta.events.register(
        "before-call.states.*", lambda model, **_: calls.update([f"sfn.{model.name}"])
    )

    def checkout_calls() -> int:
        return len([r for r in sim.requests if not r.path.startswith("/_sim")])

    def snapshot() -> tuple[Counter[str], int]:
        return Counter(calls), checkout_calls()

    return snapshot


def ddb(c: Counter[str]) -> int:
    return sum(v for k, v in c.items() if k.startswith("dynamodb."))


def delta(before, after):
    return after[0] - before[0], after[1] - before[1]


def test_create_budget(count, sim) -> None:
    before = count()
    assert invoke_create(create_body())["statusCode"] == 201
    calls, checkout = delta(before, count())
    assert ddb(calls) == 2, calls
    assert checkout == 1


def test_payment_webhook_is_one_dynamodb_call(aws, sim, count) -> None:
    pid = body_of(invoke_create(create_body()))["id"]
    [cko] = sim.payments.values()
    before = count()
    invoke_webhook(notification("payment_captured", cko_payment_id=cko.id, payment_id=pid, amount=12500))
    calls, checkout = delta(before, count())
    assert ddb(calls) == 1, calls
    assert checkout == 0


def test_refund_webhook_budget(aws, sim, count) -> None:
    pid = body_of(invoke_create(create_body()))["id"]
    [cko] = sim.payments.values()
    invoke_webhook(notification("payment_captured", cko_payment_id=cko.id, payment_id=pid, amount=12500))
    store = deps.store()
    now = int(time.time())
    refund = Refund(id="qrf_" + "r" * 26, payment_id=pid, amount=2500, created_at=now, updated_at=now)
    store.reserve_refund(refund, now=now)
    store.store_task_token(pid, refund.id, token="token-of-a-waiting-execution", now=now)
    before = count()
    doc = notification("payment_refunded", cko_payment_id=cko.id, payment_id=pid, amount=2500, reference=refund.id)
    assert invoke_webhook(doc)["statusCode"] == 200
    calls, checkout = delta(before, count())
    assert ddb(calls) <= 2, calls
    assert calls["sfn.SendTaskSuccess"] == 1
    assert checkout == 0


def _return(redirect: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(redirect).query).items()}


def test_return_budget(aws, sim, count) -> None:
    invoke_create(create_body())
    [cko] = sim.payments.values()
    query = _return(sim.pay(cko.id, card="4215375500883243", expiry="12/30", pin="123456"))
    before = count()
    invoke_return("success", query)
    calls, checkout = delta(before, count())
    assert ddb(calls) == 2, calls  # read, transition
    assert checkout == 1
    before = count()
    invoke_return("success", query)  # the shopper reloads: the payment is final, nothing to ask
    calls, checkout = delta(before, count())
    assert ddb(calls) == 1, calls
    assert checkout == 0


def test_return_after_the_session_id_lapsed_asks_by_payment_id(aws, sim, count) -> None:
    invoke_create(create_body())
    [cko] = sim.payments.values()
    sim.webhooks.pause()
    query = _return(sim.pay(cko.id, card="4215375500883243", expiry="12/30", pin="123456"))
    sim.clock.advance(16 * 60)  # the cko-session-id lapsed: one more Checkout call by payment id
    before = count()
    invoke_return("success", query)
    calls, checkout = delta(before, count())
    assert ddb(calls) == 2, calls
    assert checkout == 2


def test_anonymous_return_hits_cost_one_checkout_call_per_window(aws, sim, count) -> None:
    invoke_create(create_body())
    [cko] = sim.payments.values()
    pid = cko.metadata["qpay_payment_id"]
    before = count()
    for _ in range(20):  # someone hammers the return URL of an open payment
        invoke_return("success", {"payment_id": pid})
    calls, checkout = delta(before, count())
    assert checkout == 1
    assert ddb(calls) == 20  # one read each, nothing written

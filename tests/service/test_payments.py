"""service/payments.create_payment with a scripted Checkout.com: the request Checkout receives, the
payment stored, idempotent replays, and every refusal's text and fields (the API's error body)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutRejected, CheckoutUnavailable
from qpay.api.auth import Caller
from qpay.api.requests import CreatePayment, parse_create
from qpay.domain import ids
from qpay.domain.errors import Conflict, UpstreamRejected, UpstreamUnavailable, ValidationFailed
from qpay.domain.states import Stage
from qpay.service.payments import Ports, create_payment, fingerprint, payment_id_for
from qpay.service.transitions import apply_event
from tests.service.helpers import NOW, settings
from tests.support import keys
from tests.support.webhooks import cko_id

MERCHANT = Caller(kind="merchant", scope="merchant")
BASE = "https://pay.example-shop.qa"


@dataclass
class ScriptedCheckout:
    """Checkout.com's create and GET, answering from a script (or raising what the script says)."""

    answers: list[Any] = field(default_factory=list)
    calls: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=dict)

    def create_payment(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        self.calls.append((body, idempotency_key))
        answer = self.answers.pop(0) if self.answers else _accepted()
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def get_payment(self, cko: str) -> dict[str, Any]:
        self.gets.append(cko)
        if isinstance(self.doc, Exception):
            raise self.doc
        return self.doc


def _accepted(pay: str | None = None, href: str = "https://qpay.example/pay/1") -> dict[str, Any]:
    return {"id": pay or cko_id("pay_"), "status": "Pending", "_links": {"redirect": {"href": href}}}


def _req(**overrides: Any) -> CreatePayment:
    body: dict[str, Any] = {
        "reference": "ORD-1001",
        "amount": 12500,
        "currency": "QAR",
        "description": "Order 1001",
        "language": "ar",
        "quantity": 2,
        "national_id": keys.NATIONAL_ID,
        "metadata": {"cart_id": "c-42"},
    }
    body.update(overrides)
    return parse_create({k: v for k, v in body.items() if v is not None})  # what the handler passes


def _ports(checkout: ScriptedCheckout, **s: Any) -> Ports:
    return Ports(store=deps.store(), checkout=checkout, settings=settings(**s), server_key=keys.SERVER_KEY)  # type: ignore[arg-type]


def _create(checkout: ScriptedCheckout, req: CreatePayment | None = None, *, key: str | None = "k1", **s: Any):
    return create_payment(
        req or _req(), caller=MERCHANT, idempotency_key=key, base_url=BASE, now=NOW, ports=_ports(checkout, **s)
    )


def test_checkout_receives_exactly_this_request(aws: Any) -> None:
    checkout = ScriptedCheckout()
    payment, created = _create(checkout, _req(customer={"email": "s@example.com"}))
    assert created
    [(body, key)] = checkout.calls
    assert key == payment.id == ids.payment_id_for_key(keys.SERVER_KEY, "merchant", "k1")
    back = f"payment_id={payment.id}"
    assert body == {
        "amount": 12500,
        "currency": "QAR",
        "reference": "ORD-1001",
        "source": {
            "type": "qpay",
            "description": "Order 1001",
            "language": "ar",
            "quantity": 2,
            "national_id": keys.NATIONAL_ID,
        },
        "success_url": f"{BASE}/payments/return/success?{back}",
        "failure_url": f"{BASE}/payments/return/failure?{back}",
        "metadata": {"cart_id": "c-42", "qpay_payment_id": payment.id},
        "processing_channel_id": keys.PROCESSING_CHANNEL_ID,
        "customer": {"email": "s@example.com"},
    }


def test_without_a_channel_or_customer_those_fields_are_absent(aws: Any) -> None:
    checkout = ScriptedCheckout()
    _create(checkout, _req(customer={}), processing_channel_id=None)
    [(body, _)] = checkout.calls
    assert "processing_channel_id" not in body and "customer" not in body


def test_the_stored_payment_is_pending_bound_and_timed(aws: Any) -> None:
    pay = cko_id("pay_")
    checkout = ScriptedCheckout(answers=[_accepted(pay, "https://qpay.example/pay/9")])
    payment, _ = _create(checkout, expiry_window_s=900, create_lease_s=45)
    stored = deps.store().get_payment(payment.id)
    assert stored == payment
    assert (stored.stage, stored.cko_id, stored.redirect_url) == (Stage.PENDING, pay, "https://qpay.example/pay/9")
    assert (stored.reference, stored.amount, stored.currency) == ("ORD-1001", 12500, "QAR")
    assert (stored.description, stored.language, stored.quantity) == ("Order 1001", "ar", 2)
    assert (stored.created_at, stored.updated_at, stored.deadline) == (NOW, NOW, NOW + 900)
    assert stored.request_hash == fingerprint(_req(), keys.SERVER_KEY)
    assert stored.metadata == {"cart_id": "c-42"}
    item = aws.item(f"PAYMENT#{payment.id}", "PAYMENT")
    assert "national_id" not in json.dumps(item) and keys.NATIONAL_ID not in json.dumps(item)
    assert aws.item(f"PAYMENT#{payment.id}", "TIMER")["expires_at_epoch"] == NOW + 900


def test_the_create_lease_and_customer_retention_come_from_settings(aws: Any) -> None:
    store = deps.store()
    real_abort = store.abort_create
    store.abort_create = lambda payment: False  # type: ignore[method-assign]  # the intent stays
    with pytest.raises(UpstreamUnavailable):
        _create(ScriptedCheckout(answers=[CheckoutUnavailable(503, 3)]), create_lease_s=45)
    pid = ids.payment_id_for_key(keys.SERVER_KEY, "merchant", "k1")
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["lease_until"] == NOW + 45  # the create owns it that long
    store.abort_create = real_abort  # type: ignore[method-assign]
    checkout = ScriptedCheckout()
    req = _req(reference="ORD-2", customer={"name": "A"})
    payment, _ = _create(checkout, req, key="k2", customer_data_retention_days=3)
    customer = aws.item(f"PAYMENT#{payment.id}", "CUSTOMER")
    assert customer["expires_at_epoch"] == NOW + 3 * 86400


def test_a_replay_returns_the_first_payment_and_asks_checkout_nothing(aws: Any) -> None:
    checkout = ScriptedCheckout()
    first, _ = _create(checkout)
    again, created = _create(checkout)
    assert (again, created) == (first, False)
    assert len(checkout.calls) == 1


def test_the_same_key_with_another_body_is_a_conflict(aws: Any) -> None:
    _create(ScriptedCheckout())
    with pytest.raises(Conflict) as info:
        _create(ScriptedCheckout(), _req(amount=12600))
    assert info.value.message == "this Idempotency-Key was used with a different request"
    token = Caller(kind="order-token", scope="token:jti-0123456789abcdef")
    req = _req(reference="ORD-2")
    create_payment(req, caller=token, idempotency_key=None, base_url=BASE, now=NOW, ports=_ports(ScriptedCheckout()))
    with pytest.raises(Conflict) as info:
        create_payment(
            _req(reference="ORD-2", amount=1),
            caller=token,
            idempotency_key=None,
            base_url=BASE,
            now=NOW,
            ports=_ports(ScriptedCheckout()),
        )
    assert info.value.message == "this order token was used with a different request"


def test_a_second_live_payment_for_an_order_is_a_conflict_naming_the_reference(aws: Any) -> None:
    _create(ScriptedCheckout())
    with pytest.raises(Conflict) as info:
        _create(ScriptedCheckout(), key="k2")
    assert info.value.message == "order ORD-1001 already has a live payment"
    assert info.value.details == [{"field": "reference", "issue": "already has a live payment"}]


def test_payment_ids_per_caller() -> None:
    token = Caller(kind="order-token", scope="token:j")
    assert payment_id_for(token, "ignored", "srv") == ids.payment_id_for_key("srv", "token:j", "")
    assert payment_id_for(MERCHANT, "k", "srv") == ids.payment_id_for_key("srv", "merchant", "k")
    fresh = payment_id_for(MERCHANT, None, "srv")
    assert ids.is_payment_id(fresh) and fresh != payment_id_for(MERCHANT, None, "srv")
    assert payment_id_for(MERCHANT, "", "srv") != ids.payment_id_for_key("srv", "merchant", "")


def test_checkout_unavailable_is_a_503_and_removes_the_intent(aws: Any) -> None:
    with pytest.raises(UpstreamUnavailable) as info:
        _create(ScriptedCheckout(answers=[CheckoutUnavailable(503, 3)]))
    assert info.value.message == "Checkout.com is unavailable; retry with the same Idempotency-Key"
    assert [i for i in aws.items() if i["sk"]["S"] in ("PAYMENT", "TIMER")] == []
    _create(ScriptedCheckout())  # the order reference is free again


@pytest.mark.parametrize(
    ("error", "kind", "message", "fields"),
    [
        (
            CheckoutRejected(422, error_codes=["amount_invalid", "customer_email_invalid", "something_else"]),
            ValidationFailed,
            "Checkout.com refused the payment's details",
            [
                {"field": "amount", "issue": "amount_invalid"},
                {"field": "customer.email", "issue": "customer_email_invalid"},
            ],
        ),
        (
            CheckoutRejected(422, error_codes=["processing_channel_id_invalid"]),
            UpstreamRejected,
            "Checkout.com refused the payment",
            [{"field": "checkout", "issue": "processing_channel_id_invalid"}],
        ),
        (
            CheckoutRejected(401, error_codes=["amount_invalid"]),  # our key, not their field
            UpstreamRejected,
            "Checkout.com refused the payment",
            [{"field": "checkout", "issue": "amount_invalid"}],
        ),
        (CheckoutRejected(401), UpstreamRejected, "Checkout.com refused the payment", []),
    ],
)
def test_checkout_refusals_name_the_fields(
    aws: Any, error: CheckoutRejected, kind: type, message: str, fields: list[dict[str, str]]
) -> None:
    with pytest.raises(kind) as info:
        _create(ScriptedCheckout(answers=[error]))
    assert (info.value.message, info.value.details) == (message, fields)
    assert [i for i in aws.items() if i["sk"]["S"] == "PAYMENT"] == []


@pytest.mark.parametrize(
    "answer",
    [
        {"id": "nope", "_links": {"redirect": {"href": "https://qpay.example/p"}}},
        {"id": "pay_" + "a" * 26, "_links": {"redirect": {"href": "javascript:alert(1)"}}},
        {"id": "pay_" + "a" * 26, "_links": {}},
        {"id": "pay_" + "a" * 26},
    ],
)
def test_an_answer_without_a_qpay_link_is_refused_and_leaves_nothing(aws: Any, answer: dict[str, Any]) -> None:
    with pytest.raises(UpstreamRejected) as info:
        _create(ScriptedCheckout(answers=[answer]))
    assert info.value.message == "Checkout.com answered without a QPay redirect link"
    assert [i for i in aws.items() if i["sk"]["S"] == "PAYMENT"] == []


def test_plain_http_links_are_accepted(aws: Any) -> None:  # the local simulator serves http
    payment, _ = _create(ScriptedCheckout(answers=[_accepted(href="http://127.0.0.1:3001/pay/1")]))
    assert payment.redirect_url == "http://127.0.0.1:3001/pay/1"


def _half_created(checkout: ScriptedCheckout) -> Any:
    """Checkout accepted the create, its answer was lost, a webhook told us the pay_ id."""
    checkout.answers = [CheckoutUnavailable(None, 3)]
    store = deps.store()
    store.abort_create = lambda payment: False  # type: ignore[method-assign]  # the intent stays
    with pytest.raises(UpstreamUnavailable):
        _create(checkout)
    pid = ids.payment_id_for_key(keys.SERVER_KEY, "merchant", "k1")
    pay = cko_id("pay_")
    apply_event(
        store,
        pid,
        event_id="evt_p",
        event_type="payment_pending",
        cko_id=pay,
        amount=None,
        now=NOW,
        settings=settings(),
    )
    return pid, pay


@pytest.mark.parametrize("href", ["https://qpay.example/pay/again", "http://127.0.0.1:3001/pay/again"])
def test_a_replay_after_a_lost_answer_recovers_the_redirect_link(aws: Any, href: str) -> None:
    checkout = ScriptedCheckout()
    pid, pay = _half_created(checkout)
    checkout.doc = _accepted(pay, href)
    payment, created = _create(checkout)
    assert (payment.id, payment.cko_id, payment.redirect_url, created) == (pid, pay, href, False)
    assert checkout.gets == [pay]
    assert deps.store().get_payment(pid).redirect_url == href


@pytest.mark.parametrize("href", ["", "ftp://x", None])
def test_a_recovered_payment_without_a_link_is_a_conflict(aws: Any, href: str | None) -> None:
    checkout = ScriptedCheckout()
    _pid, pay = _half_created(checkout)
    checkout.doc = {"id": pay, "_links": {"redirect": {"href": href}}} if href is not None else {"id": pay}
    with pytest.raises(Conflict) as info:
        _create(checkout)
    assert info.value.message == "the payment exists at Checkout.com but has no QPay redirect link any more"


@pytest.mark.parametrize("error", [CheckoutUnavailable(503, 3), CheckoutRejected(404)])
def test_recovering_while_checkout_fails_is_a_503(aws: Any, error: Exception) -> None:
    checkout = ScriptedCheckout()
    _half_created(checkout)
    checkout.doc = error  # type: ignore[assignment]
    with pytest.raises(UpstreamUnavailable) as info:
        _create(checkout)
    assert info.value.message == "Checkout.com is unavailable; retry with the same Idempotency-Key"


def test_a_replay_of_a_create_still_in_flight_or_ended_says_which(aws: Any) -> None:
    store = deps.store()
    store.abort_create = lambda payment: False  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable):
        _create(ScriptedCheckout(answers=[CheckoutUnavailable(None, 3)]))
    with pytest.raises(Conflict) as info:
        _create(ScriptedCheckout())
    assert info.value.message == "a request with this Idempotency-Key is still in progress; retry shortly"
    pid = ids.payment_id_for_key(keys.SERVER_KEY, "merchant", "k1")
    apply_event(
        store, pid, event_id="x", event_type="intent_abandoned", cko_id=None, amount=None, now=NOW, settings=settings()
    )
    with pytest.raises(Conflict) as info:
        _create(ScriptedCheckout())
    assert info.value.message == "this payment ended before it reached Checkout.com; create a new one with a new key"


def test_a_failing_abort_still_answers_503(aws: Any) -> None:
    def boom(payment: Any) -> bool:
        raise RuntimeError("DynamoDB unreachable")

    deps.store().abort_create = boom  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailable):
        _create(ScriptedCheckout(answers=[CheckoutUnavailable(None, 3)]))


def test_a_second_checkout_payment_for_one_of_ours_keeps_the_first(aws: Any, capfd: Any) -> None:
    from qpay.adapters.store.errors import CheckoutIdTaken

    first, second = cko_id("pay_"), cko_id("pay_")
    store = deps.store()
    real = store.complete_create

    def bound_meanwhile(payment_id: str, **kw: Any) -> Any:
        # a webhook bound the first pay_ while Checkout answered our retry with a second one
        existing = real(payment_id, cko_id=first, redirect_url="https://qpay.example/first", now=NOW)
        raise CheckoutIdTaken(existing)

    store.complete_create = bound_meanwhile  # type: ignore[method-assign]
    payment, created = _create(ScriptedCheckout(answers=[_accepted(second)]))
    assert (payment.cko_id, payment.redirect_url, created) == (first, "https://qpay.example/first", True)
    [anomaly] = [i for i in aws.items() if i["sk"]["S"].startswith("ANOMALY#")]
    item = aws.item(anomaly["pk"]["S"], anomaly["sk"]["S"])
    assert (item["sk"], item["anomaly"]) == (f"ANOMALY#create:{second}", "second_checkout_payment")
    assert item["detail"] == {"cko_id": second, "bound_cko_id": first, "stage": "Pending"}
    assert '"WebhookAnomalies":[1.0]' in capfd.readouterr().out


def test_the_idempotency_fingerprint_is_pinned() -> None:
    # a retry after a deploy must compute the same hash: canonical JSON (sorted keys, no spaces), keyed
    req = _req(metadata={"b": 1, "a": "x"}, customer={"name": "Test Shopper", "email": "shopper@example.com"})
    canonical = json.dumps(
        {
            "amount": 12500, "currency": "QAR", "customer": {"email": "shopper@example.com", "name": "Test Shopper"},
            "description": "Order 1001", "language": "ar", "metadata": {"a": "x", "b": 1},
            "national_id": keys.NATIONAL_ID, "quantity": 2, "reference": "ORD-1001",
        },
        separators=(",", ":"),
    )  # fmt: skip
    assert canonical.startswith('{"amount":12500,"currency":"QAR","customer":{"email"')
    assert fingerprint(req, "k") == hmac.new(b"k", canonical.encode(), hashlib.sha256).hexdigest()

"""POST /payments against moto's DynamoDB and the Checkout.com simulator over HTTP."""

from __future__ import annotations

import pytest

from qpay.api.auth import mint_order_token
from tests.conftest import TABLE, body_of, create_body, invoke_create
from tests.support import keys


def payment_items(aws):
    return [i for i in aws.items() if i["sk"]["S"] == "PAYMENT"]


def test_creates_a_pending_payment_with_the_qpay_redirect(aws, sim) -> None:
    response = invoke_create(create_body())
    assert response["statusCode"] == 201, response
    body = body_of(response)
    assert body["status"] == "Pending" and body["amount"] == 12500 and body["currency"] == "QAR"
    assert body["redirect_url"].startswith(sim.base_url)
    assert body["id"].startswith("qpp_") and body["expires_at"].endswith("Z")
    # Checkout got a QPay source, our server-built return URLs and our id in metadata
    [payment] = sim.payments.values()
    assert payment.amount == 12500
    stored = aws.item(f"PAYMENT#{body['id']}", "PAYMENT")
    assert stored["stage"] == "Pending" and stored["cko_id"] == payment.id
    assert aws.item(f"PAYMENT#{body['id']}", "TIMER")["expires_at_epoch"] == stored["deadline"]
    assert aws.item("REFERENCE#ORD-1001", "REFERENCE")["payment_id"] == body["id"]


def test_same_idempotency_key_same_body_replays_without_calling_checkout(aws, sim) -> None:
    first = invoke_create(create_body(), idem="key-1")
    calls = len(sim.requests)
    second = invoke_create(create_body(), idem="key-1")
    assert second["statusCode"] == 201 and body_of(second) == body_of(first)
    assert second["headers"].get("Idempotent-Replayed") == "true"
    assert len(sim.requests) == calls
    assert len(payment_items(aws)) == 1


def test_same_idempotency_key_different_body_is_409(aws, sim) -> None:
    invoke_create(create_body(), idem="key-2")
    response = invoke_create(create_body(amount=99), idem="key-2")
    assert response["statusCode"] == 409
    assert len(payment_items(aws)) == 1


def test_one_live_payment_per_reference(aws, sim) -> None:
    assert invoke_create(create_body())["statusCode"] == 201
    second = invoke_create(create_body())
    assert second["statusCode"] == 409
    assert body_of(second)["fields"][0]["field"] == "reference"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"language": "fr"}, "language"),
        ({"national_id": "bad id!"}, "national_id"),
        ({"reference": ""}, "reference"),
        ({"description": None}, "description"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_input_is_422_naming_the_field_and_nothing_changes(aws, sim, overrides, field) -> None:
    response = invoke_create(create_body(**overrides))
    assert response["statusCode"] == 422, response
    fields = [f["field"] for f in body_of(response)["fields"]]
    assert field in fields
    assert aws.items() == [] and sim.requests == []


def test_malformed_json_is_422(aws, sim) -> None:
    response = invoke_create(b"{not json")
    assert response["statusCode"] == 422 and body_of(response)["fields"][0]["field"] == "body"


def test_unauthenticated_is_401_and_changes_nothing(aws, sim) -> None:
    response = invoke_create(create_body(), auth=None)
    assert response["statusCode"] == 401
    response = invoke_create(create_body(), auth=None, headers={"authorization": "Bearer wrong"})
    assert response["statusCode"] == 401
    assert aws.items() == [] and sim.requests == []


def test_order_token_lets_the_browser_create_but_not_change_the_amount(aws, sim) -> None:
    import time

    token = mint_order_token(
        keys.ORDER_TOKEN_KEY,
        kid=keys.ORDER_TOKEN_KID,
        reference="ORD-1001",
        amount=12500,
        currency="QAR",
        expires_at=int(time.time()) + 600,
    )
    ok = invoke_create(create_body(), auth=None, headers={"x-order-token": token})
    assert ok["statusCode"] == 201
    tampered = invoke_create(create_body(reference="ORD-1001", amount=1), auth=None, headers={"x-order-token": token})
    assert tampered["statusCode"] == 403
    assert body_of(tampered)["fields"][0]["field"] == "amount"


def test_checkout_5xx_after_retries_is_503_and_leaves_nothing_that_blocks_a_retry(aws, sim) -> None:
    sim.faults.fail_next(10, status=503)
    response = invoke_create(create_body(), idem="key-3")
    assert response["statusCode"] == 503
    assert body_of(response)["code"] == "checkout_unavailable"
    assert aws.items() == []  # intent, reference guard and timer removed
    sim.faults.reset()
    retry = invoke_create(create_body(), idem="key-3")
    assert retry["statusCode"] == 201


def test_checkout_timeout_after_accepting_then_retry_makes_one_payment(aws, sim) -> None:
    sim.faults.fail_next(1, status="accept_then_timeout")
    sim.faults.fail_next(5, status=503)
    first = invoke_create(create_body(), idem="key-4")
    assert first["statusCode"] == 503
    sim.faults.reset()
    second = invoke_create(create_body(), idem="key-4")
    assert second["statusCode"] == 201
    assert len(sim.payments) == 1  # Checkout saw the same Cko-Idempotency-Key


def test_checkout_4xx_is_502_with_its_codes(aws, sim, monkeypatch) -> None:
    from qpay import deps

    monkeypatch.setenv("PROCESSING_CHANNEL_ID", "")
    monkeypatch.setenv("CHECKOUT_SINGLE_CHANNEL_KEY", "true")  # the operator says so: Checkout disagrees
    deps.reset()
    response = invoke_create(create_body())
    assert response["statusCode"] == 502
    assert "processing_channel_id_required" in [f["issue"] for f in body_of(response)["fields"]]
    assert aws.items() == []


def test_table_name_is_the_test_table(aws) -> None:
    assert aws.env["TABLE_NAME"] == TABLE


def test_create_that_died_after_checkout_accepted_is_recovered_by_the_retry(aws, sim) -> None:
    """Checkout accepted, our response was lost, and a webhook stored Checkout's id meanwhile:
    the retry with the same key finishes the payment instead of answering 409 forever."""
    from tests.conftest import invoke_webhook
    from tests.support.webhooks import notification

    sim.faults.fail_next(1, status="accept_then_timeout")
    sim.faults.fail_next(5, status=503)
    from qpay import deps

    deps.store()  # the intent survives if the abort finds Checkout's id already stored
    original_abort = deps.store().abort_create

    def webhook_first(payment):
        [cko] = sim.payments.values()
        invoke_webhook(notification("payment_pending", cko_payment_id=cko.id, payment_id=payment.id))
        return original_abort(payment)

    deps.store().abort_create = webhook_first
    assert invoke_create(create_body(), idem="key-recover")["statusCode"] == 503
    sim.faults.reset()
    retry = invoke_create(create_body(), idem="key-recover")
    assert retry["statusCode"] == 201
    assert body_of(retry)["redirect_url"].startswith(sim.base_url)
    assert len(sim.payments) == 1


def test_answers_match_the_documented_response_models(aws, sim) -> None:
    """Handlers answer plain dicts (no response-model building at cold start): each must still be
    exactly what the OpenAPI document's models describe."""
    from qpay.api.schemas import CreatePaymentResponse, PaymentView
    from tests.conftest import invoke_get

    created = body_of(invoke_create(create_body(customer={"email": "shopper@example.com"})))
    assert CreatePaymentResponse.model_validate(created).model_dump(mode="json") == created
    view = body_of(invoke_get(created["id"]))
    assert PaymentView.model_validate(view).model_dump(mode="json", exclude_none=True) == {
        k: v for k, v in view.items() if v is not None
    }

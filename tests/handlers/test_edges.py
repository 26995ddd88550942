"""The edges the reviews found (../shared/reviews/correctness.md, fidelity.md and the attack run), each
driven through the real handlers against moto and the simulator. Ids in the test names."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from qpay import deps
from qpay.domain import ids
from qpay.domain.records import Payment, Refund
from qpay.domain.refund_states import RefundState
from tests.conftest import (
    REGION,
    body_of,
    create_body,
    invoke_create,
    invoke_get,
    invoke_return,
    invoke_webhook,
)
from tests.support import keys
from tests.support.apigw import FakeContext, http_event
from tests.support.webhooks import cko_id, encode, notification, sign


def stored(aws: Any, pid: str) -> dict[str, Any]:
    item = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    assert item is not None
    return item


def metrics(out: str) -> list[str]:
    names = []
    for line in out.splitlines():
        if line.startswith('{"_aws"'):
            doc = json.loads(line)
            names += [m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return names


@pytest.fixture
def payment(aws: Any, sim: Any) -> tuple[str, str]:
    body = body_of(invoke_create(create_body()))
    [cko] = sim.payments.values()
    return body["id"], cko.id


@pytest.fixture
def captured(aws: Any, payment: tuple[str, str]) -> tuple[str, str]:
    pid, cko = payment
    assert (
        invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))["statusCode"]
        == 200
    )
    return pid, cko


def reserve(pid: str, amount: int, *, action_id: str | None = None) -> Refund:
    store = deps.store()
    now = int(time.time())
    refund = Refund(id=ids.new_refund_id(), payment_id=pid, amount=amount, created_at=now, updated_at=now)
    store.reserve_refund(refund, now=now)
    if action_id:
        store.mark_refund_pending(pid, refund.id, action_id=action_id, now=now)
    return refund


# ------------------------------------------------------------------ Checkout.com as it really behaves
def test_r1_canceled_without_metadata_is_found_by_checkout_id(aws, payment) -> None:
    pid, cko = payment
    doc = notification("payment_canceled", cko_payment_id=cko, payment_id=pid)
    assert "metadata" not in doc["data"]  # Checkout's published shape
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    assert stored(aws, pid)["stage"] == "Canceled"


def test_r1_refund_pending_without_reference_matches_by_action_id(aws, captured) -> None:
    pid, cko = captured
    refund = reserve(pid, 2500)
    deps.store().mark_refund_pending(pid, refund.id, action_id="act_" + "k" * 26, now=int(time.time()))
    doc = notification("payment_refund_pending", cko_payment_id=cko, payment_id=pid, action_id="act_" + "k" * 26)
    assert "reference" not in doc["data"] and "metadata" not in doc["data"]
    assert body_of(invoke_webhook(doc))["result"] == "recorded"
    other = notification("payment_refund_pending", cko_payment_id=cko, payment_id=pid)  # a Dashboard refund
    assert body_of(invoke_webhook(other))["result"] == "ignored"


def test_r1_notification_for_no_payment_of_ours_is_acknowledged(aws, sim) -> None:
    doc = notification("payment_canceled", cko_payment_id=cko_id("pay_"), payment_id=None)
    assert body_of(invoke_webhook(doc))["result"] == "unknown_payment"


@pytest.mark.parametrize(("letters", "status"), [(42, 201), (43, 422)])
def test_r2_arabic_description_up_to_255_characters_once_url_encoded(aws, sim, letters, status) -> None:
    answer = invoke_create(create_body(description="ب" * letters, language="ar"))  # 6 characters each encoded
    assert answer["statusCode"] == status, answer
    if status == 422:
        assert [f["field"] for f in body_of(answer)["fields"]] == ["description"]
        assert "URL-encoded" in body_of(answer)["fields"][0]["issue"]
        assert aws.items() == [] and sim.requests == []


def test_r4_event_for_another_checkout_payment_is_recorded_never_applied(aws, payment, capfd) -> None:
    pid, cko = payment
    orphan = cko_id("pay_")  # a second pay_ Checkout created on a retry after a 5xx, with our metadata
    doc = notification("payment_expired", cko_payment_id=orphan, payment_id=pid)
    assert body_of(invoke_webhook(doc))["result"] == "foreign"
    item = stored(aws, pid)
    assert (item["stage"], item["cko_id"]) == ("Pending", cko)
    anomaly = aws.item(f"PAYMENT#{pid}", f"ANOMALY#event:{doc['id']}")
    assert anomaly is not None and anomaly["anomaly"] == "foreign_checkout_payment"
    assert "WebhookAnomalies" in metrics(capfd.readouterr().out)
    assert body_of(invoke_webhook(doc))["result"] == "foreign"  # recorded once
    assert "WebhookAnomalies" not in metrics(capfd.readouterr().out)


# ------------------------------------------------------------------ refunds: whose is it, and does it add up
def test_h2_refund_webhook_carrying_the_payment_reference_is_matched_by_action_id(aws, captured) -> None:
    pid, cko = captured
    refund = reserve(pid, 4000, action_id="act_" + "h" * 26)
    doc = notification(
        "payment_refunded",
        cko_payment_id=cko,
        payment_id=pid,
        amount=4000,
        action_id="act_" + "h" * 26,
        reference="ORD-1001",  # the payment's reference, as Checkout's published example shows
    )
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    item = stored(aws, pid)
    assert (item["refunded_amount"], item["refundable_amount"]) == (4000, 8500)  # counted once
    assert deps.store().get_refund(pid, refund.id).state is RefundState.REFUNDED


def test_h2_outcome_counted_as_made_elsewhere_is_repaired_when_it_turns_out_ours(aws, sim, captured) -> None:
    """The webhook came before the 202 stored the action id and named the payment's reference: counted as
    a Dashboard refund. The workflow's reconciliation then finds the action by our reference: repaired."""
    from qpay.service import refunds as svc

    pid, cko = captured
    refund = reserve(pid, 4000)  # Requested: no action id yet
    action = "act_" + "r" * 26
    doc = notification(
        "payment_refunded", cko_payment_id=cko, payment_id=pid, amount=4000, action_id=action, reference="ORD-1001"
    )
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    assert (stored(aws, pid)["refunded_amount"], stored(aws, pid)["refundable_amount"]) == (4000, 4500)  # skewed
    deps.store().mark_refund_pending(pid, refund.id, action_id=action, now=int(time.time()))
    outcome = svc.record_refund_outcome(
        deps.store(),
        pid,
        action_id=action,
        amount=4000,
        currency=None,
        approved=True,
        reference=refund.id,
        event_id=None,
        now=int(time.time()),
        retain_until=int(time.time()) + 86400,
    )
    assert outcome.result.value == "duplicate"
    item = stored(aws, pid)
    assert (item["refunded_amount"], item["refundable_amount"]) == (4000, 8500)  # repaired
    assert deps.store().get_refund(pid, refund.id).state is RefundState.REFUNDED
    assert deps.store().get_action(pid, action)["reserved"] is True


def test_b3_l1_unknown_refund_reference_is_never_written_as_a_refund(aws, captured) -> None:
    pid, cko = captured
    stranger = "qrf_" + "z" * 26  # looks like ours, names no refund of this payment
    doc = notification("payment_refunded", cko_payment_id=cko, payment_id=pid, amount=1000, reference=stranger)
    assert body_of(invoke_webhook(doc))["result"] == "applied"  # counted as made elsewhere, money adds up
    assert aws.item(f"PAYMENT#{pid}", f"REFUND#{stranger}") is None
    view = invoke_get(pid)
    assert view["statusCode"] == 200 and body_of(view)["refunded_amount"] == 1000
    assert invoke_webhook(doc)["statusCode"] == 200  # the retry too


@pytest.mark.parametrize(
    ("amount", "currency", "problem"),
    [
        (50000, "QAR", "more than the refundable balance"),
        (1000, "USD", "currency USD is not the payment's QAR"),
        (2**80, "QAR", "amount is not a positive whole number of minor units"),
    ],
)
def test_w1_money_that_does_not_add_up_is_parked_and_alarmed(aws, captured, capfd, amount, currency, problem) -> None:
    pid, cko = captured
    before = stored(aws, pid)
    doc = notification("payment_refunded", cko_payment_id=cko, payment_id=pid, amount=amount, reference="DASH-1")
    doc["data"]["currency"] = currency
    raw = encode(doc)
    answer = invoke_webhook(raw)
    assert answer["statusCode"] == 200 and body_of(answer)["result"] == "parked"
    after = stored(aws, pid)
    assert (after["refunded_amount"], after["refundable_amount"]) == (
        before["refunded_amount"],
        before["refundable_amount"],
    )
    anomaly = aws.item(f"PAYMENT#{pid}", f"ANOMALY#action:{doc['data']['action_id']}")
    assert anomaly is not None and problem in anomaly["detail"]["problem"]
    assert "WebhookAnomalies" in metrics(capfd.readouterr().out)


def test_w1_a_huge_amount_on_a_pending_payment_is_parked(aws, payment) -> None:
    pid, cko = payment
    doc = notification("payment_refunded", cko_payment_id=cko, payment_id=pid, amount=2**80, reference="DASH-1")
    assert body_of(invoke_webhook(doc))["result"] == "parked"
    assert stored(aws, pid)["refunded_amount"] == 0


def test_l3_capture_without_an_amount_captures_the_payment_amount(aws, payment) -> None:
    pid, cko = payment
    doc = notification("payment_captured", cko_payment_id=cko, payment_id=pid)
    del doc["data"]["amount"]
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    item = stored(aws, pid)
    assert (item["captured_amount"], item["refundable_amount"]) == (12500, 12500)


def test_l3_a_declined_refund_releases_what_we_reserved(aws, captured) -> None:
    pid, cko = captured
    refund = reserve(pid, 3000, action_id="act_" + "d" * 26)
    doc = notification(
        "payment_refund_declined", cko_payment_id=cko, payment_id=pid, amount=2999, action_id="act_" + "d" * 26
    )
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    assert stored(aws, pid)["refundable_amount"] == 12500
    assert deps.store().get_refund(pid, refund.id).state is RefundState.DECLINED


def test_m3_capture_after_the_payment_ended_is_flagged(aws, payment, capfd) -> None:
    pid, cko = payment
    invoke_webhook(notification("payment_expired", cko_payment_id=cko, payment_id=pid))
    assert stored(aws, pid)["stage"] == "Expired"
    late = notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500)
    assert body_of(invoke_webhook(late))["result"] == "applied"
    item = stored(aws, pid)
    assert item["stage"] == "Captured" and item["attention"] is True
    assert "captured after it had ended" in item["attention_reason"]
    assert "PaymentsCapturedAfterEnd" in metrics(capfd.readouterr().out)
    merchant_view = body_of(invoke_get(pid))
    assert merchant_view["attention"] is True


def test_l2_a_capture_of_another_amount_stands_but_is_parked_and_flagged(aws, payment, capfd) -> None:
    pid, cko = payment
    doc = notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12000)  # ordered 12500
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    item = stored(aws, pid)
    assert (item["stage"], item["captured_amount"], item["refundable_amount"]) == ("Captured", 12000, 12000)
    assert item["attention"] is True and item["attention_reason"] == "captured 12000, ordered 12500"
    anomaly = aws.item(f"PAYMENT#{pid}", "ANOMALY#capture:amount")
    assert anomaly is not None and anomaly["anomaly"] == "capture_amount_mismatch"
    assert anomaly["detail"] == {"captured_amount": 12000, "amount": 12500}
    assert "WebhookAnomalies" in metrics(capfd.readouterr().out)


def test_l2_a_capture_of_the_ordered_amount_flags_nothing(aws, payment, capfd) -> None:
    pid, cko = payment
    doc = notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500)
    assert body_of(invoke_webhook(doc))["result"] == "applied"
    item = stored(aws, pid)
    assert item["captured_amount"] == 12500 and item.get("attention") is not True
    assert aws.item(f"PAYMENT#{pid}", "ANOMALY#capture:amount") is None
    assert "WebhookAnomalies" not in metrics(capfd.readouterr().out)


# ------------------------------------------------------------------ inputs an attacker picks
def test_b1_m5_non_ascii_signature_is_401_and_counted(aws, payment, capfd) -> None:
    pid, cko = payment
    raw = encode(notification("payment_captured", cko_payment_id=cko, payment_id=pid))
    answer = invoke_webhook(raw, signature="é" * 64)
    assert answer["statusCode"] == 401
    assert "WebhookSignatureRejected" in metrics(capfd.readouterr().out)


@pytest.mark.parametrize("route", ["create", "webhook"])
def test_b2_w3_deep_nesting_is_refused_before_parsing(aws, sim, route) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    if route == "create":
        answer = invoke_create(deep, auth=None)  # before authentication
        assert answer["statusCode"] == 400 and body_of(answer)["code"] == "malformed_body"
    else:
        answer = invoke_webhook(deep, signature=sign(deep))  # even when correctly signed
        assert answer["statusCode"] == 422 and "deep" in body_of(answer)["message"]
    assert aws.items() == []


def test_b2_bodies_are_bounded(aws, sim) -> None:
    big = json.dumps(create_body(description="x" * 20_000)).encode()
    assert invoke_create(big)["statusCode"] == 413
    huge = b'{"id":"' + b"x" * 300_000 + b'"}'
    assert invoke_webhook(huge, signature=sign(huge))["statusCode"] == 413


def test_w5_m6_reading_a_payment_needs_the_merchant_key_or_its_client_secret(aws, sim) -> None:
    created = body_of(invoke_create(create_body(), idem="order-1001"))
    pid, secret = created["id"], created["client_secret"]
    assert pid != ids.payment_id_for_key("", "merchant", "order-1001")  # not derivable without the server key
    assert invoke_get(pid, auth=None)["statusCode"] == 401
    assert invoke_get(pid, auth=None, headers={"x-client-secret": secret + "x"})["statusCode"] == 404
    other = body_of(invoke_create(create_body(reference="ORD-1002")))
    assert invoke_get(pid, auth=None, headers={"x-client-secret": other["client_secret"]})["statusCode"] == 404
    browser = invoke_get(pid, auth=None, headers={"x-client-secret": secret})
    assert browser["statusCode"] == 200 and "cko_payment_id" not in body_of(browser)
    assert body_of(invoke_get(pid))["cko_payment_id"].startswith("pay_")  # the merchant sees Checkout's id


def test_l5_rotating_the_merchant_key_keeps_idempotent_replays(aws, sim, monkeypatch) -> None:
    first = invoke_create(create_body(), idem="rotate-1")
    assert first["statusCode"] == 201
    new_key = "mk_test_qpay_merchant_key_0002_synthetic"
    secret = boto3.client("secretsmanager", region_name=REGION)
    doc = json.loads(secret.get_secret_value(SecretId=aws.env["SECRET_ID"])["SecretString"])
    doc["merchant_api_keys"] = [new_key, keys.MERCHANT_API_KEY]
    secret.put_secret_value(SecretId=aws.env["SECRET_ID"], SecretString=json.dumps(doc))
    deps.reset()
    again = invoke_create(create_body(), idem="rotate-1", auth=None, headers={"authorization": f"Bearer {new_key}"})
    assert again["statusCode"] == 201 and again["headers"].get("Idempotent-Replayed") == "true"
    assert body_of(again)["id"] == body_of(first)["id"]
    assert len(sim.payments) == 1


def test_m1_refunds_need_an_idempotency_key(aws, captured) -> None:
    from qpay.handlers import refund_request

    pid, _ = captured
    event = http_event(
        "POST",
        f"/payments/{pid}/refunds",
        route="POST /payments/{id}/refunds",
        path_params={"id": pid},
        body={"amount": 100},
        iam_user_arn="arn:aws:iam::123456789012:user/backoffice",
    )
    answer = refund_request.handler(event, FakeContext())
    assert answer["statusCode"] == 422
    assert body_of(answer)["fields"] == [{"field": "Idempotency-Key", "issue": "required"}]
    assert stored(aws, pid)["refundable_amount"] == 12500


# ------------------------------------------------------------------ Checkout answers oddly
@pytest.fixture
def html_2xx(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A proxy in front of Checkout answers 200 with an HTML page."""

    class Handler(BaseHTTPRequestHandler):
        def _html(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>maintenance</html>")

        do_GET = do_POST = _html

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CHECKOUT_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    deps.reset()
    yield
    server.shutdown()


def test_l9_h1_a_non_json_2xx_is_unavailable_and_leaves_nothing(aws, html_2xx) -> None:
    answer = invoke_create(create_body(), idem="html-1")
    assert answer["statusCode"] == 503 and body_of(answer)["code"] == "checkout_unavailable"
    assert aws.items() == []  # nothing blocks the order's next attempt


def test_l6_checkout_validation_codes_name_our_fields() -> None:
    from qpay.adapters.checkout import CheckoutRejected
    from qpay.domain.errors import UpstreamRejected, ValidationFailed
    from qpay.service.payments import _refusal

    mapped = _refusal(CheckoutRejected(422, "request_invalid", ["description_invalid", "x_unknown"]))
    assert isinstance(mapped, ValidationFailed)
    assert mapped.details == [{"field": "description", "issue": "description_invalid"}]
    ours = _refusal(CheckoutRejected(422, "request_invalid", ["processing_channel_id_required"]))
    assert isinstance(ours, UpstreamRejected) and ours.status == 502  # our configuration, not the caller's
    assert isinstance(_refusal(CheckoutRejected(401)), UpstreamRejected)


# ------------------------------------------------------------------ the shopper's return
def test_m4_a_failed_return_still_lands_on_the_result_page_with_the_payment(aws, payment, monkeypatch) -> None:
    pid, _ = payment
    store = deps.store()

    def broken(payment_id: str) -> Payment:
        raise RuntimeError("DynamoDB is having a bad day")

    monkeypatch.setattr(store, "get_payment", broken)
    answer = invoke_return("success", {"payment_id": pid})
    location = answer["headers"]["Location"]
    assert answer["statusCode"] == 303
    assert location.startswith("https://shop.example.qa/orders/thanks?") and f"payment_id={pid}" in location
    assert "check=1" in location


def test_m4_no_second_lookup_without_the_time_for_it(aws, sim, payment) -> None:
    from qpay.handlers import payment_return

    pid, cko = payment
    sim.webhooks.pause()
    redirect = sim.pay(cko, card="4215375500883243", expiry="12/30", pin="123456")
    session = redirect.split("cko-session-id=")[1].split("&")[0]
    sim.clock.advance(16 * 60)  # the session id lapsed
    before = len([r for r in sim.requests if not r.path.startswith("/_sim")])
    event = http_event(
        "GET", "/payments/return/success", query={"payment_id": pid, "cko-session-id": session}, body=None
    )
    answer = payment_return.handler(event, FakeContext(timeout_s=5))  # less than a second lookup needs
    assert answer["statusCode"] == 303
    assert len([r for r in sim.requests if not r.path.startswith("/_sim")]) - before == 1


# ------------------------------------------------------------------ fail closed
def test_secrets_placeholders_fail_closed(aws, sim, capfd) -> None:
    secret = boto3.client("secretsmanager", region_name=REGION)
    doc = {
        "checkout_secret_key": "set-me",
        "webhook_signing_keys": ["set-me"],
        "merchant_api_keys": ["set-me"],
        "order_token_keys": {"k1": "set-me"},
        "server_key": "0123456789abcdef0123456789abcdef0123",
    }
    secret.put_secret_value(SecretId=aws.env["SECRET_ID"], SecretString=json.dumps(doc))
    deps.reset()
    create = invoke_create(create_body(), auth=None, headers={"authorization": "Bearer set-me"})
    assert create["statusCode"] == 503 and body_of(create)["code"] == "service_misconfigured"
    raw = encode(notification("payment_captured", cko_payment_id=cko_id("pay_"), payment_id=ids.new_payment_id()))
    forged = invoke_webhook(raw, signature=sign(raw, "set-me"))
    assert forged["statusCode"] == 503
    assert "set-me" not in json.dumps(body_of(forged))
    out = capfd.readouterr().out
    assert metrics(out).count("SecretsInvalid") == 2
    assert "checkout_secret_key: set your Checkout.com secret key" in out
    assert "webhook_signing_keys: still holds the set-me placeholder" in out
    assert aws.items() == [] and sim.requests == []


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"STAGE": "prod", "STOREFRONT_SUCCESS_URL": "http://localhost:3000/shop/result"}, "STOREFRONT_SUCCESS_URL"),
        ({"STAGE": "prod", "CHECKOUT_BASE_URL": "http://127.0.0.1:3001"}, "CHECKOUT_BASE_URL"),
        ({"PROCESSING_CHANNEL_ID": ""}, "PROCESSING_CHANNEL_ID: required"),
        ({"PROCESSING_CHANNEL_ID": "pc_tooshort"}, "PROCESSING_CHANNEL_ID: must look like"),
        ({"STAGE": "staging"}, "STAGE"),
        ({"CHECKOUT_TIMEOUT_S": "0"}, "CHECKOUT_TIMEOUT_S: must be more than 0"),
    ],
)
def test_settings_refuse_to_start_on_local_defaults_in_prod(aws, monkeypatch, capfd, env, problem) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    deps.reset()
    answer = invoke_create(create_body())
    assert answer["statusCode"] == 500
    out = capfd.readouterr().out
    assert "configuration refused at cold start" in out and problem in out
    assert "SettingsInvalid" in metrics(out)
    assert aws.items() == []

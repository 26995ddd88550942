"""Customer name and email live in a separate CUSTOMER item with the TTL attribute (removed after the
configured days), which no stream consumer acts on; the webhook emits a metric only when it rejects a
signature; refunds record who asked and why; logs carry the payment id."""

from __future__ import annotations

import json
import time

from qpay import deps
from qpay.adapters.store import TTL_ATTRIBUTE
from qpay_local.filters import matches_any, parse_filters
from qpay_local.template import Template
from tests.conftest import body_of, create_body, invoke_create, invoke_get, invoke_webhook
from tests.ops.conftest import captured
from tests.support.apigw import FakeContext
from tests.support.make_events import all_events
from tests.support.template import TEMPLATE
from tests.support.webhooks import notification

CUSTOMER = {"name": "Test Shopper", "email": "shopper@example.com"}


def test_customer_data_is_a_separate_item_that_ttl_removes(aws, sim, monkeypatch) -> None:
    monkeypatch.setenv("CUSTOMER_DATA_RETENTION_DAYS", "7")
    deps.reset()
    before = int(time.time())
    pid = body_of(invoke_create(create_body(customer=CUSTOMER)))["id"]
    payment = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    assert "customer" not in payment and "Test Shopper" not in json.dumps(payment)
    customer = aws.item(f"PAYMENT#{pid}", "CUSTOMER")
    assert {k: customer[k] for k in ("name", "email")} == CUSTOMER
    assert before + 7 * 86400 <= customer[TTL_ATTRIBUTE] <= int(time.time()) + 7 * 86400
    # Checkout.com got the customer (the one other place it goes)
    [cko] = sim.payments.values()
    assert cko.customer and cko.customer.get("email") == CUSTOMER["email"]
    assert "Test Shopper" not in json.dumps(body_of(invoke_get(pid)))


def test_no_customer_item_without_customer_data(aws, sim) -> None:
    pid = body_of(invoke_create(create_body()))["id"]
    assert aws.item(f"PAYMENT#{pid}", "CUSTOMER") is None


def test_abort_removes_the_customer_item_too(aws, sim) -> None:
    sim.faults.fail_next(5, status=503, path_prefix="/payments")
    assert invoke_create(create_body(customer=CUSTOMER))["statusCode"] == 503
    assert [i for i in aws.items() if i["sk"]["S"] == "CUSTOMER"] == []


def _record(name: str, sk: str) -> dict:
    return {"eventName": name, "dynamodb": {"Keys": {"pk": {"S": "PAYMENT#x"}, "sk": {"S": sk}}}}


def test_no_stream_consumer_acts_on_the_customer_item_or_its_ttl_removal() -> None:
    sources = {s.function: parse_filters(s.properties["FilterCriteria"]) for s in Template(TEMPLATE).stream_sources()}
    assert set(sources) == {"ExpiryFunction", "OutboxFunction"}
    for name in ("INSERT", "MODIFY", "REMOVE"):
        for filters in sources.values():
            assert not matches_any(_record(name, "CUSTOMER"), filters)
    outbox = sources["OutboxFunction"]
    assert matches_any(_record("MODIFY", "PAYMENT"), outbox)
    assert matches_any(_record("MODIFY", "REFUND#qrf_x"), outbox)
    for sk in ("TIMER", "EVENT#evt_1", "ACTION#act_1", "REFERENCE", "REPORT"):
        assert not matches_any(_record("MODIFY", sk), outbox)
    assert not matches_any(_record("INSERT", "PAYMENT"), outbox)
    assert not matches_any(_record("REMOVE", "PAYMENT"), outbox)


def test_signature_rejection_emits_a_metric_and_only_then(aws, sim, capfd) -> None:
    bad = all_events()["WebhookFunction/bad-signature.json"]
    from qpay.handlers import webhook

    assert webhook.handler(bad, FakeContext())["statusCode"] == 401
    out = capfd.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert [m["WebhookSignatureRejected"] for m in emf] == [[1.0]]
    assert emf[0]["service"] == "qpay"
    pid = body_of(invoke_create(create_body()))["id"]
    [cko] = sim.payments.values()
    invoke_webhook(notification("payment_captured", cko_payment_id=cko.id, payment_id=pid, amount=12500))
    assert "WebhookSignatureRejected" not in capfd.readouterr().out


def test_refund_records_who_asked_and_why_and_logs_carry_the_payment_id(aws, sim, capfd, monkeypatch) -> None:
    import boto3

    from qpay.handlers import refund_request
    from tests.conftest import REGION

    boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="qpay-test-refunds",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    pid, _ = captured(sim, "ORD-AUDIT")
    event = json.loads(json.dumps(all_events()["RefundRequestFunction/partial.json"]))
    event["pathParameters"]["id"] = pid
    event["rawPath"] = f"/payments/{pid}/refunds"
    response = refund_request.handler(event, FakeContext())
    assert response["statusCode"] == 202, response
    refund = deps.store().get_refund(pid, json.loads(response["body"])["id"])
    assert refund.requested_by == "arn:aws:iam::123456789012:user/merchant-backoffice"
    assert refund.reason == "one item returned"
    # not shown to the storefront (GET /payments/{id} is not IAM-protected)
    view = json.dumps(body_of(invoke_get(pid)))
    assert "merchant-backoffice" not in view and "one item returned" not in view
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    logged = [doc for doc in lines if doc.get("message") == "refund requested"]
    assert logged and logged[0]["requested_by"].endswith("merchant-backoffice")
    assert logged[0]["payment_id"] == pid

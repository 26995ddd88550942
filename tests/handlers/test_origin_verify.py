"""Origin verify (issue 20, D4): behind the edge the public routes answer only requests carrying CloudFront's
``x-origin-verify`` value (current or previous); anything else is a bare 403 that stores nothing and
names no secret. Without ORIGIN_VERIFY_SECRET_ID (no edge, the local stack) nothing is required."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from qpay import deps
from tests.conftest import REGION, World, body_of, create_body, invoke_create, invoke_get, invoke_webhook
from tests.support import keys
from tests.support.apigw import FakeContext, http_event
from tests.support.webhooks import encode, notification, sign

ORIGIN_SECRET = "qpay-test-origin-verify"
CURRENT = "c" * 20 + "urrent-origin-verify-value-0001"
PREVIOUS = "p" * 20 + "revious-origin-verify-value-002"
NEW = "n" * 20 + "ew-origin-verify-value-000000003"


@pytest.fixture
def edge(aws: World, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The stack behind the edge: its own origin-verify secret, named in the functions' environment."""
    client = boto3.client("secretsmanager", region_name=REGION)
    client.create_secret(Name=ORIGIN_SECRET, SecretString=json.dumps({"current": CURRENT, "previous": PREVIOUS}))
    monkeypatch.setenv("ORIGIN_VERIFY_SECRET_ID", ORIGIN_SECRET)
    deps.reset()
    return client


def _forbidden(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 403, response
    body = body_of(response)
    assert body["code"] == "forbidden" and body["fields"] == []
    text = json.dumps(response)
    for value in (CURRENT, PREVIOUS, NEW, "x-origin-verify", ORIGIN_SECRET):
        assert value not in text  # nothing tells a caller what is missing or where it lives


def _create(origin: str | None, reference: str = "ORD-EDGE-1") -> dict[str, Any]:
    headers = {} if origin is None else {"x-origin-verify": origin}
    return invoke_create(create_body(reference=reference), idem=reference, headers=headers)


def _return(origin: str | None, payment_id: str = "pay_x") -> dict[str, Any]:
    from qpay.handlers import payment_return

    headers = {} if origin is None else {"x-origin-verify": origin}
    event = http_event("GET", "/payments/return/success", query={"payment_id": payment_id}, body=None, headers=headers)
    return dict(payment_return.handler(event, FakeContext()))


def _webhook(raw: bytes, origin: str | None) -> dict[str, Any]:
    from qpay.handlers import webhook

    headers = {"content-type": "application/json", "cko-signature": sign(raw)}
    if origin is not None:
        headers["x-origin-verify"] = origin
    return dict(webhook.handler(http_event("POST", "/webhooks/checkout", raw_body=raw, headers=headers), FakeContext()))


def test_missing_or_wrong_header_is_403_and_stores_nothing(aws: World, edge: Any, sim: Any) -> None:
    wrong = [None, "", "wrong", CURRENT[:-1], CURRENT + "x", CURRENT.upper(), f"{CURRENT},{PREVIOUS}"]
    for origin in wrong:
        _forbidden(_create(origin))
        _forbidden(invoke_get("pay_" + "a" * 26, headers={} if origin is None else {"x-origin-verify": origin}))
        _forbidden(_return(origin))
        raw = encode(notification("payment_captured", cko_payment_id="pay_x", payment_id="pay_y", amount=100))
        _forbidden(_webhook(raw, origin))
    assert aws.items() == []
    assert sim.payments == {}  # nothing reached Checkout.com either


def test_current_and_previous_values_pass(aws: World, edge: Any, sim: Any) -> None:
    first = _create(CURRENT, "ORD-EDGE-CUR")
    assert first["statusCode"] == 201, first
    second = _create(PREVIOUS, "ORD-EDGE-PREV")
    assert second["statusCode"] == 201, second
    pid = body_of(first)["id"]
    assert invoke_get(pid, headers={"x-origin-verify": PREVIOUS})["statusCode"] == 200
    back = _return(CURRENT, pid)
    assert back["statusCode"] == 303 and back["headers"]["Location"].startswith("https://shop.example.qa/")
    cko = next(p.id for p in sim.payments.values() if p.reference == "ORD-EDGE-CUR")
    raw = encode(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    assert _webhook(raw, CURRENT)["statusCode"] == 200
    stored = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    assert stored is not None and stored["stage"] == "Captured"


def test_the_refund_route_does_not_ask_for_it(aws: World, edge: Any, sim: Any) -> None:
    """Refunds are SigV4-signed for the origin domain and never pass CloudFront (docs/deploy.md)."""
    from qpay.handlers import refund_request

    pid = body_of(_create(CURRENT))["id"]
    event = http_event(
        "POST",
        f"/payments/{pid}/refunds",
        route="POST /payments/{id}/refunds",
        path_params={"id": pid},
        body={"amount": 100},
        iam_user_arn="arn:aws:iam::123456789012:user/backoffice",
    )
    answer = refund_request.handler(event, FakeContext())
    # past the edge check: refused for its own reason (no Idempotency-Key), not as a stranger
    assert answer["statusCode"] == 422 and body_of(answer)["fields"][0]["field"] == "Idempotency-Key"


def test_a_rotation_is_picked_up_without_dropping_traffic(
    aws: World, edge: Any, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secret moves to {new, previous=old} while this container still caches {old, older}: the new
    value (what CloudFront sends once the stack is updated, minutes later: here the minute between two
    rereads is configured away) passes on its first request, by one reread of the secret."""
    monkeypatch.setenv("ORIGIN_VERIFY_MIN_REFRESH_S", "0")
    deps.reset()
    assert _create(CURRENT, "ORD-ROT-1")["statusCode"] == 201
    edge.put_secret_value(SecretId=ORIGIN_SECRET, SecretString=json.dumps({"current": NEW, "previous": CURRENT}))
    assert _create(CURRENT, "ORD-ROT-2")["statusCode"] == 201  # CloudFront not yet changed over
    assert _create(NEW, "ORD-ROT-3")["statusCode"] == 201  # changed over: a miss, one reread, accepted
    assert _create(PREVIOUS, "ORD-ROT-4")["statusCode"] == 403  # two rotations old: refused


def _count_secret_reads() -> list[str]:
    """The SecretId of every GetSecretValue the functions' client sends from now on."""
    seen: list[str] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        seen.append(params["SecretId"])

    deps.secretsmanager().meta.events.register("provide-client-params.secrets-manager.GetSecretValue", note)
    return seen


def test_a_flood_of_wrong_values_rereads_the_secret_at_most_once_a_minute(aws: World, edge: Any) -> None:
    seen = _count_secret_reads()
    for _ in range(20):
        _forbidden(_create("guess"))
    assert deps.origin_check().enabled
    reads = [c for c in seen if c == ORIGIN_SECRET]
    assert len(reads) == 1  # the first read; the misses found the secret read less than a minute ago


def test_an_unusable_secret_refuses_everything_with_503(aws: World, edge: Any, sim: Any) -> None:
    edge.put_secret_value(SecretId=ORIGIN_SECRET, SecretString=json.dumps({"current": "short"}))
    deps.reset()
    _forbidden(_create(None))  # no header: refused without reading the secret at all
    for origin in ("short", CURRENT):  # closed, not open: nothing passes until the secret is fixed
        response = _create(origin)
        assert response["statusCode"] == 503, response
        assert "short" not in json.dumps(response)
    assert aws.items() == []


def test_without_the_edge_no_header_is_needed(aws: World, sim: Any) -> None:
    assert not deps.origin_check().enabled
    created = invoke_create(create_body(reference="ORD-NO-EDGE"), idem="ORD-NO-EDGE")
    assert created["statusCode"] == 201
    [cko] = sim.payments.values()
    pid = body_of(created)["id"]
    raw = encode(notification("payment_captured", cko_payment_id=cko.id, payment_id=pid, amount=12500))
    assert invoke_webhook(raw)["statusCode"] == 200
    assert invoke_get(pid)["statusCode"] == 200
    assert keys.MERCHANT_API_KEY not in json.dumps(created)

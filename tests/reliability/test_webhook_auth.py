"""Attacks on the webhook endpoint: forged, tampered or replayed notifications. Each is refused with
401 (nothing stored) or, for a replay of a genuine event, changes nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import body_of, create_body, invoke_create, invoke_webhook
from tests.e2e.conftest import Shop
from tests.reliability.conftest import snapshot
from tests.support.webhooks import encode, notification, sign


def _forgeries(doc: dict[str, Any], key: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    raw = encode(doc)
    good = sign(raw, key)
    tampered = raw.replace(b'"amount":12500', b'"amount":1')
    reserialised = json.dumps(doc, indent=2).encode()  # same document, other bytes
    return {
        "tampered body": (tampered, {"Cko-Signature": good}),
        "wrong key": (raw, {"Cko-Signature": sign(raw, "whsec_attacker_guess_0001")}),
        "missing signature": (raw, {}),
        "empty signature": (raw, {"Cko-Signature": ""}),
        "signature over re-serialised body": (reserialised, {"Cko-Signature": good}),
        "signature of the re-serialised body sent with the original": (raw, {"Cko-Signature": sign(reserialised, "x")}),
        "truncated signature": (raw, {"Cko-Signature": good[:32]}),
        "signature in another header": (raw, {"X-Cko-Signature": good}),
    }


def test_forged_webhooks_are_401_and_store_nothing(shop: Shop) -> None:
    """Tampered body / wrong key / missing, empty, truncated or misplaced signature / a signature over
    a re-serialised body, over HTTP on the local stack → 401 each, the table unchanged (no event
    record, no stage change); the genuine bytes afterwards are applied once."""
    payment = shop.create(amount=12500)
    shop.stack.drain()
    doc = notification("payment_captured", cko_payment_id=shop.cko_id(payment), payment_id=payment["id"], amount=12500)
    url = f"{shop.stack.api_url}/webhooks/checkout"
    before = snapshot(shop)
    for name, (raw, headers) in _forgeries(doc, shop.stack.keys.webhook_signing_key).items():
        r = shop.http.post(url, content=raw, headers={"Content-Type": "application/json", **headers})
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert snapshot(shop) == before, name
    raw = encode(doc)
    ok = shop.http.post(url, content=raw, headers={"Cko-Signature": sign(raw, shop.stack.keys.webhook_signing_key)})
    assert ok.status_code == 200
    assert ok.json()["result"] == "applied"
    assert shop.get(payment["id"])["status"] == "Captured"


def _age_out(aws: Any, now: int) -> None:
    """What DynamoDB TTL does: delete every item whose TTL attribute has passed."""
    from qpay.adapters.store import TTL_ATTRIBUTE

    for item in aws.items():
        ttl = item.get(TTL_ATTRIBUTE)
        if ttl is not None and int(ttl["N"]) < now:
            aws.ddb.delete_item(TableName="qpay-test-payments", Key={"pk": item["pk"], "sk": item["sk"]})


@pytest.mark.parametrize("later_days", [1, 120])
def test_replayed_old_events_change_nothing(aws, sim, monkeypatch, later_days) -> None:
    """A genuine, correctly signed capture and Dashboard refund notification are replayed byte for
    byte a day later and again months later (after the applied-event and action records aged out by
    TTL) → the payment's stage and money stay as they were: the refund is not counted twice."""
    from qpay import clock

    created = invoke_create(create_body())
    pid = body_of(created)["id"]
    [cko] = sim.payments.values()
    captured = encode(notification("payment_captured", cko_payment_id=cko.id, payment_id=pid, amount=12500))
    refunded = encode(
        notification("payment_refunded", cko_payment_id=cko.id, payment_id=pid, amount=2500, reference="DASHBOARD-7")
    )
    for raw in (captured, refunded):
        assert invoke_webhook(raw)["statusCode"] == 200
    item = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    state = (item["stage"], item["captured_amount"], item["refunded_amount"], item["refundable_amount"])
    assert state == ("Captured", 12500, 2500, 10000)

    later = int(time.time()) + later_days * 86400
    monkeypatch.setattr(clock, "now", lambda: later)
    _age_out(aws, later)
    for raw in (captured, refunded):
        answer = invoke_webhook(raw)
        assert answer["statusCode"] in (200, 401), answer
    item = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    assert (item["stage"], item["captured_amount"], item["refunded_amount"], item["refundable_amount"]) == state

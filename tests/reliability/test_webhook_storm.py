"""Attack: Checkout.com (or a replaying middlebox) delivers the same signed webhook 50 times at once.
Nothing may be done twice: one state change, one applied-event record. Runs on moto and DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import Shop
from tests.reliability.conftest import event_records, table_items
from tests.support.webhooks import cko_id, encode, notification, sign


def test_fifty_concurrent_deliveries_of_one_webhook_change_the_payment_once(any_shop: Shop) -> None:
    """50 concurrent POSTs of one signed ``payment_captured`` over HTTP → exactly one ``applied``, 49
    ``duplicate``; the payment moves to Captured once (version +1) and one applied-event record exists."""
    shop = any_shop
    payment = shop.create(amount=12500)
    shop.stack.drain()
    pid = payment["id"]
    before = shop.item(pid)
    event_id = cko_id("evt_")
    raw = encode(
        notification(
            "payment_captured",
            cko_payment_id=shop.cko_id(payment),
            payment_id=pid,
            amount=12500,
            reference=payment["reference"],
            event_id=event_id,
        )
    )
    headers = {"Content-Type": "application/json", "Cko-Signature": sign(raw, shop.stack.keys.webhook_signing_key)}
    url = f"{shop.stack.api_url}/webhooks/checkout"

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: shop.http.post(url, content=raw, headers=headers), range(50)))

    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200]
    results = sorted(a.json()["result"] for a in answers)
    assert results.count("applied") == 1, results
    assert results.count("duplicate") == 49, results
    after = shop.item(pid)
    assert after["stage"] == "Captured"
    assert after["version"] == before["version"] + 1
    assert after["captured_amount"] == 12500
    assert after["refundable_amount"] == 12500
    assert len(event_records(table_items(shop, pid), event_id)) == 1
    assert shop.get(pid)["status"] == "Captured"

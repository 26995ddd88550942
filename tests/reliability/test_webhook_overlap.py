"""F-22: Checkout delivers each webhook independently and at least once (its webhook receiver page,
fidelity review S7): the same event can come again while the first attempt is still being handled, and
different events of one payment can be in flight together and finish in any order. Here the simulator
itself delivers that way (several delivery threads, every event sent twice at the same instant, each
payment's and each refund's events released together) into the real webhook handler of the local
stack. Nothing may happen twice: one order event per transition, and the ledger equals Checkout's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from cko_sim import Simulator
from tests.e2e.conftest import SUCCESS_CARD, Shop
from tests.reliability.conftest import event_records, table_items

AMOUNT = 12500
PARTIAL = 2500


@pytest.fixture
def overlapping(shop: Shop) -> Iterator[Simulator]:
    sim = shop.stack.sim
    assert sim is not None
    sim.webhooks.set_workers(4)
    sim.config.webhook_overlap_probability = 1.0  # every event: two copies at the same instant
    try:
        yield sim
    finally:
        sim.config.webhook_overlap_probability = 0.0
        sim.webhooks.set_workers(1)


def _order_events(shop: Shop, payment_id: str) -> list[dict[str, Any]]:
    shop.stack.drain()
    tap = shop.stack.event_tap
    assert tap is not None
    return [e for e in tap.events() if e["detail"].get("payment_id") == payment_id]


def test_overlapping_and_concurrent_deliveries_change_nothing_twice(shop: Shop, overlapping: Simulator) -> None:
    sim = overlapping
    sim.webhooks.burst_next(3)  # payment_pending, payment_capture_pending, payment_captured: together
    payment = shop.create(amount=AMOUNT)
    pid, cko = payment["id"], shop.cko_id(payment)
    sim.pay(cko, **SUCCESS_CARD)  # the shopper never returns: the webhooks alone settle it
    shop.stack.drain()
    assert shop.item(pid)["stage"] == "Captured"

    for amount in (PARTIAL, None):  # a partial refund, then the rest
        sim.webhooks.burst_next(2)  # payment_refund_pending and its outcome: together
        assert shop.refund(pid, amount).status_code == 202
        shop.stack.drain()
        sim.webhooks.release_held()  # a burst still waiting for its second event (none expected)
        shop.stack.drain()

    # the simulator really overlapped: every event of this payment went out at least twice at once
    mine = [d for d in sim.webhooks.deliveries if d.payment_id == cko]
    first_attempts = Counter(d.event_id for d in mine if d.attempt == 1)
    emitted = [e for e in sim.webhooks.events if e.payment_id == cko]
    assert len(emitted) == 7, [e.type for e in emitted]
    assert set(first_attempts) == {e.id for e in emitted}
    assert all(n >= 2 for n in first_attempts.values()), first_attempts

    # one order event per transition, never two
    events = _order_events(shop, pid)
    types = Counter(e["detail-type"] for e in events)
    assert types["Payment Captured"] == 1
    assert types["Payment Capture Pending"] <= 1  # skipped when the capture was applied first
    assert types["Payment Partially Refunded"] == 1
    assert types["Payment Refunded"] == 1
    assert types["Refund Succeeded"] == 2
    assert set(types) <= {
        "Payment Capture Pending",
        "Payment Captured",
        "Payment Partially Refunded",
        "Payment Refunded",
        "Refund Succeeded",
    }, types
    ids = [e["detail"]["event_id"] for e in events]
    assert len(ids) == len(set(ids))

    # the ledger equals Checkout's, and each notification was recorded once
    item = shop.item(pid)
    at_checkout = sim.get_payment(cko)
    assert at_checkout.total_captured == item["captured_amount"] == AMOUNT
    assert at_checkout.total_refunded == item["refunded_amount"] == AMOUNT
    assert item["refundable_amount"] == 0
    assert len([a for a in at_checkout.actions if a.type == "Refund"]) == 2
    items = table_items(shop, pid)
    refunds = sorted((int(i["amount"]), i["state"]) for i in items if str(i["sk"]).startswith("REFUND#"))
    assert refunds == [(PARTIAL, "Refunded"), (AMOUNT - PARTIAL, "Refunded")]
    recorded = event_records(items)
    assert len(recorded) == len(set(recorded))
    assert shop.get(pid)["status"] == "Refunded"

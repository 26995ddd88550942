"""Template facts exercised through the running local stack: each flow drives the real product and
each check asserts what must hold. The checks are shared with the meta-tests of
tests/local/test_template_facts.py, which run them on a stack built from an edited copy of
template.yaml (or with the product's constant edited) and expect them to fail."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qpay.domain import ids
from qpay_local.stack import REPO_ROOT, LocalStack
from tests.e2e.conftest import Shop

#: The consumer of each fact (the template's logical ids).
EXPIRY = "ExpiryFunction"
OUTBOX = "OutboxFunction"


@contextlib.contextmanager
def local_shop(template: Path = REPO_ROOT / "template.yaml") -> Iterator[Shop]:
    with (
        LocalStack(
            template=template, api_port=0, sim_port=0, time_scale=0.001, ttl_interval_s=0, schedule_interval_s=None
        ) as stack,
        httpx.Client(timeout=30) as http,
    ):
        yield Shop(stack, http)


def edited_template(folder: Path, old: str, new: str) -> Path:
    """template.yaml with one edit, in ``folder`` next to links to what its paths name (functions/, infra/)."""
    text = (REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in template.yaml exactly once"
    for name in os.listdir(REPO_ROOT):
        if name not in ("template.yaml", ".git") and not (folder / name).exists():
            (folder / name).symlink_to(REPO_ROOT / name)
    path = folder / "template.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def delivered(shop: Shop, function: str) -> list[dict[str, Any]]:
    """Every stream record the local stack has handed to ``function`` so far."""
    consumer = next(c for c in shop.stack.consumers if c.config.function == function)
    return [r for batch in list(consumer.delivered) for r in batch]


def settle_streams(shop: Shop) -> None:
    for consumer in shop.stack.consumers:
        assert consumer.wait_idle(30)


def expire_by_ttl(shop: Shop, payment: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[str, bool]:
    """Checkout.com expires the payment but its webhook is held back; then two hours pass for the TTL
    sweeper: only the expiry function (the timer's TTL deletion on the stream) can end the payment.
    (the payment's status after, whether TTL deleted the payment's timer)"""
    stack, sim = shop.stack, shop.stack.sim
    assert sim is not None and stack.sweeper is not None
    timer_key = {"pk": {"S": f"PAYMENT#{payment['id']}"}, "sk": {"S": "TIMER"}}
    sim.webhooks.pause()
    try:
        sim.expire_payment(shop.cko_id(payment))
        had_timer = "Item" in stack.dynamodb.get_item(TableName=stack.table_name, Key=timer_key, ConsistentRead=True)
        with monkeypatch.context() as m:
            m.setattr(stack.sweeper, "clock", lambda: time.time() + 7200)
            stack.sweep_ttl()
        gone = "Item" not in stack.dynamodb.get_item(TableName=stack.table_name, Key=timer_key, ConsistentRead=True)
        settle_streams(shop)
        status = str(shop.get(payment["id"])["status"])
    finally:
        sim.webhooks.resume()
    stack.drain()
    return status, had_timer and gone


# ------------------------------------------------------------------------------------------ checks
def check_ttl_ends_a_payment(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TTL attribute the code writes is the one the table expires, and the filter passes the
    timer's removal to the expiry function, which ends the payment."""
    payment = shop.create()
    status, deleted = expire_by_ttl(shop, payment, monkeypatch)
    assert deleted, "TTL did not delete the payment's timer"
    assert status == "Expired", f"the payment is {status} after its timer's TTL"
    pk = f"PAYMENT#{payment['id']}"
    ttl_removals = [
        r
        for r in delivered(shop, EXPIRY)
        if r["dynamodb"]["Keys"]["pk"]["S"] == pk and r.get("userIdentity", {}).get("type") == "Service"
    ]
    assert len(ttl_removals) == 1, ttl_removals


def check_filters_drop_what_they_exclude(shop: Shop) -> None:
    """Records each function's FilterCriteria excludes never reach it; what it includes does."""
    ddb, table = shop.stack.dynamodb, shop.stack.table_name
    pk = {"S": f"PAYMENT#{ids.new_payment_id()}"}  # no such payment: the expiry function shrugs
    # excluded from the expiry function: a timer written and changed (INSERT, MODIFY), another item removed
    ddb.put_item(TableName=table, Item={"pk": pk, "sk": {"S": "TIMER"}, "attempt": {"N": "0"}})
    ddb.update_item(
        TableName=table, Key={"pk": pk, "sk": {"S": "TIMER"}}, UpdateExpression="SET attempt = :a",
        ExpressionAttributeValues={":a": {"N": "1"}},
    )  # fmt: skip
    ddb.put_item(TableName=table, Item={"pk": pk, "sk": {"S": "NOTE"}})
    ddb.delete_item(TableName=table, Key={"pk": pk, "sk": {"S": "NOTE"}})
    # included: the timer's removal
    ddb.delete_item(TableName=table, Key={"pk": pk, "sk": {"S": "TIMER"}})
    settle_streams(shop)
    to_expiry = [
        (r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"])
        for r in delivered(shop, EXPIRY)
        if r["dynamodb"]["Keys"]["pk"] == pk
    ]
    assert to_expiry == [("REMOVE", "TIMER")], f"the expiry function got {to_expiry}"
    # the outbox takes only MODIFYs of a payment or a refund: none of these (INSERTs, REMOVEs, a timer's MODIFY)
    assert [r for r in delivered(shop, OUTBOX) if r["dynamodb"]["Keys"]["pk"] == pk] == []
    assert {r["eventName"] for r in delivered(shop, OUTBOX)} <= {"MODIFY"}


def check_order_event_from_the_images(shop: Shop) -> None:
    """The stream carries old and new images: the outbox derives the order event from them."""
    payment = shop.create(amount=4321)
    shop.pay(payment)
    tap = shop.stack.event_tap
    assert tap is not None
    mine = [e for e in tap.events() if e.get("detail", {}).get("payment_id") == payment["id"]]
    captured = [e for e in mine if e["detail-type"] == "Payment Captured"]
    assert len(captured) == 1, mine
    assert captured[0]["detail"]["amount"] == 4321


def check_indexes_are_keys_only(shop: Shop) -> None:
    """Each index returns the keys only (the template's KEYS_ONLY projections), so a code path that
    read anything else from an index result would fail on the local stack as in AWS."""
    ddb, table = shop.stack.dynamodb, shop.stack.table_name
    desc = ddb.describe_table(TableName=table)["Table"]
    table_keys = {k["AttributeName"] for k in desc["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]}
    tag = ids.new_payment_id()
    item: dict[str, Any] = {"pk": {"S": f"PAYMENT#{tag}"}, "sk": {"S": "PROJECTION"}, "amount": {"N": "1"}}
    for name, kind in types.items():
        item.setdefault(name, {"S": f"{name}-{tag}"} if kind == "S" else {"N": "7"})
    ddb.put_item(TableName=table, Item=item)
    try:
        for index in desc["GlobalSecondaryIndexes"]:
            index_keys = {k["AttributeName"] for k in index["KeySchema"]}
            hash_key = next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH")
            got = ddb.query(
                TableName=table, IndexName=index["IndexName"], KeyConditionExpression="#h = :h",
                ExpressionAttributeNames={"#h": hash_key}, ExpressionAttributeValues={":h": item[hash_key]},
            )["Items"]  # fmt: skip
            assert len(got) == 1, index["IndexName"]
            assert set(got[0]) == table_keys | index_keys, index["IndexName"]
    finally:
        ddb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def check_batches_fit_the_batch_size(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of timer removals reaches the expiry function in batches of at most its BatchSize (4)."""
    ddb, table = shop.stack.dynamodb, shop.stack.table_name
    pks = {f"PAYMENT#{ids.new_payment_id()}" for _ in range(10)}  # no such payments: nothing to do
    past = str(int(time.time()) - 1)
    for pk in pks:
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "TIMER"}, "expires_at_epoch": {"N": past}})
    assert shop.stack.sweep_ttl() >= 10
    settle_streams(shop)
    consumer = next(c for c in shop.stack.consumers if c.config.function == EXPIRY)
    mine = [[r for r in batch if r["dynamodb"]["Keys"]["pk"]["S"] in pks] for batch in list(consumer.delivered)]
    sizes = [len(b) for b in mine if b]
    assert sum(sizes) == 10
    assert max(len(b) for b in consumer.delivered) <= 4, sizes

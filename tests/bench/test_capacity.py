"""The cost model's DynamoDB accounting on the template's real table: sizes, transactions, GSI writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qpay_bench import capacity, cost, costinputs
from qpay_bench.world import Call
from qpay_local.template import Template

ROOT = Path(__file__).resolve().parents[2]

INDEXES = (
    {"IndexName": "by-a", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"},
                                        {"AttributeName": "b", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "KEYS_ONLY"}},
    {"IndexName": "by-c", "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}],
     "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["shown"]}},
)  # fmt: skip
TABLE = capacity.Table.from_template(
    {
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in
                                 (("pk", "S"), ("sk", "S"), ("a", "S"), ("b", "N"), ("c", "S"))],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": list(INDEXES),
    },
    "t",
)  # fmt: skip


def s(v: str) -> dict[str, str]:
    return {"S": v}


def n(v: int) -> dict[str, str]:
    return {"N": str(v)}


KEY = {"pk": s("p"), "sk": s("s")}


def update(expression: str, values: dict[str, Any] | None = None, **extra: Any) -> Call:
    params: dict[str, Any] = {"TableName": "x", "Key": KEY, "UpdateExpression": expression, **extra}
    if values:
        params["ExpressionAttributeValues"] = values
    return Call("dynamodb", "UpdateItem", params)


def replay(items: list[dict[str, Any]], calls: list[Call]) -> capacity.Usage:
    with capacity.replayer(TABLE) as r:
        r.load(items)
        return r.replay(calls)


def test_item_size_follows_dynamodb_rules() -> None:
    assert capacity.item_size({"name": s("abc")}) == 4 + 3
    assert capacity.item_size({"n": n(12345)}) == 1 + 4  # 5 significant digits: 3 bytes + 1
    assert capacity.item_size({"n": n(12500)}) == 1 + 3  # trailing zeros are trimmed
    assert capacity.item_size({"ok": {"BOOL": True}}) == 2 + 1
    assert capacity.item_size({"m": {"M": {"k": s("v")}}}) == 1 + 3 + 1 + 1
    assert capacity.item_size({"l": {"L": [s("ab"), n(1)]}}) == 1 + 3 + 2 + 2


def test_write_units_round_up_per_kb_and_take_the_larger_image() -> None:
    big = {**KEY, "payload": s("x" * 1500)}
    used = replay([big], [update("REMOVE payload")])
    assert used.wru == 2  # 1.5 KB before, tiny after: the larger counts
    assert used.items_over_1kb == 0


def test_entering_a_sparse_index_is_one_write_and_changing_its_key_two() -> None:
    used = replay([dict(KEY)], [update("SET a = :a, b = :b", {":a": s("x"), ":b": n(1)})])
    assert used.index_writes == {"by-a": 1}
    used = replay([{**KEY, "a": s("x"), "b": n(1)}], [update("SET b = :b", {":b": n(2)})])
    assert used.index_writes == {"by-a": 2}
    used = replay([{**KEY, "a": s("x"), "b": n(1)}], [update("REMOVE a")])
    assert used.index_writes == {"by-a": 1}


def test_projection_decides_whether_a_non_key_change_writes_the_index() -> None:
    item = {**KEY, "a": s("x"), "b": n(1), "c": s("y"), "shown": s("1"), "unshown": s("1")}
    assert replay([item], [update("SET unshown = :v", {":v": s("2")})]).index_writes == {}
    assert replay([item], [update("SET shown = :v", {":v": s("2")})]).index_writes == {"by-c": 1}


def test_transactions_cost_double_and_failed_conditions_still_cost() -> None:
    tx = Call("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "x", "Item": {"pk": s("p1"), "sk": s("s")}}},
        {"Put": {"TableName": "x", "Item": {"pk": s("p2"), "sk": s("s")}}},
    ]})  # fmt: skip
    assert replay([], [tx]).wru == 4
    failed = update("SET v = :v", {":v": n(1)}, ConditionExpression="attribute_not_exists(pk)")
    used = replay([dict(KEY)], [failed])
    assert (used.wru, used.failed_conditions) == (1, 1)


def test_reads_round_up_per_4kb_and_halve_when_eventually_consistent() -> None:
    get = Call("dynamodb", "GetItem", {"TableName": "x", "Key": KEY})
    assert replay([{**KEY, "v": s("x" * 5000)}], [get]).rru == 1.0  # 2 units, halved
    strong = Call("dynamodb", "GetItem", {"TableName": "x", "Key": KEY, "ConsistentRead": True})
    assert replay([dict(KEY)], [strong]).rru == 1.0


def test_the_templates_table_and_refund_workflow_are_read_from_the_repository() -> None:
    template = Template(ROOT / "template.yaml")
    table = capacity.Table.from_template(template.properties(template.only("AWS::DynamoDB::Table")[0]), "t")
    assert table.keys == ("pk", "sk") and table.indexes
    assert costinputs.asl_transitions(template) >= 3
    reservoir, rate = costinputs.sampling_rule(template)
    assert reservoir >= 0 and 0 <= rate <= 1


@pytest.mark.parametrize(("rate", "expected"), [(0.1, 1.0), (1.0, 1.0), (21.0, (1 + 0.05 * 20) / 21)])
def test_traced_fraction(rate: float, expected: float) -> None:
    assert cost.traced_fraction(rate, 1.0, 0.05) == pytest.approx(expected)


def test_happy_path_transitions() -> None:
    asl = {"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "B"},
                                     "B": {"Type": "Choice", "Choices": [{"Next": "C"}], "Default": "D"},
                                     "C": {"Type": "Succeed"}, "D": {"Type": "Fail"}}}  # fmt: skip
    assert cost.happy_path_transitions(asl) == 3


def test_schedules_per_month() -> None:
    assert costinputs.runs_per_month("rate(15 minutes)") == 2880
    assert costinputs.runs_per_month("rate(1 hour)") == 720
    assert costinputs.runs_per_month("cron(15 3 * * ? *)") == 30


def test_hot_index_keys_are_read_from_what_the_product_wrote() -> None:
    from qpay_bench.limits import index_shards

    def usage(value: str) -> capacity.Usage:
        u = capacity.Usage()
        u.records.append(capacity.StreamRecord("INSERT", KEY, None, {**KEY, "k": s(value)}))
        return u

    assert index_shards({"p": usage("PENDING")}, "k") == 1
    assert index_shards({"p": usage("PENDING#7")}, "k") == 32
    assert index_shards({"p": usage("2026-11-28")}, "k") == 1
    assert index_shards({"p": usage("2026-11-28#3")}, "k") == 32
    assert index_shards({"p": usage("pay_abcdefghijklmnopqrstuvwxyz")}, "k") is None  # one value per payment


@pytest.mark.parametrize("clock", ["00:05:00", "00:59:59", "12:00:00", "23:59:59"])
def test_the_cost_worlds_payment_was_last_changed_today(clock: str) -> None:
    """A run just after midnight must price a payment's next write as staying in today's changed-by-day
    partition (a bench at 00:28 once reported 5.3 index writes per payment instead of 1)."""
    import calendar
    import time

    from qpay_bench.scenarios import stored_items

    now = calendar.timegm(time.strptime(f"2026-11-29 {clock}", "%Y-%m-%d %H:%M:%S"))
    open_item, captured, _ = stored_items(now)
    for item in (open_item, captured):
        assert item["changed_day"]["S"].startswith("2026-11-29#")
        assert int(item["created_at"]["N"]) <= now and int(item["lease_until"]["N"]) < now


def test_the_reconciliations_waits_are_shared_by_its_concurrent_checks() -> None:
    check = cost.PathUse(
        name="reconcile", function="ReconcileFunction", cpu_ms=2.0, init_ms=0.0, checkout_calls=1,
        ddb_calls=2, api=False, traced_entry=False, batch_item=True,
    )  # fmt: skip
    one = cost.estimate({"reconcile": check}, cost.Assumptions(reconcile_concurrency=1)).items["lambda"]
    eight = cost.estimate({"reconcile": check}, cost.Assumptions(reconcile_concurrency=8)).items["lambda"]
    cpu = 2.0 * cost.FULL_VCPU_MB / 512  # measured on a full core, slower at 512 MB
    assert one / eight == pytest.approx((cpu + 312.0) / (cpu + 312.0 / 8), rel=1e-6)  # 300 + 2 x 6 ms waiting
    assert costinputs.reconcile_concurrency() == 8

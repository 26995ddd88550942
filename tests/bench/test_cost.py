"""The cost model's region, its cited prices, the return/webhook race and the levers (pure arithmetic on
hand-made paths: no bench run)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qpay_bench import cost, costinputs
from qpay_local.template import Template
from tests.bench.test_capacity import ROOT


def path(name: str, function: str, **kw: object) -> cost.PathUse:
    kw.setdefault("log_bytes", 500.0)
    return cost.PathUse(name=name, function=function, cpu_ms=2.0, init_ms=0.0, **kw)  # type: ignore[arg-type]


PATHS = {
    "create": path("create", "CreatePaymentFunction", checkout_calls=1, ddb_calls=2, wru=9.0),
    "return": path("return", "PaymentReturnFunction", ddb_calls=1, rru=0.5),
    "return-open": path("return-open", "PaymentReturnFunction", checkout_calls=1, ddb_calls=2, wru=1.0, rru=0.5),
    "webhook": path("webhook", "WebhookFunction", ddb_calls=1, wru=1.0),
    "webhook-late": path("webhook-late", "WebhookFunction", ddb_calls=1, wru=1.0),
    "expiry": path("expiry", "ExpiryFunction", ddb_calls=1, api=False),
}


def test_the_default_region_is_where_the_product_deploys_and_every_price_names_its_source() -> None:
    assert cost.Assumptions().region == cost.DEFAULT_REGION == "me-central-1"
    samconfig = (ROOT / "samconfig.toml").read_text()
    assert 'region = "me-central-1"' in samconfig
    for region, table in cost.PRICE_TABLES.items():
        assert set(table) == set(cost.US_EAST_1), region
        for key, price in table.items():
            assert price.source.startswith("https://"), (region, key)
            assert price.usd > 0


def test_me_central_1_uses_the_lambda_price_found_and_says_where_it_derived_the_others() -> None:
    me = cost.PRICE_TABLES["me-central-1"]
    assert me["lambda_gb_s"].usd == pytest.approx(0.0000165334)
    assert "artillery" in me["lambda_gb_s"].source and "not found" not in me["lambda_gb_s"].note
    for key, price in me.items():
        if key != "lambda_gb_s":
            assert "not found in any stored source" in price.note, key
            assert price.usd == pytest.approx(cost.US_EAST_1[key].usd * cost.REGION_UPLIFT)


def test_the_same_use_costs_more_in_me_central_1() -> None:
    me = cost.estimate(PATHS, cost.Assumptions())
    us = cost.estimate(PATHS, cost.Assumptions(region="us-east-1"))
    assert me.total > us.total
    assert me.items["lambda"] / us.items["lambda"] == pytest.approx(0.0000165334 / 0.0000133334, rel=0.02)
    with pytest.raises(ValueError, match="no price table"):
        cost.estimate(PATHS, cost.Assumptions(region="mars-1"))


def test_a_return_before_the_webhook_asks_checkout_and_the_webhook_then_comes_late() -> None:
    by_name = {p.name: n for p, n in cost.mix(PATHS, cost.Assumptions(return_first_share=1.0))}
    assert by_name["return-open"] == 1.0 and by_name["return"] == 0.0
    assert by_name["webhook-late"] > 0 and by_name["webhook"] == 0.0
    half = {p.name: n for p, n in cost.mix(PATHS, cost.Assumptions())}
    assert half["return-open"] == half["return"] == 0.5
    dear = cost.estimate(PATHS, cost.Assumptions(return_first_share=1.0)).total
    cheap = cost.estimate(PATHS, cost.Assumptions(return_first_share=0.0)).total
    assert dear > cost.estimate(PATHS, cost.Assumptions()).total > cheap  # a Checkout wait per return


def test_memory_per_function_prices_the_wait_at_that_function_s_size() -> None:
    base = cost.Assumptions(return_first_share=0.0)
    small = replace(base, memory_mb_by_function=(("CreatePaymentFunction", 256),))
    e_base, e_small = cost.estimate(PATHS, base), cost.estimate(PATHS, small)
    assert e_small.by_path["create"][1] < e_base.by_path["create"][1]
    assert e_small.by_path["webhook"][1] == pytest.approx(e_base.by_path["webhook"][1])


def test_every_lever_moves_the_total_and_none_is_free_of_a_change() -> None:
    paths = {**PATHS, "refund": path("refund", "RefundRequestFunction", uses_secret=True, sfn_starts=1)}
    base = cost.Assumptions()
    total = cost.estimate(paths, base).total
    for label, moved in cost.sensitivity(paths, base, cost.LEVERS):
        assert moved < total, label


def test_memory_sizes_are_read_from_the_template() -> None:
    sizes = dict(costinputs.memory_by_function(Template(ROOT / "template.yaml")))
    assert sizes["CreatePaymentFunction"] >= 128 and set(cost.BACKGROUND) <= set(sizes)


def test_price_sources_lists_every_price_with_its_page() -> None:
    lines = cost.price_sources("me-central-1")
    assert len(lines) == len(cost.US_EAST_1) and all("https://" in line for line in lines)


def test_capacity_uses_the_deploy_regions_quotas_and_the_batched_outbox() -> None:
    from qpay_bench import limits

    paths = {**PATHS, "webhook": path("webhook", "WebhookFunction", order_events=1.0, outbox_records=1)}
    rows = {r.resource: r for r in limits.limits(paths, {}, cost.Assumptions(), stage_rps=100.0, index_keys={})}
    assert rows["HTTP API account throttle"].limit == 2_500  # Middle East (UAE), not 10,000
    put = rows["EventBridge PutEvents"]
    before = rows["EventBridge PutEvents, one call per record (before)"]
    assert put.limit == before.limit == 400
    assert put.binds_at == pytest.approx(10 * before.binds_at)  # 10 entries per call
    us = {r.resource: r for r in limits.limits(paths, {}, cost.Assumptions(region="us-east-1"), stage_rps=100.0,
                                              index_keys={})}  # fmt: skip
    assert us["EventBridge PutEvents"].limit == 10_000
    assert rows["Checkout.com reads (published, per account)"].demand > 0  # the returns that ask Checkout


def test_a_size_for_every_function_keeps_those_already_smaller() -> None:
    base = cost.Assumptions(memory_mb_by_function=(("ExpiryFunction", 128), ("CreatePaymentFunction", 1024)))
    moved = cost.varied(base, {"memory_mb": 256, "memory_mb_by_function": ()})
    assert moved.memory_of("ExpiryFunction") == 128  # the template's smaller size stays
    assert moved.memory_of("CreatePaymentFunction") == 256 and moved.memory_of("WebhookFunction") == 256

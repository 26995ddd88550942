"""Every webhook body the simulator sends has the published field set of its type and the shape of our
synthetic example of it (``webhook_examples/``), key for key and type for type."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cko_sim import QPAY_EVENT_TYPES, Simulator
from tests.contracts import schemas
from tests.contracts.checker import errors
from tests.contracts.helpers import AUTH, NATIONAL_ID, qpay_body
from tests.contracts.webhook_field_sets import BALANCES, ENVELOPE, ENVELOPE_LINKS, FIELD_SETS, FieldSet

EXAMPLES_DIR = Path(__file__).resolve().parent / "webhook_examples"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
#: ``data`` values whose content is free-form (compared as "an object"), not key by key.
FREE_FORM = {"metadata"}


def _example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8")))


def _shape_mismatches(example: Any, actual: Any, where: str = "") -> list[str]:
    """Differences in keys and JSON types between two bodies (values may differ)."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{where}: object expected, got {type(actual).__name__}"]
        if where.endswith(tuple(FREE_FORM)):
            return []
        problems: list[str] = []
        if set(example) != set(actual):
            problems.append(f"{where}: keys {sorted(set(actual) ^ set(example))} differ")
        for key in set(example) & set(actual):
            problems += _shape_mismatches(example[key], actual[key], f"{where}.{key}")
        return problems
    kinds = (bool, int, float, str, list, type(None))
    expected = next(k for k in kinds if isinstance(example, k))
    if not isinstance(actual, expected) or (expected is int and isinstance(actual, bool)):
        return [f"{where}: {expected.__name__} expected, got {type(actual).__name__}"]
    return []


def check_body(body: dict[str, Any], field_set: FieldSet, example: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if set(body) != ENVELOPE:
        problems.append(f"envelope keys {sorted(body)}")
    if set(body.get("_links", {})) != ENVELOPE_LINKS:
        problems.append(f"_links keys {sorted(body.get('_links', {}))}")
    if body.get("type") != field_set.event_type:
        problems.append(f"type {body.get('type')}")
    data = body.get("data", {})
    missing = field_set.fields - field_set.optional - set(data)
    extra = set(data) - field_set.fields
    if missing or extra:
        problems.append(f"data: missing {sorted(missing)}, not published {sorted(extra)}")
    if "balances" in data and set(data["balances"]) != BALANCES:
        problems.append(f"balances keys {sorted(data['balances'])}")
    for key in ("created_on",):
        if not ISO_Z.match(str(body.get(key, ""))):
            problems.append(f"{key} not ISO-8601 UTC")
    if "processed_on" in data and not ISO_Z.match(str(data["processed_on"])):
        problems.append("processed_on not ISO-8601 UTC")
    trimmed = {**example, "data": {k: v for k, v in example["data"].items() if k in data}}
    problems += _shape_mismatches(trimmed, body)
    for name, schema in (("id", schemas.PAYMENT_ID), ("action_id", schemas.ACTION_ID)):
        if name in data and errors(schema, data[name]):
            problems.append(f"data.{name} does not match {schema['$comment']}")
    return problems


@pytest.mark.parametrize("name", sorted(FIELD_SETS))
def test_our_examples_have_exactly_the_published_field_sets(name: str) -> None:
    example = _example(name)
    field_set = FIELD_SETS[name]
    assert set(example["data"]) == field_set.fields
    assert example["data"].get("currency", "QAR") == "QAR"
    assert check_body(example, field_set, example) == []


def test_checker_catches_a_wrong_body() -> None:
    canceled = _example("payment_canceled")
    leaky = {**canceled, "data": {**canceled["data"], "metadata": {"qpay_payment_id": "qpp_1"}}}
    assert check_body(leaky, FIELD_SETS["payment_canceled"], canceled)
    thin = {**canceled, "_links": {"payment": canceled["_links"]["payment"]}}
    assert check_body(thin, FIELD_SETS["payment_canceled"], canceled)
    wrong_type = {**canceled, "data": {**canceled["data"], "amount": "12500"}}
    assert check_body(wrong_type, FIELD_SETS["payment_canceled"], canceled)


def _drive(sim: Simulator) -> None:
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:

        def create(reference: str) -> str:
            response = c.post("/payments", json=qpay_body(reference=reference))
            assert response.status_code == 202, response.text
            return str(response.json()["id"])

        paid = create("ORD-PAID")
        sim.pay(paid)
        assert c.post(f"/payments/{paid}/refunds", json={"amount": 100, "reference": "qrf_1"}).status_code == 202
        assert c.post(f"/payments/{paid}/refunds", json={"amount": 100}).status_code == 202
        assert sim.webhooks.wait_idle(5)
        sim.faults.decline_refunds = True
        assert c.post(f"/payments/{paid}/refunds", json={"amount": 100, "reference": "qrf_2"}).status_code == 202
        sim.dashboard_refund(paid, 50)
        assert sim.webhooks.wait_idle(5)
        sim.pay(create("ORD-DECL"), card="4000000000000002")
        sim.cancel(create("ORD-CANC"))
        sim.expire_payment(create("ORD-EXP"))
    assert sim.webhooks.wait_idle(5)


@pytest.mark.parametrize(
    ("config", "refund_pending_name"),
    [
        ({}, "payment_refund_pending"),
        ({"refund_pending_shape": "reporting-and-insights"}, "payment_refund_pending.reporting"),
        ({"refund_webhook_reference": "payment"}, "payment_refund_pending"),
    ],
)
def test_every_emitted_body_matches_its_published_set(
    make_sim: Callable[..., Simulator], config: dict[str, Any], refund_pending_name: str
) -> None:
    sim = make_sim(**config)
    _drive(sim)
    seen: set[str] = set()
    for event in sim.webhooks.events:
        body = json.loads(event.body)
        name = refund_pending_name if event.type == "payment_refund_pending" else event.type
        problems = check_body(body, FIELD_SETS[name], _example(name))
        assert problems == [], f"{event.type}: {problems}"
        assert NATIONAL_ID.encode() not in event.body
        seen.add(event.type)
    assert seen == set(QPAY_EVENT_TYPES)


WEBHOOK_FIXTURES = sorted((Path(__file__).resolve().parents[2] / "events" / "WebhookFunction").glob("payment_*.json"))


@pytest.mark.parametrize("fixture", WEBHOOK_FIXTURES, ids=lambda p: p.stem)
def test_webhook_fixtures_have_the_published_field_sets(fixture: Path) -> None:
    """F-15: the replayable fixtures in events/ carry what Checkout publishes for their type (they are
    generated from the simulator's bodies: ``tests/handlers/test_fixtures.py`` fails on drift)."""
    event = json.loads(fixture.read_text(encoding="utf-8"))
    body = json.loads(event["body"])
    name = fixture.stem
    assert body["type"] == name
    assert check_body(body, FIELD_SETS[name], _example(name)) == []
    assert NATIONAL_ID not in event["body"]


def test_every_webhook_type_has_a_fixture() -> None:
    assert {p.stem for p in WEBHOOK_FIXTURES} == set(QPAY_EVENT_TYPES)

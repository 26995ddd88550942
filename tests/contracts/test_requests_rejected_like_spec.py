"""The simulator refuses (4xx) every request body Checkout's published request schema refuses, for the
fields QPay uses: ``PaymentRequest`` with the QPay source, and ``RefundRequest`` (derived by
``python -m cko_sim.spec_derive``; the simulator validates with the same files at run time, so this
guards that its prose layer and error mapping never let through what the published schema refuses).

The converse is not required: the simulator is stricter where Checkout documents more than the schema
says (QAR only, the URL-encoded description limit, one level of metadata, http(s) return URLs). The
one published leniency: ``source.quantity`` as a digit string (the QPay page's own example sends
``"1"``), which the schema's ``type: integer`` refuses.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cko_sim import SimConfig, Simulator
from tests.contracts import schemas
from tests.contracts.checker import errors
from tests.contracts.helpers import AUTH, qpay_body

PAYMENT_SCHEMA = schemas.PAYMENT_REQUEST
REFUND_SCHEMA = schemas.REFUND_REQUEST

#: Top-level and nested fields a QPay payment request uses.
QPAY_FIELDS: tuple[tuple[str, ...], ...] = (
    ("amount",),
    ("currency",),
    ("reference",),
    ("description",),
    ("success_url",),
    ("failure_url",),
    ("metadata",),
    ("customer",),
    ("customer", "id"),
    ("customer", "email"),
    ("customer", "name"),
    ("processing_channel_id",),
    ("payment_type",),
    ("source",),
    ("source", "type"),
    ("source", "description"),
    ("source", "quantity"),
    ("source", "language"),
    ("source", "national_id"),
)
REFUND_FIELDS: tuple[str, ...] = ("amount", "reference", "metadata")

#: Spec-invalid values, each chosen to break one published constraint.
INVALID_PAYMENT_VALUES: list[tuple[tuple[str, ...], Any]] = [
    (("amount",), "100"),
    (("amount",), 1.5),
    (("amount",), -1),
    (("amount",), True),
    (("amount",), None),
    (("currency",), "QA"),
    (("currency",), "QARS"),
    (("currency",), 634),
    (("reference",), "R" * 51),
    (("reference",), 1001),
    (("description",), "D" * 101),
    (("success_url",), "https://shop.example/" + "s" * 235),
    (("success_url",), 5),
    (("success_url",), "https://shop.example/caf\u00e9"),
    (("success_url",), "https://shop.example/a b"),
    (("success_url",), "shop.example/return"),
    (("failure_url",), "https://shop.example/" + "f" * 235),
    (("metadata",), "order=1001"),
    (("metadata",), [1, 2]),
    (("customer",), "shopper"),
    (("customer", "id"), "cus_short"),
    (("customer", "email"), "e" * 251 + "@x.qa"),
    (("customer", "email"), "not-an-email"),
    (("customer", "name"), "N" * 256),
    (("processing_channel_id",), 12),
    (("payment_type",), "Weekly"),
    (("source",), "qpay"),
    (("source",), {}),
    (("source", "type"), None),
    (("source", "description"), None),
    (("source", "description"), 42),
    (("source", "quantity"), 0),
    (("source", "quantity"), 1.5),
    (("source", "quantity"), -2),
    (("source", "language"), 1),
    (("source", "national_id"), "N" * 33),
    (("source", "national_id"), 28463400123),
]


def _with(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return changed


def _documented_leniency(path: tuple[str, ...], value: Any) -> bool:
    return path == ("source", "quantity") and isinstance(value, str) and value.isascii() and value.isdigit()


@pytest.fixture(scope="module")
def flask_client() -> Iterator[Any]:
    sim = Simulator(SimConfig(require_processing_channel=True))
    try:
        yield sim, sim.flask_app.test_client()
    finally:
        sim.stop()


def _post(flask_client: Any, path: str, body: Any) -> int:
    _, client = flask_client
    response = client.post(path, data=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"})
    return int(response.status_code)


def test_the_valid_body_is_valid_for_both() -> None:
    assert errors(PAYMENT_SCHEMA, qpay_body()) == []


def test_valid_body_is_accepted(flask_client: Any) -> None:
    assert _post(flask_client, "/payments", qpay_body()) == 202


@pytest.mark.parametrize(("path", "value"), INVALID_PAYMENT_VALUES, ids=lambda v: repr(v)[:40])
def test_spec_invalid_payment_is_refused(flask_client: Any, path: tuple[str, ...], value: Any) -> None:
    body = _with(qpay_body(), path, value)
    assert errors(PAYMENT_SCHEMA, body), "the case must break the published schema"
    status = _post(flask_client, "/payments", body)
    assert 400 <= status < 500, f"{'.'.join(path)}={value!r} answered {status}"


@pytest.mark.parametrize(
    "path", [("amount",), ("currency",), ("source",), ("source", "type"), ("source", "description")]
)
def test_missing_required_field_is_refused(flask_client: Any, path: tuple[str, ...]) -> None:
    body = qpay_body()
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    status = _post(flask_client, "/payments", body)
    assert status == 422


def test_the_one_leniency_is_the_documented_string_quantity(flask_client: Any) -> None:
    body = _with(qpay_body(), ("source", "quantity"), "1")
    assert errors(PAYMENT_SCHEMA, body)  # type: integer
    assert _post(flask_client, "/payments", body) == 202  # as Checkout's QPay page sends it


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(QPAY_FIELDS), value=JSON_VALUES)
def test_any_spec_invalid_qpay_field_is_refused(flask_client: Any, path: tuple[str, ...], value: Any) -> None:
    body = _with(qpay_body(), path, value)
    if not errors(PAYMENT_SCHEMA, body) or _documented_leniency(path, value):
        return
    status = _post(flask_client, "/payments", body)
    assert 400 <= status < 500, f"{'.'.join(path)}={value!r} answered {status}"


@pytest.fixture
def captured(flask_client: Any) -> Callable[[], str]:
    sim, client = flask_client

    def make() -> str:
        response = client.post(
            "/payments", data=json.dumps(qpay_body()), headers={**AUTH, "Content-Type": "application/json"}
        )
        pay_id = str(response.get_json()["id"])
        sim.pay(pay_id)
        return pay_id

    return make


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(REFUND_FIELDS), value=JSON_VALUES)
def test_any_spec_invalid_refund_is_refused(
    flask_client: Any, captured: Callable[[], str], field: str, value: Any
) -> None:
    body = {"amount": 100, "reference": "qrf_1", field: value}
    if not errors(REFUND_SCHEMA, body):
        return
    status = _post(flask_client, f"/payments/{captured()}/refunds", body)
    assert 400 <= status < 500, f"{field}={value!r} answered {status}"

"""Lambda event filtering rules, table-driven, plus the template's own FilterCriteria."""

from __future__ import annotations

import json

import pytest

from qpay.ops.stream_records import TTL_IDENTITY
from qpay_local.filters import matches, matches_any, parse_filters
from qpay_local.stack import DEFAULT_TEMPLATE
from qpay_local.template import Template

EVENT = {
    "eventName": "REMOVE",
    "size": 12,
    "price": 9.5,
    "flag": True,
    "nothing": None,
    "tags": ["a", "b"],
    "name": "Payment-Timer",
    "dynamodb": {"Keys": {"pk": {"S": "PAYMENT#1"}, "sk": {"S": "TIMER"}}},
}

CASES = [
    ({"eventName": ["REMOVE"]}, True),
    ({"eventName": ["INSERT"]}, False),
    ({"eventName": ["INSERT", "REMOVE"]}, True),  # OR across values
    ({"eventName": ["REMOVE"], "size": [12]}, True),  # AND across keys
    ({"eventName": ["REMOVE"], "size": [13]}, False),
    ({"size": [12.0]}, True),  # numbers compare numerically
    ({"size": ["12"]}, False),  # a string is not a number
    ({"flag": [True]}, True),
    ({"flag": [1]}, False),
    ({"nothing": [None]}, True),
    ({"missing": [None]}, False),
    ({"tags": ["b"]}, True),  # any element of an array
    ({"tags": ["c"]}, False),
    ({"name": [{"prefix": "Payment-"}]}, True),
    ({"name": [{"prefix": "payment-"}]}, False),
    ({"name": [{"prefix": {"equals-ignore-case": "payment-"}}]}, True),
    ({"name": [{"suffix": "-Timer"}]}, True),
    ({"name": [{"suffix": "-timer"}]}, False),
    ({"name": [{"equals-ignore-case": "payment-timer"}]}, True),
    ({"name": [{"anything-but": "Payment-Timer"}]}, False),
    ({"name": [{"anything-but": ["x", "y"]}]}, True),
    ({"name": [{"anything-but": {"prefix": "Pay"}}]}, False),
    ({"name": [{"anything-but": {"prefix": "Refund"}}]}, True),
    ({"size": [{"numeric": [">", 10, "<=", 12]}]}, True),
    ({"size": [{"numeric": [">", 12]}]}, False),
    ({"size": [{"numeric": ["=", 12]}]}, True),
    ({"price": [{"numeric": [">=", 9.5, "<", 10]}]}, True),
    ({"name": [{"numeric": [">", 0]}]}, False),
    ({"name": [{"exists": True}]}, True),
    ({"missing": [{"exists": True}]}, False),
    ({"missing": [{"exists": False}]}, True),
    ({"name": [{"exists": False}]}, False),
    ({"name": [{"wildcard": "Payment-*"}]}, True),
    ({"dynamodb": {"Keys": {"sk": {"S": ["TIMER"]}}}}, True),  # nested objects
    ({"dynamodb": {"Keys": {"sk": {"S": ["PAYMENT"]}}}}, False),
    ({"dynamodb": {"Keys": {"nope": {"S": ["TIMER"]}}}}, False),
    ({"name": {"S": ["x"]}}, False),  # a nested pattern on a scalar
    ({"$or": [{"eventName": ["INSERT"]}, {"size": [12]}]}, True),
    ({"$or": [{"eventName": ["INSERT"]}, {"size": [1]}]}, False),
]


@pytest.mark.parametrize(("pattern", "expected"), CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_rule(pattern, expected):
    assert matches(EVENT, pattern) is expected


def test_any_filter_matches_and_no_filters_match_everything():
    pats = [{"eventName": ["INSERT"]}, {"eventName": ["REMOVE"]}]
    assert matches_any(EVENT, pats)
    assert not matches_any(EVENT, pats[:1])
    assert matches_any(EVENT, [])


def test_unknown_operator_is_an_error():
    with pytest.raises(ValueError, match="unsupported"):
        matches(EVENT, {"name": [{"frobnicate": 1}]})


def _record(event_name, sk, *, ttl=False):
    rec = {
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": "PAYMENT#qpp_x"}, "sk": {"S": sk}}, "SequenceNumber": "1"},
    }
    if ttl:
        rec["userIdentity"] = dict(TTL_IDENTITY)
    return rec


def _template_filters():
    (source,) = [s for s in Template(DEFAULT_TEMPLATE).stream_sources() if s.function == "ExpiryFunction"]
    return parse_filters(source.properties["FilterCriteria"])


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_record("REMOVE", "TIMER", ttl=True), True),  # TTL removal of a timer
        (_record("REMOVE", "TIMER"), True),  # a user delete of a timer: the template does not filter on userIdentity
        (_record("INSERT", "TIMER"), False),
        (_record("REMOVE", "PAYMENT"), False),  # a non-timer item
        (_record("MODIFY", "TIMER"), False),
    ],
    ids=["ttl-timer-removal", "user-delete-timer", "insert-timer", "remove-non-timer", "modify-timer"],
)
def test_template_filter_criteria(record, expected):
    assert matches_any(record, _template_filters()) is expected

"""The call → IAM request mapping and the evaluation, on hand-made calls (no stack)."""

from __future__ import annotations

import pytest

from tests.support.aws_calls import Call
from tests.support.iam import IamRequest, UnmappedCall, evaluate, iam_requests

R, A = "me-central-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{R}:{A}:table/t"


def _actions(call: Call) -> list[tuple[str, str]]:
    return [(r.action, r.resource) for r in iam_requests(call, region=R, account=A)]


def test_a_transaction_needs_each_items_action_on_its_table() -> None:
    items = [
        {"ConditionCheck": {"TableName": "t"}},
        {"Put": {"TableName": "t"}},
        {"Update": {"TableName": "other"}},
        {"Delete": {"TableName": "t"}},
    ]
    assert _actions(Call("F", "dynamodb", "TransactWriteItems", {"TransactItems": items})) == [
        ("dynamodb:ConditionCheckItem", TABLE),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", f"arn:aws:dynamodb:{R}:{A}:table/other"),
        ("dynamodb:DeleteItem", TABLE),
    ]


def test_batches_queries_on_indexes_and_the_other_services() -> None:
    assert _actions(Call("F", "dynamodb", "BatchWriteItem", {"RequestItems": {"t": []}})) == [
        ("dynamodb:BatchWriteItem", TABLE)
    ]
    assert _actions(Call("F", "dynamodb", "Query", {"TableName": "t", "IndexName": "by-x"})) == [
        ("dynamodb:Query", f"{TABLE}/index/by-x")
    ]
    assert _actions(Call("F", "states", "SendTaskFailure", {"taskToken": "x"})) == [("states:SendTaskFailure", "*")]
    entries = [{"EventBusName": "orders"}, {"EventBusName": f"arn:aws:events:{R}:{A}:event-bus/b"}, {}]
    assert [r for _, r in _actions(Call("F", "events", "PutEvents", {"Entries": entries}))] == [
        f"arn:aws:events:{R}:{A}:event-bus/orders",
        f"arn:aws:events:{R}:{A}:event-bus/b",
        f"arn:aws:events:{R}:{A}:event-bus/default",
    ]


def test_an_unknown_operation_is_refused_not_passed() -> None:
    with pytest.raises(UnmappedCall, match="dynamodb:ExecuteStatement"):
        iam_requests(Call("F", "dynamodb", "ExecuteStatement", {}), region=R, account=A)
    with pytest.raises(UnmappedCall, match="sqs:SendMessage"):
        iam_requests(Call("F", "sqs", "SendMessage", {}), region=R, account=A)


def test_evaluation_matches_actions_and_resources_and_deny_wins() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:Query"],
                "Resource": [TABLE, f"{TABLE}/index/*"],
            },
            {"Effect": "Deny", "Action": "dynamodb:Query", "Resource": f"{TABLE}/index/secret"},
        ],
    }
    ok = [
        IamRequest("F", "dynamodb:PutItem", TABLE, "PutItem"),
        IamRequest("F", "dynamodb:Query", f"{TABLE}/index/a", "Query"),
    ]
    assert evaluate(ok, {"F": [policy]}) == []
    bad = [
        IamRequest("F", "dynamodb:DeleteItem", TABLE, "DeleteItem"),  # action not granted
        IamRequest("F", "dynamodb:PutItem", f"arn:aws:dynamodb:{R}:{A}:table/other", "PutItem"),  # other table
        IamRequest("F", "dynamodb:Query", f"{TABLE}/index/secret", "Query"),  # explicit deny
        IamRequest("G", "dynamodb:PutItem", TABLE, "PutItem"),  # no such function
    ]
    assert len(evaluate(bad, {"F": [policy]})) == 4

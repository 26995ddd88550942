"""Every AWS call the functions made (recorded on the local stack) is allowed by the calling function's
role in the transformed template, judged by moto's IAM policy evaluator with real ARNs."""

from __future__ import annotations

import copy
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.iam.conftest import ROOT, Recorded, transform
from tests.support.aws_calls import UNATTRIBUTED
from tests.support.iam import IamRequest, evaluate, granted_actions, iam_requests, local_policies


def _requests(rec: Recorded) -> list[IamRequest]:
    assert rec.stack.resolver is not None
    account = str(rec.stack.resolver.refs["AWS::AccountId"])
    return [r for c in rec.calls for r in iam_requests(c, region=rec.stack.region, account=account)]


def _policies(rec: Recorded, transformed: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    return local_policies(transformed or rec.transformed, rec.stack)


def test_every_call_is_attributed_to_a_function(recorded: Recorded) -> None:
    assert recorded.calls
    assert [c for c in recorded.calls if c.function == UNATTRIBUTED] == []


def test_every_function_of_the_template_was_exercised(recorded: Recorded) -> None:
    functions = set(recorded.stack.template.functions())
    callers = {c.function for c in recorded.calls}
    assert functions - callers == set()


def test_every_recorded_call_is_allowed_by_the_callers_policy(recorded: Recorded) -> None:
    policies = _policies(recorded)
    requests = _requests(recorded)
    assert evaluate(requests, policies) == []
    used = Counter((r.function, r.action) for r in requests)
    granted = granted_actions(policies)
    for fn in sorted(granted):
        unused = sorted(a for a in granted[fn] if (fn, a) not in used)
        print(
            f"[iam] {fn}: {sum(n for (f, _), n in used.items() if f == fn)} requests; granted, not exercised: {unused}",
            file=sys.stderr,
        )


def test_a_transaction_is_judged_per_item(recorded: Recorded) -> None:
    """The create's transaction needs PutItem and ConditionCheckItem; there is no TransactWriteItems action."""
    implied = {(r.function, r.action) for r in _requests(recorded) if r.via == "TransactWriteItems"}
    assert ("CreatePaymentFunction", "dynamodb:ConditionCheckItem") in implied
    assert ("CreatePaymentFunction", "dynamodb:PutItem") in implied
    assert not any(a == "dynamodb:TransactWriteItems" for _, a in implied)


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _drop_action(docs: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    out = copy.deepcopy(docs)
    for doc in out:
        for st in _statements(doc):
            st["Action"] = [a for a in _as_list(st["Action"]) if a != action] or ["none:Nothing"]
    return out


OTHER_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:other"


def _narrow(docs: list[dict[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    """Every resource entry of the statements granting ``action`` that covers ``resource`` made narrower
    (a different ARN under it; ``*`` becomes one state machine's ARN)."""
    from moto.iam.access_control import IAMPolicyStatement

    out = copy.deepcopy(docs)
    for doc in out:
        for st in _statements(doc):
            if action not in _as_list(st["Action"]):
                continue
            narrowed = []
            for entry in _as_list(st["Resource"]):
                covers = IAMPolicyStatement._match(entry, resource) is not None
                narrowed.append((OTHER_MACHINE if entry == "*" else f"{entry}-other") if covers else entry)
            st["Resource"] = narrowed
    return out


def test_every_action_and_resource_the_calls_need_is_load_bearing(recorded: Recorded) -> None:
    """The check itself is sharp: dropping any one action a call needs from its function's policy, or
    narrowing the resource that grants it, makes the recorded calls fail the check."""
    policies = _policies(recorded)
    needed = sorted({(r.function, r.action, r.resource) for r in _requests(recorded)})
    assert len(needed) > 30
    survivors = []
    for fn, action, resource in needed:
        request = [IamRequest(fn, action, resource, "mutant")]
        for kind, mutated in (
            ("action dropped", _drop_action(policies[fn], action)),
            ("resource narrowed", _narrow(policies[fn], action, resource)),
        ):
            if evaluate(request, {**policies, fn: mutated}) == []:
                survivors.append(f"{fn} {action} {resource}: {kind}, still allowed")
    assert survivors == []


@pytest.mark.parametrize(
    ("edit", "denied"),
    [
        pytest.param(
            ("dynamodb:GetItem, dynamodb:ConditionCheckItem]", "dynamodb:GetItem]"),
            "CreatePaymentFunction: dynamodb:ConditionCheckItem on arn:aws:dynamodb:",
            id="create-loses-ConditionCheckItem",
        ),
        pytest.param(
            ("                - !Sub ${PaymentsTable.Arn}/index/by-cko-id\n", ""),
            "WebhookFunction: dynamodb:Query on arn:aws:dynamodb:us-east-1:123456789012:table/qpay-local-PaymentsTable/index/by-cko-id",
            id="webhook-query-narrowed-to-the-table",
        ),
    ],
)
def test_a_policy_edit_in_template_yaml_fails_the_check(
    recorded: Recorded, tool_python: Path, tmp_path: Path, edit: tuple[str, str], denied: str
) -> None:
    """The same check through the real SAM transform of an edited template.yaml."""
    old, new = edit
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    mutant = tmp_path / "template.yaml"
    mutant.write_text(text.replace(old, new), encoding="utf-8")
    doc = transform(tool_python, mutant, region=recorded.stack.region, stack_name=recorded.stack.stack_name)
    problems = evaluate(_requests(recorded), _policies(recorded, doc))
    assert problems, "the edited policy still allows every recorded call"
    assert all(denied.split(":", maxsplit=1)[0] in p for p in problems), problems
    assert any(p.startswith(denied) for p in problems), problems

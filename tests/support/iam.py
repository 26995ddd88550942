"""Evaluate recorded AWS calls against each function's IAM policy in the transformed template.

1. :func:`iam_requests`: one API call → the IAM requests AWS authorises for it (action + resource ARN).
   A transaction is authorised per item: ``TransactWriteItems`` needs ``dynamodb:ConditionCheckItem``,
   ``PutItem``, ``UpdateItem`` or ``DeleteItem`` on each item's table, and there is no
   ``dynamodb:TransactWriteItems`` action (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html,
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html); a query
   on an index is authorised on ``table/<name>/index/<index>``; ``SendTaskSuccess``/``Failure``/``Heartbeat``
   have no resource type (``*``) (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html);
   ``PutEvents`` on the event bus of each entry. An operation this module does not know fails loudly:
   a new kind of call must be mapped, never silently passed.
2. :func:`role_policies`: each ``AWS::Lambda::Function`` of the transformed template → the inline policy
   documents of its role, with ``Fn::If`` decided by the template's ``Conditions`` and every other
   intrinsic resolved for a concrete account, region and stack (the local stack's resolver).
3. :func:`evaluate`: moto's IAM policy evaluator (``moto.iam.access_control.IAMPolicy``, the one moto
   uses when it enforces IAM) decides each request; an explicit Deny wins, otherwise any Allow permits.
   No function policy has a ``Condition`` today: one that does (or ``NotResource``) fails
   :func:`role_policies` until the request context it needs is passed to :func:`evaluate` (``context``,
   condition key → value, which moto's evaluator checks).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from tests.support.aws_calls import UNATTRIBUTED, Call

ROOT = Path(__file__).resolve().parents[2]

_DDB_ITEM_OPS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "DescribeTimeToLive"}
_TRANSACT_WRITE = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
}
_MANAGED_OK = (
    # what SAM attaches by ARN: CloudWatch Logs, X-Ray, and the stream reading Lambda's event source
    # mapping does itself; none of them is called by the functions' code
    "service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess",
    "service-role/AWSLambdaDynamoDBExecutionRole",
)


class UnmappedCall(Exception):
    """An AWS operation with no mapping to IAM requests here."""


@dataclass(frozen=True)
class IamRequest:
    function: str
    action: str  # e.g. "dynamodb:ConditionCheckItem"
    resource: str  # an ARN, or "*"
    via: str  # the API operation that implied it


def _table_arn(region: str, account: str, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}"


def _dynamodb(call: Call, region: str, account: str) -> list[tuple[str, str]]:
    p, op = call.params, call.operation
    if op in _DDB_ITEM_OPS:
        return [(op, _table_arn(region, account, p["TableName"]))]
    if op in ("Query", "Scan"):
        arn = _table_arn(region, account, p["TableName"])
        return [(op, f"{arn}/index/{p['IndexName']}" if p.get("IndexName") else arn)]
    if op == "TransactWriteItems":
        out = []
        for item in p["TransactItems"]:
            ((kind, body),) = item.items()
            out.append((_TRANSACT_WRITE[kind], _table_arn(region, account, body["TableName"])))
        return out
    if op == "TransactGetItems":
        return [("GetItem", _table_arn(region, account, i["Get"]["TableName"])) for i in p["TransactItems"]]
    if op in ("BatchWriteItem", "BatchGetItem"):
        return [(op, _table_arn(region, account, t)) for t in p["RequestItems"]]
    raise UnmappedCall(f"dynamodb:{op}")


def _states(call: Call) -> list[tuple[str, str]]:
    p, op = call.params, call.operation
    if op == "StartExecution":
        return [(op, p["stateMachineArn"])]
    if op in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
        return [(op, p["executionArn"])]
    if op in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        return [(op, "*")]
    raise UnmappedCall(f"states:{op}")


def _events(call: Call, region: str, account: str) -> list[tuple[str, str]]:
    if call.operation != "PutEvents":
        raise UnmappedCall(f"events:{call.operation}")
    out = []
    for entry in call.params["Entries"]:
        bus = str(entry.get("EventBusName") or "default")
        out.append(
            ("PutEvents", bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}")
        )
    return out


def _secrets(call: Call, region: str, account: str) -> list[tuple[str, str]]:
    if call.operation not in ("GetSecretValue", "DescribeSecret"):
        raise UnmappedCall(f"secretsmanager:{call.operation}")
    secret = str(call.params["SecretId"])
    # a name (not an ARN) is authorised on the secret's full ARN, which ends in a random 6-character suffix
    return [
        (
            call.operation,
            secret
            if secret.startswith("arn:")
            else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-??????",
        )
    ]


def iam_requests(call: Call, *, region: str, account: str) -> list[IamRequest]:
    if call.service == "dynamodb":
        pairs = _dynamodb(call, region, account)
    elif call.service == "states":
        pairs = _states(call)
    elif call.service == "events":
        pairs = _events(call, region, account)
    elif call.service == "secretsmanager":
        pairs = _secrets(call, region, account)
    else:
        raise UnmappedCall(f"{call.service}:{call.operation}")
    return [
        IamRequest(call.function, f"{call.service}:{action}", resource, call.operation) for action, resource in pairs
    ]


# ------------------------------------------------------------------------------------ the template


def _condition(name: str, conditions: dict[str, Any], resolver: Any) -> bool:
    return bool(_decide(conditions[name], conditions, resolver))


def _decide(expr: Any, conditions: dict[str, Any], resolver: Any) -> Any:
    """A condition expression (``Fn::Equals/Not/And/Or``, ``Condition``) → bool; anything else resolved."""
    if isinstance(expr, dict) and len(expr) == 1:
        ((key, arg),) = expr.items()
        if key == "Condition":
            return _condition(str(arg), conditions, resolver)
        if key == "Fn::Equals":
            a, b = (_decide(x, conditions, resolver) for x in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not _decide(arg[0], conditions, resolver)
        if key == "Fn::And":
            return all(_decide(x, conditions, resolver) for x in arg)
        if key == "Fn::Or":
            return any(_decide(x, conditions, resolver) for x in arg)
    return resolver.resolve(_apply_ifs(expr, conditions, resolver))


_NO_VALUE = object()


def _apply_ifs(value: Any, conditions: dict[str, Any], resolver: Any) -> Any:
    """Replace ``Fn::If`` by the branch its condition selects; drop ``Ref: AWS::NoValue``."""
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::If" in value:
            name, yes, no = value["Fn::If"]
            return _apply_ifs(yes if _condition(str(name), conditions, resolver) else no, conditions, resolver)
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        out = {k: _apply_ifs(v, conditions, resolver) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}
    if isinstance(value, list):
        items = [_apply_ifs(v, conditions, resolver) for v in value]
        return [v for v in items if v is not _NO_VALUE]
    return value


def role_policies(transformed: dict[str, Any], resolver: Any) -> dict[str, list[dict[str, Any]]]:
    """Function logical id → its role's inline policy documents, resolved. Managed policies other than
    the ones SAM attaches for logs, tracing and stream polling fail here (they would need evaluating)."""
    res = transformed["Resources"]
    conditions = transformed.get("Conditions", {})
    out: dict[str, list[dict[str, Any]]] = {}
    for logical_id, fn in res.items():
        if fn["Type"] != "AWS::Lambda::Function":
            continue
        role_ref = fn["Properties"]["Role"]
        role_id = role_ref["Fn::GetAtt"][0]
        role = res[role_id]["Properties"]
        for managed in _apply_ifs(role.get("ManagedPolicyArns", []), conditions, resolver):
            text = json.dumps(managed)
            if not any(ok in text for ok in _MANAGED_OK):
                raise ValueError(f"{logical_id}: managed policy {text} is not evaluated here")
        docs = [
            resolver.resolve(_apply_ifs(p["PolicyDocument"], conditions, resolver))
            for p in _apply_ifs(role.get("Policies", []), conditions, resolver)
        ]
        for other in res.values():  # standalone policies attached to the role
            if other["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": role_id} in other[
                "Properties"
            ].get("Roles", []):
                docs.append(resolver.resolve(_apply_ifs(other["Properties"]["PolicyDocument"], conditions, resolver)))
        for doc in docs:
            for st in doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]:
                unsupported = sorted({"Condition", "NotResource", "NotPrincipal"} & set(st))
                if unsupported:  # the evaluation would need request context it is not given: say so
                    raise ValueError(f"{logical_id}: a statement uses {unsupported}; give evaluate() the context")
        out[logical_id] = docs
    return out


def evaluate(
    requests: Iterable[IamRequest], policies: dict[str, list[dict[str, Any]]], *, context: dict[str, str] | None = None
) -> list[str]:
    """The requests the calling function's policies do not allow, one line each (empty: all allowed)."""
    denied: list[str] = []
    for r in requests:
        docs = policies.get(r.function)
        if docs is None:
            denied.append(f"{r.function}: no such function in the transformed template ({r.action} {r.resource})")
            continue
        results = [IAMPolicy(json.dumps(d)).is_action_permitted(r.action, r.resource, None, context) for d in docs]
        if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
            denied.append(f"{r.function}: {r.action} on {r.resource} (by {r.via}) is not allowed")
    return sorted(set(denied))


def granted_actions(policies: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    """Function → the actions its policies allow (for the report of grants no test exercised)."""
    out: dict[str, set[str]] = {}
    for fn, docs in policies.items():
        for doc in docs:
            stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
            for s in stmts:
                if s.get("Effect") == "Allow":
                    actions = s.get("Action", [])
                    out.setdefault(fn, set()).update([actions] if isinstance(actions, str) else actions)
    return out


# ------------------------------------------------------------------------------------ together
_TRANSFORM = """
import json, sys
from pathlib import Path
sys.path.insert(0, "infra/tools")
from validate import transform
doc = transform(Path(sys.argv[1]), region=sys.argv[2], account=sys.argv[3], stack=sys.argv[4])
print(json.dumps(doc))
"""


def transform(python: Path, template: Path, *, region: str, account: str, stack_name: str) -> dict[str, Any]:
    """The real SAM transform of ``template`` (the deploy gate's own function, in its virtualenv)."""
    done = subprocess.run(
        [str(python), "-c", _TRANSFORM, str(template), region, account, stack_name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the SAM transform failed: {done.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def local_policies(transformed: dict[str, Any], stack: Any) -> dict[str, list[dict[str, Any]]]:
    """The functions' policies resolved with a local stack's names. A table's ARN is written the way
    AWS writes it (DynamoDB Local answers its own region and account in ``TableArn``)."""
    from qpay_local.ids import ACCOUNT_ID
    from qpay_local.template import Resolver

    base = stack.resolver
    attrs = dict(base.attrs)
    for logical_id, name in stack.table_names.items():
        attrs[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:{stack.region}:{ACCOUNT_ID}:table/{name}"
    return role_policies(transformed, Resolver(base.refs, attrs, base.parameter_types))


def judge(calls: Iterable[Call], transformed: dict[str, Any], stack: Any) -> list[str]:
    """What the recorded calls of a local stack's functions need that their roles do not allow. Calls
    made outside any invocation (a test's own use of the product's adapters) are no function's."""
    from qpay_local.ids import ACCOUNT_ID

    mine = [c for c in calls if c.function != UNATTRIBUTED]
    requests = [r for c in mine for r in iam_requests(c, region=stack.region, account=ACCOUNT_ID)]
    return evaluate(requests, local_policies(transformed, stack))

"""A deploy rehearsal offline: the TRANSFORMED template created in moto's CloudFormation, the product's
handlers configured only from that stack (outputs, and each function's environment as CloudFormation
resolved it), and every AWS call they make checked against the IAM role the template gives them.

moto's CloudFormation lacks some resource types; ``for_moto`` removes them and rewires what referred
to them, and says which (the rehearsal prints the list, the README carries it).
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import importlib
import io
import os
import re
import secrets
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.client
from botocore.config import Config

REGION = "me-central-1"
ACCOUNT = "123456789012"  # moto's account
STACK = "qpay-gate"  # the stack name the gate transformed with: the transform bakes it into names

#: How references to a removed resource are rewired (what stands in for it), by resource type.
REWIRE = {
    "AWS::Lambda::Alias": "the function itself (moto has no aliases; the alias only routes versions)",
    "AWS::ApiGatewayV2::Api": "a fixed API id in ARNs and URLs (handlers are invoked with API Gateway's event shape)",
    "AWS::SecretsManager::Secret": "a secret created through the API first, as GenerateSecretString would",
}

#: ``${Function.Arn}:live``: a state machine's alias target. moto's CloudFormation passes an Fn::Sub in
#: DefinitionSubstitutions through unresolved; the rehearsal renders it (test_rehearsal).
ALIAS_ARN = re.compile(r"^\$\{([A-Za-z0-9]+)\.Arn\}:live$")


# ---------------------------------------------------------------- the secret (the lead's contract)
def secret_document(
    *,
    checkout_secret_key: str,
    webhook_signing_key: str,
    merchant_api_key: str,
    order_token_kid: str = "k1",
    order_token_key: str | None = None,
    server_key: str | None = None,
) -> dict[str, Any]:
    """THE secret's JSON, in the format of BRIEF-COMMON's contract (the one place the rehearsal builds it)."""
    return {
        "checkout_secret_key": checkout_secret_key,
        "webhook_signing_keys": [webhook_signing_key],
        "merchant_api_keys": [merchant_api_key],
        "order_token_keys": {order_token_kid: order_token_key or secrets.token_urlsafe(32)},
        "server_key": server_key or secrets.token_urlsafe(48),
    }


# ---------------------------------------------------------------- the template as moto can create it
@dataclass
class MotoTemplate:
    template: dict[str, Any]
    removed: dict[str, str]  # logical id -> type
    secret_ids: list[str]


def _replace_refs(value: Any, stand_in: dict[str, Any]) -> Any:
    """Every Ref / GetAtt / ${X} to a key of ``stand_in`` becomes its stand-in."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref" and arg in stand_in:
                return stand_in[arg]
            if fn == "Fn::GetAtt" and arg[0] in stand_in:
                return stand_in[arg[0]]
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for name, replacement in stand_in.items():
                    if isinstance(replacement, str):
                        text = re.sub(r"\$\{" + re.escape(name) + r"(\.[A-Za-z.]+)?\}", replacement, text)
                    elif isinstance(replacement, dict) and "Ref" in replacement:
                        text = text.replace("${" + name + "}", "${" + replacement["Ref"] + "}")
                return {"Fn::Sub": text if not variables else [text, _replace_refs(variables, stand_in)]}
        return {k: _replace_refs(v, stand_in) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_refs(v, stand_in) for v in value]
    return value


def _replace_plain_refs(value: Any, names: dict[str, Any]) -> Any:
    """Only ``{"Ref": X}`` (not GetAtt or Sub) for X in ``names``."""
    if isinstance(value, dict):
        if list(value) == ["Ref"] and value["Ref"] in names:
            return names[value["Ref"]]
        return {k: _replace_plain_refs(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_plain_refs(v, names) for v in value]
    return value


def references(value: Any) -> set[str]:
    """Logical ids referred to by Ref, Fn::GetAtt or ${...} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif fn == "Fn::GetAtt":
                found.add(str(arg[0] if isinstance(arg, list) else arg.split(".")[0]))
            elif fn == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
        for v in value.values():
            found |= references(v)
    elif isinstance(value, list):
        for v in value:
            found |= references(v)
    return found


def for_moto(transformed: dict[str, Any], supported: set[str], *, secret_arn: str, api_id: str) -> MotoTemplate:
    doc = copy.deepcopy(transformed)
    resources = doc["Resources"]
    removed = {k: v["Type"] for k, v in resources.items() if v["Type"] not in supported}
    stand_in: dict[str, Any] = {}
    for logical_id, kind in removed.items():
        if kind == "AWS::Lambda::Alias":
            stand_in[logical_id] = {"Ref": resources[logical_id]["Properties"]["FunctionName"]["Ref"]}
        elif kind == "AWS::ApiGatewayV2::Api":
            stand_in[logical_id] = api_id
        elif kind == "AWS::SecretsManager::Secret":
            stand_in[logical_id] = secret_arn
    refs_by_name = {}
    for logical_id, res in resources.items():
        if res["Type"] == "AWS::Events::EventBus" and logical_id not in removed:
            # moto's Ref of an event bus is its model object (GetFunctionConfiguration then fails to
            # serialise the environment); CloudFormation's Ref is the bus name: use the name itself
            refs_by_name[logical_id] = res["Properties"]["Name"]
    for logical_id in removed:
        del resources[logical_id]
    for res in resources.values():
        if isinstance(res.get("DependsOn"), list):
            res["DependsOn"] = [d for d in res["DependsOn"] if d not in removed]
        elif res.get("DependsOn") in removed:
            del res["DependsOn"]
    resources = _replace_refs(resources, stand_in)
    doc["Resources"] = {
        k: (v if k in refs_by_name else _replace_plain_refs(v, refs_by_name)) for k, v in resources.items()
    }
    # a conditional output of a removed resource (the edge's, off in the rehearsal) goes with it
    outputs = {
        k: v for k, v in doc.get("Outputs", {}).items() if not ("Condition" in v and references(v) & set(removed))
    }
    doc["Outputs"] = _replace_plain_refs(_replace_refs(outputs, stand_in), refs_by_name)
    leftover = sorted(set(removed) & references(doc))
    assert not leftover, f"still referenced after removal: {leftover}"
    secrets_removed = [k for k, v in removed.items() if v == "AWS::SecretsManager::Secret"]
    return MotoTemplate(doc, removed, secrets_removed)


def dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def s3_locations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every code and definition object the packaged template names."""
    out = []
    for res in doc["Resources"].values():
        p = res.get("Properties", {})
        for loc in (p.get("Code"), p.get("Content"), p.get("DefinitionS3Location")):
            if isinstance(loc, dict) and "S3Bucket" in loc:
                out.append((loc["S3Bucket"], loc["S3Key"]))
            elif isinstance(loc, dict) and "Bucket" in loc:
                out.append((loc["Bucket"], loc["Key"]))
    return out


# ---------------------------------------------------------------- AWS calls and the IAM actions they need
@dataclass(frozen=True)
class Call:
    function: str  # logical id
    service: str  # botocore service name
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Need:
    action: str
    resource: str


def needs(call: Call, region: str, account: str) -> list[Need]:
    """The IAM (action, resource) pairs AWS authorizes for one API call."""
    p = call.params

    def table_arn(name: str) -> str:
        return f"arn:aws:dynamodb:{region}:{account}:table/{name}"

    if call.service == "dynamodb":
        if call.operation == "TransactWriteItems":
            kinds = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            return [
                Need(f"dynamodb:{kinds[kind]}", table_arn(body["TableName"]))
                for item in p["TransactItems"]
                for kind, body in item.items()
            ]
        if call.operation == "TransactGetItems":
            return [Need("dynamodb:GetItem", table_arn(i["Get"]["TableName"])) for i in p["TransactItems"]]
        if call.operation in ("BatchGetItem", "BatchWriteItem"):
            return [Need(f"dynamodb:{call.operation}", table_arn(t)) for t in p["RequestItems"]]
        resource = table_arn(p["TableName"])
        if p.get("IndexName"):
            resource += f"/index/{p['IndexName']}"
        return [Need(f"dynamodb:{call.operation}", resource)]
    if call.service == "secretsmanager" and call.operation == "GetSecretValue":
        return [Need("secretsmanager:GetSecretValue", p["SecretId"])]
    if call.service == "stepfunctions":
        if call.operation == "StartExecution":
            return [Need("states:StartExecution", p["stateMachineArn"])]
        if call.operation == "DescribeExecution":
            return [Need("states:DescribeExecution", p["executionArn"])]
        if call.operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            return [Need(f"states:{call.operation}", "*")]
    if call.service == "events" and call.operation == "PutEvents":
        return [
            Need("events:PutEvents", f"arn:aws:events:{region}:{account}:event-bus/{e.get('EventBusName', 'default')}")
            for e in p["Entries"]
        ]
    raise AssertionError(f"no IAM mapping for {call.service}.{call.operation}: add it to needs()")


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(statements: list[dict[str, Any]], need: Need) -> bool:
    """IAM evaluation for Allow statements with Action/Resource wildcards (no Deny, no conditions used)."""
    for s in statements:
        if s.get("Effect") != "Allow":
            continue
        actions = [a.lower() for a in _listify(s.get("Action", []))]
        if not any(fnmatch.fnmatchcase(need.action.lower(), a) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(need.resource, str(r)) for r in _listify(s.get("Resource", []))):
            return True
    return False


class CallRecorder:
    """Records every botocore call made while a function is marked current in this thread."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._local = threading.local()
        self._original: Any = None

    @contextlib.contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        previous = getattr(self._local, "function", None)
        self._local.function = function
        try:
            yield
        finally:
            self._local.function = previous

    def install(self) -> None:
        recorder = self
        original = botocore.client.BaseClient._make_api_call
        self._original = original

        def recording(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = getattr(recorder._local, "function", None)
            if function is not None:
                service = client.meta.service_model.service_name
                recorder.calls.append(Call(function, service, operation_name, copy.deepcopy(api_params)))
            return original(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = recording  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            self._original = None


# ---------------------------------------------------------------- running handlers as Lambda would
@dataclass
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    handler: str
    timeout: int
    environment: dict[str, str]


@dataclass
class Runner:
    """Runs a deployed function's handler in this process with exactly its environment (plus where AWS
    is: moto's endpoint, fake credentials, the region), one invocation at a time."""

    functions: dict[str, DeployedFunction]
    aws_env: dict[str, str]
    recorder: CallRecorder
    reset: Callable[[], None]
    invocations: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def find(self, name_or_arn: str) -> DeployedFunction | None:
        base = name_or_arn.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        return next((f for f in self.functions.values() if base in (f.name, f.logical_id)), None)

    def invoke(self, function: str, event: Any) -> Any:
        from qpay_local.runtime import LambdaContext

        fn = self.find(function)
        assert fn is not None, function
        with self._lock:
            saved = dict(os.environ)
            try:
                for key in list(os.environ):
                    if key.startswith(("AWS_", "POWERTOOLS_", "CHECKOUT_")) or key in fn.environment:
                        del os.environ[key]
                os.environ.update(fn.environment)
                os.environ.update(self.aws_env)
                self.reset()
                module, _, attr = fn.handler.rpartition(".")
                handler = getattr(importlib.import_module(module), attr)
                context = LambdaContext(
                    function_name=fn.name,
                    memory_limit_in_mb=512,
                    invoked_function_arn=fn.arn,
                    aws_request_id=str(uuid.uuid4()),
                    timeout_s=float(fn.timeout),
                )
                self.invocations.append(fn.logical_id)
                with self.recorder.acting_as(fn.logical_id):
                    return handler(event, context)
            finally:
                os.environ.clear()
                os.environ.update(saved)
                self.reset()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )

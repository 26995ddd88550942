"""A deploy rehearsal, offline: the transformed template created in moto's CloudFormation (moto server,
``AWS_ENDPOINT_URL``), then one payment through the product's handlers configured only from that stack
(its outputs, and each function's environment read back from moto's Lambda): create -> pay on the
simulator's QPay page -> return -> webhooks -> refund through the state machine. Every AWS call a
handler makes must be granted by its function's role in the transformed template."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from infra.tools import validate
from tests.deploy import rehearsal
from tests.deploy.conftest import ROOT, print_report
from tests.support.apigw import http_event
from tests.support.webhooks import sign

SUCCESS_CARD = {"card": "4215375500883243", "expiry": "12/30", "pin": "123456"}
API_ID = "rehearsalapi"
BASE = f"https://{API_ID}.execute-api.{rehearsal.REGION}.amazonaws.com"


def _channel() -> str:
    return "pc_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(26))


class Deployed:
    """The stack in moto, the simulator, and a runner of its functions."""

    def __init__(self, transformed: dict[str, Any], tmp: Path) -> None:
        from moto.cloudformation.parsing import get_model_map

        from cko_sim import SimConfig, Simulator
        from qpay_local import sfn
        from qpay_local.keys import checkout_sandbox_secret_key
        from qpay_local.moto_world import MotoServer

        self.merchant_key = "mk_" + secrets.token_urlsafe(32)
        self.signing_key = "whsec_" + secrets.token_hex(24)
        self.checkout_key = checkout_sandbox_secret_key()
        self.moto = MotoServer()
        self.moto.start()
        self.endpoint = self.moto.url
        self.sim = Simulator(
            SimConfig(
                webhook_urls=[],  # recorded; the rehearsal delivers them to the webhook handler
                webhook_signing_key=self.signing_key,
                secret_key=self.checkout_key,
                require_processing_channel=True,
                time_scale=0.001,
                seed=11,
            )
        )
        self.sim.start(host="127.0.0.1", port=0)
        self.recorder = rehearsal.CallRecorder()
        self._stop: list[Any] = [self.sim.stop, self.moto.stop]
        aws = {svc: rehearsal.client(svc, self.endpoint) for svc in ("cloudformation", "s3", "secretsmanager")}

        # Secrets Manager is not in moto's CloudFormation: create the secret as GenerateSecretString would
        secret = aws["secretsmanager"].create_secret(
            Name=f"{rehearsal.STACK}-CheckoutKeysSecret",
            SecretString=json.dumps({"checkout_secret_key": "set-me", "server_key": secrets.token_urlsafe(48)}),
        )
        supported = set(get_model_map())
        self.moto_template = rehearsal.for_moto(transformed, supported, secret_arn=secret["ARN"], api_id=API_ID)
        locations = rehearsal.s3_locations(self.moto_template.template)
        for bucket in sorted({b for b, _ in locations}):
            aws["s3"].create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": rehearsal.REGION})
        for bucket, key in sorted(set(locations)):
            body = (ROOT / "infra/refund.asl.yaml").read_bytes() if key.endswith(".yaml") else rehearsal.dummy_zip()
            aws["s3"].put_object(Bucket=bucket, Key=key, Body=body)
        self.parameters = {
            "Stage": "dev",
            "CheckoutBaseUrl": self.sim.base_url,
            "ProcessingChannelId": _channel(),
            "StorefrontOrigins": "https://shop.rehearsal.example",
            "StorefrontSuccessUrl": "https://shop.rehearsal.example/thanks",
            "StorefrontFailureUrl": "https://shop.rehearsal.example/retry",
            "PublicBaseUrl": BASE,
            "RefundOutcomeTimeoutSeconds": "60",
        }
        cfn = aws["cloudformation"]
        cfn.create_stack(
            StackName=rehearsal.STACK,
            TemplateBody=json.dumps(self.moto_template.template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cfn.describe_stacks(StackName=rehearsal.STACK)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        listed = cfn.describe_stack_resources(StackName=rehearsal.STACK)["StackResources"]
        self.created = {r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId", "")) for r in listed}
        self.functions = self._functions()
        self.runner = rehearsal.Runner(
            self.functions,
            aws_env={
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": rehearsal.REGION,
                "AWS_DEFAULT_REGION": rehearsal.REGION,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            },
            recorder=self.recorder,
            reset=_reset_product,
        )
        self._finish_state_machine(transformed)
        self._stop.insert(0, sfn.install(lambda name: self.runner.find(name) is not None, self.runner.invoke))
        self.recorder.install()
        self._stop.insert(0, self.recorder.uninstall)

    def _functions(self) -> dict[str, rehearsal.DeployedFunction]:
        lam = rehearsal.client("lambda", self.endpoint)
        out = {}
        for logical_id, (kind, name) in self.created.items():
            if kind != "AWS::Lambda::Function":
                continue
            cfg = lam.get_function_configuration(FunctionName=name)
            # Lambda's environment is strings; moto hands back parameter values with their template types
            env = {k: str(v) for k, v in cfg["Environment"]["Variables"].items()}
            out[logical_id] = rehearsal.DeployedFunction(
                logical_id, name, cfg["FunctionArn"], cfg["Handler"], cfg["Timeout"], env
            )
        return out

    def _finish_state_machine(self, transformed: dict[str, Any]) -> None:
        """moto's CloudFormation keeps its state machines where its executing engine never looks, and never
        reads DefinitionS3Location: create the same machine (name, role) through the API, with the
        definition rendered as the Step Functions resource provider renders it (substitute, then parse)."""
        props = transformed["Resources"]["RefundStateMachine"]["Properties"]
        subs = {}
        for key, value in props["DefinitionSubstitutions"].items():
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                subs[key] = self.functions[value["Fn::GetAtt"][0]].arn
            elif isinstance(value, dict) and "Ref" in value:
                subs[key] = self.parameters[value["Ref"]]
            elif isinstance(value, dict) and rehearsal.ALIAS_ARN.match(str(value.get("Fn::Sub"))):
                # the live alias's ARN (moto has no aliases: the qualified ARN reaches the function)
                match = rehearsal.ALIAS_ARN.match(str(value["Fn::Sub"]))
                assert match is not None
                subs[key] = self.functions[match.group(1)].arn + ":live"
            else:
                subs[key] = value
        # time compressed as on the local stack (waits and retries sleep in real time on moto)
        from qpay_local.stack import DEFAULT_SFN_SUBSTITUTIONS

        subs.update(DEFAULT_SFN_SUBSTITUTIONS)
        definition = validate.render_asl(ROOT / "infra/refund.asl.yaml", subs)
        role_name = self.created[props["RoleArn"]["Fn::GetAtt"][0]][1]
        role_arn = rehearsal.client("iam", self.endpoint).get_role(RoleName=role_name)["Role"]["Arn"]
        created = rehearsal.client("stepfunctions", self.endpoint).create_state_machine(
            name=self.outputs["RefundStateMachineArn"].rsplit(":", 1)[-1],
            definition=json.dumps(definition),
            roleArn=role_arn,
            type=props.get("Type", "STANDARD"),
        )
        assert created["stateMachineArn"] == self.outputs["RefundStateMachineArn"]

    def update(self, transformed: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
        """``sam deploy`` of another template onto this stack: moto's UpdateStack, then the functions and
        the state machine read back as after the create. Returns the logical ids whose physical id
        changed (CloudFormation replaced them)."""
        from moto.cloudformation.parsing import get_model_map

        aws = {svc: rehearsal.client(svc, self.endpoint) for svc in ("cloudformation", "s3", "stepfunctions")}
        self.moto_template = rehearsal.for_moto(
            transformed, set(get_model_map()), secret_arn=self.outputs["SecretArn"], api_id=API_ID
        )
        for res in self.moto_template.template["Resources"].values():
            # moto 5.2's UpdateStack mishandles a Metadata-only change (the table's checkov skips): it
            # loses the resource ("Fn::GetAtt references undefined resource PaymentsTable"). CloudFormation
            # changes nothing for Metadata, so the update leaves it out
            res.pop("Metadata", None)
            if res["Type"] == "AWS::Lambda::Function":
                # moto 5.2's UpdateStack hands a function its layer's model object instead of the
                # layer version ARN and fails (AttributeError in split_layer_arn): the handlers run
                # in this process, so the update leaves layers out
                res["Properties"].pop("Layers", None)
        for bucket, key in sorted(set(rehearsal.s3_locations(self.moto_template.template))):
            body = (ROOT / "infra/refund.asl.yaml").read_bytes() if key.endswith(".yaml") else rehearsal.dummy_zip()
            aws["s3"].put_object(Bucket=bucket, Key=key, Body=body)
        self.parameters = {**self.parameters, **parameters}
        cfn = aws["cloudformation"]
        cfn.update_stack(
            StackName=rehearsal.STACK,
            TemplateBody=json.dumps(self.moto_template.template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cfn.describe_stacks(StackName=rehearsal.STACK)["Stacks"][0]
        assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
        before = self.created
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        listed = cfn.describe_stack_resources(StackName=rehearsal.STACK)["StackResources"]
        self.created = {r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId", "")) for r in listed}
        self.functions = self._functions()
        self.runner.functions = self.functions
        aws["stepfunctions"].delete_state_machine(stateMachineArn=self.outputs["RefundStateMachineArn"])
        self._finish_state_machine(transformed)
        return {k: v[1] for k, v in self.created.items() if k in before and before[k][1] != v[1]}

    def put_keys(self) -> None:
        """What the operator does after the first deploy: the secret named by the SecretArn output."""
        doc = rehearsal.secret_document(
            checkout_secret_key=self.checkout_key,
            webhook_signing_key=self.signing_key,
            merchant_api_key=self.merchant_key,
        )
        rehearsal.client("secretsmanager", self.endpoint).put_secret_value(
            SecretId=self.outputs["SecretArn"], SecretString=json.dumps(doc)
        )

    def http(self, function: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        route = kwargs.pop("route", None)
        response = self.runner.invoke(function, http_event(method, path, route=route, **kwargs))
        return dict(response)

    def deliver_webhooks(self) -> list[dict[str, Any]]:
        results = []
        for event in list(self.sim.webhooks.events):
            headers = {"content-type": "application/json", "cko-signature": sign(event.body, self.signing_key)}
            response = self.http("WebhookFunction", "POST", "/webhooks/checkout", raw_body=event.body, headers=headers)
            assert response["statusCode"] == 200, response
            results.append(json.loads(response["body"]))
        self.sim.webhooks.clear()
        return results

    def close(self) -> None:
        for stop in self._stop:
            stop()


def _reset_product() -> None:
    import boto3

    from qpay import deps

    boto3.DEFAULT_SESSION = None
    deps.reset()


@pytest.fixture(scope="module")
def deployed(transformed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    stack = Deployed(transformed, tmp_path_factory.mktemp("rehearsal"))
    try:
        yield stack
    finally:
        stack.close()


def test_the_transformed_template_creates_in_moto(deployed: Deployed, transformed: dict[str, Any]) -> None:
    created = {k: v[0] for k, v in deployed.created.items()}
    removed = deployed.moto_template.removed
    assert set(created) | set(removed) == set(transformed["Resources"])
    by_type: dict[str, list[str]] = {}
    for logical_id, kind in sorted(removed.items()):
        by_type.setdefault(kind, []).append(logical_id)
    print_report(
        f"moto created {len(created)} of {len(transformed['Resources'])} resources: "
        + ", ".join(sorted({f"{k} x{list(created.values()).count(k)}" for k in created.values()})),
        "not in moto's CloudFormation (removed, references rewired):",
        *(f"  {kind}: {', '.join(ids)}" for kind, ids in sorted(by_type.items())),
    )
    for kind in ("AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine"):
        assert kind in created.values(), kind
    assert set(deployed.functions) == {
        k for k, v in transformed["Resources"].items() if v["Type"] == "AWS::Lambda::Function"
    }
    env = deployed.functions["CreatePaymentFunction"].environment
    assert env["TABLE_NAME"] == deployed.outputs["TableName"] == deployed.created["PaymentsTable"][1]
    assert env["SECRET_ID"] == deployed.outputs["SecretArn"]
    assert env["STAGE"] == "dev" and env["PROCESSING_CHANNEL_ID"] == deployed.parameters["ProcessingChannelId"]
    refund_env = deployed.functions["RefundRequestFunction"].environment
    assert refund_env["REFUND_STATE_MACHINE_ARN"] == deployed.outputs["RefundStateMachineArn"]


def test_one_payment_from_create_to_refund(deployed: Deployed) -> None:
    deployed.put_keys()
    auth = {"authorization": f"Bearer {deployed.merchant_key}"}
    body = {
        "reference": "ORD-REHEARSAL-1",
        "amount": 12500,
        "currency": "QAR",
        "description": "Rehearsal order",
        "language": "en",
        "quantity": 1,
        "national_id": "28763400000",
    }
    created = deployed.http(
        "CreatePaymentFunction", "POST", "/payments", body=body, headers={**auth, "idempotency-key": "rehearsal-1"}
    )
    assert created["statusCode"] == 201, created
    payment = json.loads(created["body"])
    assert payment["redirect_url"]

    (cko,) = [p for p in deployed.sim.payments.values() if p.reference == body["reference"]]
    back = urlparse(deployed.sim.pay(cko.id, **SUCCESS_CARD))
    assert f"{back.scheme}://{back.netloc}" == BASE and back.path == "/payments/return/success"
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    returned = deployed.http("PaymentReturnFunction", "GET", back.path, query=query, body=None)
    assert returned["statusCode"] == 303
    assert returned["headers"]["Location"].startswith("https://shop.rehearsal.example/thanks")

    deployed.deliver_webhooks()
    view = _get(deployed, payment["id"], auth)
    assert view["status"] == "Captured"

    refund = deployed.http(
        "RefundRequestFunction",
        "POST",
        f"/payments/{payment['id']}/refunds",
        route="POST /payments/{id}/refunds",
        path_params={"id": payment["id"]},
        body={},
        headers={"idempotency-key": "refund-1"},
        iam_user_arn=f"arn:aws:iam::{rehearsal.ACCOUNT}:user/back-office",
    )
    assert refund["statusCode"] == 202, refund
    sfn = rehearsal.client("stepfunctions", deployed.endpoint)
    arn = deployed.outputs["RefundStateMachineArn"]
    deadline = time.monotonic() + 120
    status = "RUNNING"
    while time.monotonic() < deadline:
        deployed.deliver_webhooks()
        (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
        status = execution["status"]
        if status != "RUNNING":
            break
        time.sleep(0.2)
    assert status == "SUCCEEDED", sfn.get_execution_history(executionArn=execution["executionArn"])
    view = _get(deployed, payment["id"], auth)
    assert view["status"] == "Refunded" and view["refunded_amount"] == 12500
    assert {"CreatePaymentFunction", "PaymentReturnFunction", "WebhookFunction", "GetPaymentFunction"} <= set(
        deployed.runner.invocations
    )
    assert {"RefundRequestFunction", "RefundTaskFunction"} <= set(deployed.runner.invocations)


def _get(deployed: Deployed, payment_id: str, auth: dict[str, str]) -> dict[str, Any]:
    got = deployed.http(
        "GetPaymentFunction",
        "GET",
        f"/payments/{payment_id}",
        route="GET /payments/{id}",
        path_params={"id": payment_id},
        headers=auth,
    )
    assert got["statusCode"] == 200, got
    return dict(json.loads(got["body"]))


def test_every_call_is_granted_by_the_functions_role(deployed: Deployed, transformed: dict[str, Any]) -> None:
    """Runs after the payment: each recorded call maps to IAM actions its role allows, on its resources."""

    calls = deployed.recorder.calls
    assert calls, "the payment test records the calls; run the module, not this test alone"
    resolver = _resolver(deployed, transformed)
    res = transformed["Resources"]
    seen: dict[str, set[str]] = {}
    for call in calls:
        role = res[res[call.function]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        statements = [
            s for policy in role.get("Policies", []) for s in rehearsal._listify(policy["PolicyDocument"]["Statement"])
        ]
        statements = resolver.resolve(statements)
        for need in rehearsal.needs(call, rehearsal.REGION, rehearsal.ACCOUNT):
            assert rehearsal.allowed(statements, need), f"{call.function} calls {call.operation}: {need} not granted"
            seen.setdefault(call.function, set()).add(f"{need.action} {need.resource.rsplit(':', 1)[-1]}")
    print_report("IAM: every call granted:", *(f"  {fn}: {sorted(v)}" for fn, v in sorted(seen.items())))
    assert {"dynamodb", "secretsmanager", "stepfunctions"} <= {c.service for c in calls}
    from infra.build.trim_endpoints import CLIENTS

    assert {c.service for c in calls} <= set(CLIENTS)  # the trimmed endpoints keep every service used


def _resolver(deployed: Deployed, transformed: dict[str, Any]) -> Any:
    from qpay_local.template import Resolver

    refs: dict[str, Any] = {
        "AWS::Region": rehearsal.REGION,
        "AWS::AccountId": rehearsal.ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::StackName": rehearsal.STACK,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": None,
        **{k: str(v["Default"]) for k, v in transformed.get("Parameters", {}).items() if "Default" in v},
        **deployed.parameters,
    }
    attrs: dict[str, Any] = {}
    ddb = rehearsal.client("dynamodb", deployed.endpoint)
    for logical_id, (kind, physical) in deployed.created.items():
        refs[logical_id] = physical
        if kind == "AWS::DynamoDB::Table":
            table = ddb.describe_table(TableName=physical)["Table"]
            attrs[f"{logical_id}.Arn"] = table["TableArn"]
            attrs[f"{logical_id}.StreamArn"] = table.get("LatestStreamArn")
        elif kind == "AWS::Lambda::Function":
            attrs[f"{logical_id}.Arn"] = deployed.functions[logical_id].arn
        elif kind == "AWS::Events::EventBus":
            attrs[f"{logical_id}.Arn"] = f"arn:aws:events:{rehearsal.REGION}:{rehearsal.ACCOUNT}:event-bus/{physical}"
        elif kind == "AWS::SQS::Queue":
            attrs[f"{logical_id}.Arn"] = (
                f"arn:aws:sqs:{rehearsal.REGION}:{rehearsal.ACCOUNT}:{physical.rsplit('/', 1)[-1]}"
            )
    for secret in deployed.moto_template.secret_ids:
        refs[secret] = deployed.outputs["SecretArn"]
    return Resolver(refs, attrs, conditions=transformed.get("Conditions"))

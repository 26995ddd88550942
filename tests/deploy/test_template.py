"""What must hold in the TRANSFORMED template (what CloudFormation creates), read from the gate's
output: alarms reach a person, two stacks can share an account, canaries watch only the new version,
batches fit their timeout, IAM is what the code needs, prod cannot start on local defaults."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.deploy.conftest import ROOT, STACK, print_report, resources_of
from tests.support.template import template

API_FUNCTIONS = ("CreatePayment", "GetPayment", "PaymentReturn", "Webhook", "RefundRequest")
LOCAL = re.compile(r"localhost|127\.0\.0\.1")


# ---------------------------------------------------------------- alarms reach a person (F2)
def _arn_target(value: Any) -> str | None:
    """The logical id an alarm action refers to (Ref or GetAtt)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def _statements(doc: Any) -> list[dict[str, Any]]:
    stmts = doc.get("Statement", [])
    return [stmts] if isinstance(stmts, dict) else list(stmts)


def _allows(stmt: dict[str, Any], service: str, action: str) -> bool:
    principal = stmt.get("Principal", {})
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    services = [services] if isinstance(services, str) else services
    actions = stmt.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return (
        stmt.get("Effect") == "Allow"
        and service in services
        and any(re.fullmatch(a.replace("*", ".*"), action) for a in actions)
    )


def _pinned_to_account(stmt: dict[str, Any]) -> bool:
    cond = stmt.get("Condition", {})
    return cond.get("StringEquals", {}).get("aws:SourceAccount") == {"Ref": "AWS::AccountId"}


def test_every_alarm_action_reaches_a_topic_cloudwatch_can_publish_to(transformed: dict[str, Any]) -> None:
    res = transformed["Resources"]
    alarms = resources_of(transformed, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 30
    topic_policies = resources_of(transformed, "AWS::SNS::TopicPolicy")
    for name, alarm in alarms.items():
        actions = [*alarm["Properties"].get("AlarmActions", []), *alarm["Properties"].get("OKActions", [])]
        assert alarm["Properties"].get("AlarmActions"), f"{name} notifies nobody"
        for action in actions:
            topic_id = _arn_target(action)
            assert topic_id is not None and res[topic_id]["Type"] == "AWS::SNS::Topic", (name, action)
            key_ref = res[topic_id]["Properties"].get("KmsMasterKeyId")
            if key_ref is not None:
                key_id = _arn_target(key_ref)
                assert key_id is not None, f"{topic_id}: an AWS-managed key cannot let CloudWatch publish ({key_ref})"
                key = res[key_id]
                assert key["Type"] == "AWS::KMS::Key"
                stmts = _statements(key["Properties"]["KeyPolicy"])
                for needed in ("kms:GenerateDataKey", "kms:Decrypt"):
                    assert any(
                        _allows(s, "cloudwatch.amazonaws.com", needed) and _pinned_to_account(s) for s in stmts
                    ), (key_id, needed)
                assert key["Properties"]["EnableKeyRotation"] is True
            published = [
                s
                for p in topic_policies.values()
                if {"Ref": topic_id} in p["Properties"]["Topics"]
                for s in _statements(p["Properties"]["PolicyDocument"])
            ]
            assert any(
                _allows(s, "cloudwatch.amazonaws.com", "sns:Publish") and _pinned_to_account(s) for s in published
            )


def test_alarm_subscriptions_are_optional_parameters_and_prod_needs_one() -> None:
    t = template()
    subs = {v["Properties"]["Protocol"]: v for v in t["Resources"].values() if v["Type"] == "AWS::SNS::Subscription"}
    assert subs["email"]["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subs["https"]["Properties"]["Endpoint"] == {"Ref": "AlarmHttpsEndpoint"}
    assert t["Parameters"]["AlarmEmail"]["Default"] == "" == t["Parameters"]["AlarmHttpsEndpoint"]["Default"]
    rule = t["Rules"]["ProdAlarmsReachSomeone"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert "AlarmEmail" in json.dumps(rule["Assertions"]) and "AlarmHttpsEndpoint" in json.dumps(rule["Assertions"])


def test_the_new_alarms_count_the_products_metrics() -> None:
    res = template()["Resources"]
    for metric in ("SecretsInvalid", "WebhookAnomalies", "PaymentsCapturedAfterEnd"):
        p = res[f"{metric}Alarm"]["Properties"]
        assert (p["Namespace"], p["MetricName"], p["Dimensions"]) == (
            "QPay",
            metric,
            [{"Name": "service", "Value": "qpay"}],
        )
        assert (p["Statistic"], p["Period"], p["Threshold"], p["ComparisonOperator"]) == (
            "Sum",
            300,
            1,
            "GreaterThanOrEqualToThreshold",
        )
        runbook = re.search(r"docs/runbooks/([\w-]+\.md)", p["AlarmDescription"]["Fn::Sub"])
        assert runbook is not None and (ROOT / "docs/runbooks" / runbook.group(1)).exists()


# ---------------------------------------------------------------- two stacks per account (F4)
#: Name-like properties that are not account-wide names (scoped to a parent, or a reference).
NOT_ACCOUNT_WIDE = {
    ("AWS::Lambda::Alias", "Name"): "an alias name is per function",
    ("AWS::ApiGatewayV2::Stage", "StageName"): "a stage name is per API",
    ("AWS::CodeDeploy::DeploymentGroup", "DeploymentConfigName"): "names an AWS-provided configuration",
    ("AWS::CodeDeploy::DeploymentGroup", "ApplicationName"): "refers to the stack's own application",
    ("AWS::CloudWatch::Alarm", "MetricName"): "the metric an alarm counts, not the alarm's name",
    ("AWS::ApiGatewayV2::DomainName", "DomainName"): "the operator's own DNS name (parameter OriginDomainName)",
}


def _mentions_stack(value: Any) -> bool:
    text = json.dumps(value)
    return STACK in text or "AWS::StackName" in text


def test_every_explicit_name_derives_from_the_stack_name(transformed: dict[str, Any]) -> None:
    res = transformed["Resources"]
    checked = []
    for logical_id, r in res.items():
        for prop, value in (r.get("Properties") or {}).items():
            if not prop.endswith("Name") or (r["Type"], prop) in NOT_ACCOUNT_WIDE:
                continue
            target = _arn_target(value)
            if target is not None and target in res:
                continue  # a reference to another resource of this stack (e.g. FunctionName)
            checked.append(f"{r['Type']}.{prop} ({logical_id})")
            assert _mentions_stack(value), f"{logical_id}.{prop} = {value}: two stacks in one account would collide"
    print_report("names derived from the stack:", *checked)
    kinds = {c.split(" ")[0] for c in checked}
    assert {
        "AWS::Scheduler::Schedule.Name",
        "AWS::StepFunctions::StateMachine.StateMachineName",
        "AWS::Events::EventBus.Name",
        "AWS::Logs::LogGroup.LogGroupName",
        "AWS::Lambda::LayerVersion.LayerName",
    } <= kinds


def test_each_function_logs_to_its_own_log_group(transformed: dict[str, Any]) -> None:
    """F19: the group exists before the function first runs (a schedule firing during the first
    deploy would otherwise make Lambda create it, and the stack's own create would fail)."""
    groups = resources_of(transformed, "AWS::Logs::LogGroup")
    fns = resources_of(transformed, "AWS::Lambda::Function")
    assert len(fns) == 10
    for name, fn in fns.items():
        ref = fn["Properties"]["LoggingConfig"]["LogGroup"]
        assert ref == {"Ref": name.removesuffix("Function") + "LogGroup"}, name
        assert ref["Ref"] in groups
        assert fn["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"


# ---------------------------------------------------------------- canaries (F10, D3)
FUNCTIONS = (*API_FUNCTIONS, "RefundTask", "Expiry", "Sweep", "Outbox", "Reconcile")


def test_deployments_roll_back_on_the_new_versions_errors_only(transformed: dict[str, Any]) -> None:
    """D3: every function, not only the API's, shifts traffic through CodeDeploy and rolls back on the
    errors of the version being deployed."""
    res = transformed["Resources"]
    groups = resources_of(transformed, "AWS::CodeDeploy::DeploymentGroup")
    assert len(groups) == len(FUNCTIONS) == len(resources_of(transformed, "AWS::Lambda::Function"))
    for fn in FUNCTIONS:
        group = groups[f"{fn}FunctionDeploymentGroup"]["Properties"]
        (alarm_ref,) = group["AlarmConfiguration"]["Alarms"]
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert group["AutoRollbackConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        alarm = res[alarm_ref["Name"]["Ref"]]["Properties"]
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        version_id = dims["ExecutedVersion"]["Fn::GetAtt"][0]
        assert res[version_id]["Type"] == "AWS::Lambda::Version"
        assert res[version_id]["Properties"]["FunctionName"] == {"Ref": f"{fn}Function"}
        assert dims["FunctionName"] == {"Ref": f"{fn}Function"}
        assert dims["Resource"] == {"Fn::Sub": f"${{{fn}Function}}:live"}
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == ("Errors", "Sum", 1)
        assert "Api5xxAlarm" not in json.dumps(group)  # paging, not rollback (and it would be a cycle)
        alias = res[f"{fn}FunctionAliaslive"]
        assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"] == {
            "Ref": f"{fn}FunctionDeploymentGroup"
        }
    assert res["Api5xxAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_trigger_invokes_the_live_alias(transformed: dict[str, Any]) -> None:
    """D3: a bad refund task or stream consumer rolls back like a bad API function only if what invokes
    it goes through the alias CodeDeploy shifts."""
    res = transformed["Resources"]
    mappings = resources_of(transformed, "AWS::Lambda::EventSourceMapping")
    assert {m["Properties"]["FunctionName"]["Ref"] for m in mappings.values()} == {
        "ExpiryFunctionAliaslive",
        "OutboxFunctionAliaslive",
    }
    schedules = resources_of(transformed, "AWS::Scheduler::Schedule")
    assert {s["Properties"]["Target"]["Arn"]["Ref"] for s in schedules.values()} == {
        "SweepFunctionAliaslive",
        "ReconcileStateMachine",  # its tasks invoke ReconcileFunction's alias (tests/ops/test_reconcile_fanout.py)
    }
    for name, perm in resources_of(transformed, "AWS::Lambda::Permission").items():
        target = perm["Properties"]["FunctionName"]["Ref"]
        assert res[target]["Type"] == "AWS::Lambda::Alias", name  # the API routes too
    machine = res["RefundStateMachine"]["Properties"]
    assert machine["DefinitionSubstitutions"]["RefundTaskFunctionArn"] == {"Fn::Sub": "${RefundTaskFunction.Arn}:live"}
    asl = (ROOT / "infra/refund.asl.yaml").read_text()
    assert asl.count("FunctionName: ${RefundTaskFunctionArn}") >= 4
    assert "arn:aws:lambda" not in asl  # no task names a function another way
    role = machine["RoleArn"]["Fn::GetAtt"][0]
    invoke = [
        s["Resource"]
        for pol in res[role]["Properties"]["Policies"]
        for s in _statements(pol["PolicyDocument"])
        if "lambda:InvokeFunction" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    # SAM's LambdaInvokePolicy grants function:<name>* (the qualified alias ARN included)
    assert invoke == [
        {
            "Fn::Sub": [
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*",
                {"functionName": {"Ref": "RefundTaskFunction"}},
            ]
        }
    ]


def test_reserved_concurrency_is_off_by_default() -> None:
    """F6: 77 reserved fails on accounts whose quota is below 177 (README says when to turn it on)."""
    assert template()["Parameters"]["ReserveConcurrency"]["Default"] == "false"


# ---------------------------------------------------------------- time budgets (F11)
def test_an_expiry_batch_fits_the_functions_timeout(transformed: dict[str, Any], monkeypatch: Any) -> None:
    from qpay import settings

    per_record_s = float(settings.Settings.__dataclass_fields__["checkout_deadline_s"].default)  # the default
    fn = transformed["Resources"]["ExpiryFunction"]["Properties"]
    (mapping,) = [
        m["Properties"]
        for m in resources_of(transformed, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": "ExpiryFunctionAliaslive"}
    ]
    batch, timeout = mapping["BatchSize"], fn["Timeout"]
    print_report(
        f"expiry batch: {batch} records x {per_record_s:g} s Checkout budget = {batch * per_record_s:g} s < {timeout} s"
    )
    assert batch * per_record_s < timeout


# ---------------------------------------------------------------- IAM (F13, F15, new code)
def _policy_statements(transformed: dict[str, Any], function: str) -> list[dict[str, Any]]:
    res = transformed["Resources"]
    role = res[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    out: list[dict[str, Any]] = []
    for policy in res[role]["Properties"].get("Policies", []):
        out += _statements(policy["PolicyDocument"])
    return out


def _grants(stmts: list[dict[str, Any]], action: str) -> list[Any]:
    found = []
    for s in stmts:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if s["Effect"] == "Allow" and action in actions:
            found += s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
    return found


def test_send_task_success_is_granted_on_star(transformed: dict[str, Any]) -> None:
    for fn in ("WebhookFunction", "RefundTaskFunction", "ReconcileFunction"):
        assert _grants(_policy_statements(transformed, fn), "states:SendTaskSuccess") == ["*"], fn


def test_the_new_codes_permissions(transformed: dict[str, Any]) -> None:
    secret = {"Ref": "CheckoutKeysSecret"}
    behind_the_edge = {"Fn::If": ["UseEdge", {"Ref": "OriginVerifySecret"}, {"Ref": "AWS::NoValue"}]}
    assert _grants(_policy_statements(transformed, "GetPaymentFunction"), "secretsmanager:GetSecretValue") == [
        secret,
        behind_the_edge,  # the origin-verify values (test_edge.py)
    ]
    assert _grants(_policy_statements(transformed, "WebhookFunction"), "dynamodb:Query") == [
        {"Fn::GetAtt": ["PaymentsTable", "Arn"]},  # a refund outcome reads the payment and its refunds
        {"Fn::Sub": "${PaymentsTable.Arn}/index/by-cko-id"},
    ]
    assert {"Fn::Sub": "${PaymentsTable.Arn}/index/open-refunds"} in _grants(
        _policy_statements(transformed, "SweepFunction"), "dynamodb:Query"
    )
    assert _grants(_policy_statements(transformed, "SweepFunction"), "states:StartExecution")
    assert _grants(_policy_statements(transformed, "RefundRequestFunction"), "states:DescribeExecution") == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-refunds:*"
        }
    ]
    assert _grants(_policy_statements(transformed, "ReconcileFunction"), "dynamodb:Query") == [
        {"Fn::GetAtt": ["PaymentsTable", "Arn"]},
        {"Fn::Sub": "${PaymentsTable.Arn}/index/changed-by-day"},  # D8: not index/*
    ]


def test_unused_permissions_are_gone(transformed: dict[str, Any]) -> None:
    """F15: only CreatePayment's transaction uses a ConditionCheck; the return path puts only an anomaly
    record (an answer about another Checkout payment), never a payment."""
    for fn in ("RefundRequestFunction", "RefundTaskFunction", "ReconcileFunction", "PaymentReturnFunction"):
        assert not _grants(_policy_statements(transformed, fn), "dynamodb:ConditionCheckItem"), fn
    assert not _grants(_policy_statements(transformed, "PaymentReturnFunction"), "dynamodb:DeleteItem")


# ---------------------------------------------------------------- prod cannot go live on local defaults (F3, F5)
def test_no_parameter_defaults_to_a_local_address() -> None:
    params = template()["Parameters"]
    for name in ("StorefrontSuccessUrl", "StorefrontFailureUrl", "StorefrontOrigins"):
        assert "Default" not in params[name], f"{name} must be given (CloudFormation refuses to start without it)"
    for name, p in params.items():
        assert not LOCAL.search(str(p.get("Default", ""))), name


def test_urls_are_https_except_to_localhost() -> None:
    params = template()["Parameters"]
    good = ["https://shop.example.qa/orders/thanks", "https://shop.example.qa", "http://localhost:3000/shop/result"]
    bad = ["http://shop.example.qa/thanks", "ftp://shop.example.qa", "https://", "http://localhost.evil.qa/x"]
    for name in ("StorefrontSuccessUrl", "StorefrontFailureUrl", "CheckoutBaseUrl", "PublicBaseUrl"):
        pattern = re.compile(params[name]["AllowedPattern"])
        assert all(pattern.fullmatch(u) for u in good), name
        assert not any(pattern.fullmatch(u) for u in bad), name
    origins = re.compile(params["StorefrontOrigins"]["AllowedPattern"])
    assert origins.fullmatch("https://shop.example.qa") and origins.fullmatch("http://127.0.0.1:3000")
    assert not origins.fullmatch("https://shop.example.qa/path") and not origins.fullmatch("http://shop.example.qa")


def test_processing_channel_is_required_unless_the_key_is_single_channel() -> None:
    t = template()
    pattern = re.compile(t["Parameters"]["ProcessingChannelId"]["AllowedPattern"])
    assert pattern.fullmatch("pc_" + "a2" * 13) and pattern.fullmatch("")
    assert not pattern.fullmatch("pc_" + "a1" * 13) and not pattern.fullmatch("pc_short")
    assert t["Parameters"]["SingleChannelKey"] == {
        "Type": "String",
        "Default": "false",
        "AllowedValues": ["true", "false"],
        "Description": t["Parameters"]["SingleChannelKey"]["Description"],
    }
    rule = t["Rules"]["ProcessingChannelRequired"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "SingleChannelKey"}, "false"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ProcessingChannelId"}, ""]}]}


def test_the_rules_survive_the_transform(transformed: dict[str, Any]) -> None:
    assert transformed["Rules"] == template()["Rules"]


def test_every_function_gets_stage_and_the_single_channel_flag(transformed: dict[str, Any]) -> None:
    for name, fn in resources_of(transformed, "AWS::Lambda::Function").items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["STAGE"] == {"Ref": "Stage"}, name
        assert env["CHECKOUT_SINGLE_CHANNEL_KEY"] == {"Ref": "SingleChannelKey"}, name
        assert env["AWS_DATA_PATH"] == "/opt/botocore_data", name


def test_cors_keeps_its_methods_and_headers_and_origins_stay_a_list(transformed: dict[str, Any]) -> None:
    """F20: an intrinsic AllowOrigins makes the transform replace the whole CORS object with it; the
    template wraps the whole configuration in an always-true Fn::If, which the transform keeps."""
    (api,) = resources_of(transformed, "AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["Body"]["x-amazon-apigateway-cors"]
    condition, config, otherwise = cors["Fn::If"]
    assert transformed["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::StackName"}, ""]}]}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert config == {
        "allowOrigins": {"Ref": "StorefrontOrigins"},  # CloudFormation resolves a CommaDelimitedList to a list
        "allowMethods": ["GET", "POST", "OPTIONS"],
        "allowHeaders": ["content-type", "idempotency-key", "x-order-token", "x-client-secret"],
        "maxAge": 600,
    }


# ---------------------------------------------------------------- the secret (contract, F9, F17)
def test_the_secret_starts_with_refused_placeholders_and_outlives_the_stack() -> None:
    secret = template()["Resources"]["CheckoutKeysSecret"]
    # D10: a failed first create leaves no placeholder secret behind; deletes and replacements keep it
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    gen = secret["Properties"]["GenerateSecretString"]
    doc = json.loads(gen["SecretStringTemplate"])
    assert doc == {
        "checkout_secret_key": "set-me",
        "webhook_signing_keys": ["set-me"],
        "merchant_api_keys": ["set-me"],
        "order_token_keys": {"set-me": "set-me"},
    }
    assert gen["GenerateStringKey"] == "server_key"
    assert gen["PasswordLength"] >= 32

"""Provisioning: the template's resources created on the local AWS (tables, secrets, queues, event buses,
topics, Lambda functions, state machines), and the resolver that maps their Refs and GetAtts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from qpay_local import sfn, timing
from qpay_local.eventbus import EventTap
from qpay_local.ids import ACCOUNT_ID, rand
from qpay_local.keys import secret_document
from qpay_local.moto_world import create_table
from qpay_local.runtime import LocalFunction
from qpay_local.template import Resolver

if TYPE_CHECKING:
    from qpay_local.stack import LocalStack


def parameters(stack: LocalStack) -> dict[str, Any]:
    assert stack._api is not None
    api = stack._api.base_url
    values: dict[str, Any] = stack.template.parameter_defaults()
    values.update(
        {
            "PublicBaseUrl": api,
            "StorefrontSuccessUrl": f"{api}/shop/result",
            "StorefrontFailureUrl": f"{api}/shop/result",
            "StorefrontOrigins": f"{api},http://localhost:{stack._api.port}",
            "ProcessingChannelId": "pc_" + rand(26, "abcdefghijklmnopqrstuvwxyz234567"),
        }
    )
    if stack.sim is not None:
        values["CheckoutBaseUrl"] = stack.sim.base_url
    values.update({k: str(v) for k, v in stack.parameter_overrides.items()})
    if stack.extra_cors_origins:
        known = [o.strip() for o in str(values.get("StorefrontOrigins", "")).split(",") if o.strip()]
        values["StorefrontOrigins"] = ",".join(dict.fromkeys([*known, *stack.extra_cors_origins]))
    return {k: v for k, v in values.items() if k in stack.template.parameters}


def create_resources(stack: LocalStack) -> Resolver:  # noqa: PLR0915 - one pass over the template's resources
    t = stack.template
    p = f"arn:aws:{{}}:{stack.region}:{ACCOUNT_ID}:"
    refs: dict[str, Any] = {
        "AWS::Region": stack.region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack.stack_name,
        "AWS::StackId": p.format("cloudformation") + f"stack/{stack.stack_name}/{rand(8)}",
        "AWS::NoValue": None,
    }
    attrs: dict[str, Any] = {}
    # Generic fallbacks for resources the local stack does not create (log groups, ...).
    for logical_id in t.resources:
        refs[logical_id] = f"{stack.stack_name}-{logical_id}"
        attrs[f"{logical_id}.Arn"] = p.format("local") + f"{stack.stack_name}-{logical_id}"
    refs.update(parameters(stack))
    types = {k: str(v.get("Type", "String")) for k, v in t.parameters.items()}
    resolver = Resolver(refs, attrs, types, t.doc.get("Conditions"))

    ddb = stack.client("dynamodb")
    for logical_id, res in t.of_type("AWS::DynamoDB::Table").items():
        props = res.get("Properties", {})
        name = str(resolver.resolve(props.get("TableName", f"{stack.stack_name}-{logical_id}")))
        desc = create_table(ddb, name, props)
        refs[logical_id] = name
        attrs[f"{logical_id}.Arn"] = desc["TableArn"]
        stack.table_names[logical_id] = name
        if desc.get("LatestStreamArn"):
            attrs[f"{logical_id}.StreamArn"] = desc["LatestStreamArn"]
            stack.stream_arns[logical_id] = desc["LatestStreamArn"]
    stack.table_name = next(iter(stack.table_names.values()), "")

    sm = stack.client("secretsmanager")
    for logical_id, res in t.of_type("AWS::SecretsManager::Secret").items():
        if not resolver.active(res):  # e.g. the origin-verify secret exists only behind the edge
            continue
        props = res.get("Properties", {})
        name = str(resolver.resolve(props.get("Name", f"{stack.stack_name}/{logical_id}")))
        value = props.get("SecretString")
        if value is None:  # the keys secret (GenerateSecretString): our fresh local keys
            value = json.dumps(secret_document(stack.local_keys))
        arn = sm.create_secret(Name=name, SecretString=str(resolver.resolve(value)))["ARN"]
        refs[logical_id] = arn
        attrs[f"{logical_id}.Id"] = arn
        stack.secret_arns[logical_id] = arn

    sqs = stack.client("sqs")
    for logical_id, res in t.of_type("AWS::SQS::Queue").items():
        props = res.get("Properties", {})
        name = str(resolver.resolve(props.get("QueueName", f"{stack.stack_name}-{logical_id}")))
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        qattrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        refs[logical_id] = url
        attrs[f"{logical_id}.Arn"] = qattrs["QueueArn"]
        attrs[f"{logical_id}.QueueName"] = name
        attrs[f"{logical_id}.QueueUrl"] = url
        stack.queue_urls[logical_id] = url

    buses = t.of_type("AWS::Events::EventBus")
    if buses:
        stack.event_tap = EventTap(stack.client("events"), sqs)
        stack.extra_apps["/_local/events"] = stack.event_tap.wsgi
    for logical_id, res in buses.items():
        assert stack.event_tap is not None
        name = str(resolver.resolve(res.get("Properties", {}).get("Name", f"{stack.stack_name}-{logical_id}")))
        refs[logical_id] = name
        attrs[f"{logical_id}.Arn"] = stack.event_tap.create_bus(name)
        attrs[f"{logical_id}.Name"] = name
        stack.event_bus_names[logical_id] = name

    sns = stack.client("sns")
    for logical_id, res in t.of_type("AWS::SNS::Topic").items():
        name = str(resolver.resolve(res.get("Properties", {}).get("TopicName", f"{stack.stack_name}-{logical_id}")))
        arn = sns.create_topic(Name=name)["TopicArn"]
        refs[logical_id] = arn
        attrs[f"{logical_id}.TopicArn"] = arn
        stack.topic_arns[logical_id] = arn

    lam = stack.client("lambda")
    iam = stack.client("iam")
    functions: dict[str, LocalFunction] = {}
    for logical_id, fn in t.functions().items():
        name = f"{stack.stack_name}-{logical_id}"
        arn = sfn.create_lambda(lam, iam, name, fn.handler, fn.timeout, fn.memory)
        refs[logical_id] = name
        attrs[f"{logical_id}.Arn"] = arn
        functions[logical_id] = LocalFunction(fn, name, arn)

    for logical_id, res in t.of_type("AWS::Serverless::StateMachine").items():
        props = res.get("Properties", {})
        name = str(resolver.resolve(props.get("Name", f"{stack.stack_name}-{logical_id}")))
        arn = p.format("states") + f"stateMachine:{name}"
        refs[logical_id] = arn
        attrs[f"{logical_id}.Arn"] = arn
        attrs[f"{logical_id}.Name"] = name
    for logical_id in t.of_type("AWS::Serverless::HttpApi"):
        refs[logical_id] = stack.api_id
    stack.functions = functions
    return resolver


def create_state_machines(stack: LocalStack, resolver: Resolver) -> None:
    client_sfn = stack.client("stepfunctions")
    iam = stack.client("iam")
    role = sfn.ensure_role(iam, "qpay-local-states", "states.amazonaws.com")
    for logical_id, res in stack.template.of_type("AWS::Serverless::StateMachine").items():
        props = res.get("Properties", {})
        subs = {k: resolver.resolve(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
        if stack.compress_time:
            subs = timing.workflow_substitutions(subs, stack.time_scale)
        subs.update(stack.sfn_substitutions)
        if logical_id == "RefundStateMachine":  # the refund workflow's timings (report.py prints them)
            stack.effective_sfn_substitutions = {k: v for k, v in subs.items() if not str(k).endswith("Arn")}
        if "DefinitionUri" in props:
            definition = sfn.render_definition(stack.template.root / str(props["DefinitionUri"]), subs)
        else:
            definition = json.dumps(resolver.resolve(props["Definition"]))
        name = resolver.getatt(logical_id, "Name")
        arn = client_sfn.create_state_machine(
            name=name, definition=definition, roleArn=role, type=str(props.get("Type", "STANDARD"))
        )["stateMachineArn"]
        stack.state_machine_arns[logical_id] = arn

"""D11: ``make smoke --stack`` proves an alarm reaches its topic (infra/tools/alarm_check.py).

Against moto: the template's own KMS key policy, an encrypted topic and the alarm. moto's CloudWatch
changes the alarm's state on ``set_alarm_state`` but runs no alarm action, so the happy path publishes
the notification as CloudWatch would (same topic, same JSON fields) from the trigger; everything else
(the key-policy check, the temporary queue and its policy, the subscription, matching the notification,
the diagnosis from the alarm history, the cleanup) is the tool's own code against moto. What only AWS can
show: that CloudWatch's publish passes the key policy's conditions (the reason the tool exists)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.tools import alarm_check
from qpay_local.template import Resolver
from tests.support.template import template

REGION = "me-central-1"
ACCOUNT = "123456789012"
ALARM = "qpay-prod-SecretsInvalidAlarm-ABC123"


def template_key_policy() -> dict[str, Any]:
    """AlarmTopicKey's policy as CloudFormation would create it in this account and region."""
    refs = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
    policy = template()["Resources"]["AlarmTopicKey"]["Properties"]["KeyPolicy"]
    return dict(Resolver(refs, {}).resolve(policy))


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def _stack(session: Any, policy: dict[str, Any]) -> str:
    key = session.client("kms").create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    topic = session.client("sns").create_topic(Name="qpay-prod-alarms", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    session.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        Namespace="QPay",
        MetricName="SecretsInvalid",
        Dimensions=[{"Name": "service", "Value": "qpay"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    return str(topic)


def _as_cloudwatch(session: Any, topic: str) -> Any:
    """set_alarm_state, then the notification CloudWatch publishes for it (moto runs no alarm action)."""
    cloudwatch, sns = session.client("cloudwatch"), session.client("sns")

    def trigger(name: str, reason: str) -> None:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=reason)
        doc = {
            "AlarmName": name,
            "AWSAccountId": ACCOUNT,
            "NewStateValue": "ALARM",
            "NewStateReason": reason,
            "OldStateValue": "INSUFFICIENT_DATA",
            "StateChangeTime": datetime.now(UTC).isoformat(),
            "Region": "Middle East (UAE)",
            "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        }
        sns.publish(TopicArn=topic, Subject=f'ALARM: "{name}"', Message=json.dumps(doc))

    return trigger


def _leftovers(session: Any, topic: str) -> tuple[list[str], list[str]]:
    queues = session.client("sqs").list_queues().get("QueueUrls", [])
    subs = session.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return [q for q in queues if "qpay-smoke-alarm" in q], [s["Endpoint"] for s in subs]


def test_the_notification_reaches_the_topic(session: Any) -> None:
    topic = _stack(session, template_key_policy())
    cloudwatch = session.client("cloudwatch")
    (before,) = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    proof = alarm_check.prove(session, topic_arn=topic, alarm_name=ALARM, trigger=_as_cloudwatch(session, topic))
    assert proof.ok, proof.lines
    text = "\n".join(proof.lines)
    assert "may use the topic's key" in text and f"alarm {ALARM} -> ALARM reached {topic}" in text
    assert "aws:SourceArn" in text  # the template's condition is reported for what the proof settles
    assert _leftovers(session, topic) == ([], [])  # queue and subscription removed
    (after,) = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert after["StateValue"] == before["StateValue"] and "done" in after["StateReason"]  # put back


def test_another_notification_on_the_topic_is_not_taken_for_the_proof(session: Any) -> None:
    topic = _stack(session, template_key_policy())
    sns = session.client("sns")

    def someone_else(name: str, reason: str) -> None:  # an older notification of the same alarm
        sns.publish(TopicArn=topic, Message=json.dumps({"AlarmName": name, "NewStateReason": "Threshold Crossed"}))

    proof = alarm_check.prove(
        session, topic_arn=topic, alarm_name=ALARM, timeout_s=1, trigger=someone_else, history=lambda _: []
    )
    assert not proof.ok and "no notification" in "\n".join(proof.lines)


def test_a_failed_action_is_explained_by_the_key_policy(session: Any) -> None:
    """What D11 feared: CloudWatch's action fails on KMS. moto's set_alarm_state publishes nothing, which
    is what such a failure looks like from the topic; the history is CloudWatch's record of it."""
    topic = _stack(session, template_key_policy())
    history = [
        {
            "AlarmName": ALARM,
            "HistoryItemType": "Action",
            "HistorySummary": f"Failed to execute action {topic}",
            "HistoryData": json.dumps(
                {"actionState": "Failed", "error": "null (Service: AWSKMS; Error Code: AccessDeniedException)"}
            ),
        }
    ]
    proof = alarm_check.prove(session, topic_arn=topic, alarm_name=ALARM, timeout_s=1, history=lambda _: history)
    assert not proof.ok
    text = "\n".join(proof.lines)
    assert "Failed to execute action" in text and "drop aws:SourceArn" in text
    assert _leftovers(session, topic) == ([], [])


def test_a_key_policy_without_cloudwatch_fails_before_any_alarm_is_set(session: Any) -> None:
    policy = copy.deepcopy(template_key_policy())
    policy["Statement"] = [s for s in policy["Statement"] if "cloudwatch.amazonaws.com" not in json.dumps(s)]
    topic = _stack(session, policy)

    def must_not_run(name: str, reason: str) -> None:
        raise AssertionError("the alarm was set although its action would fail")

    proof = alarm_check.prove(session, topic_arn=topic, alarm_name=ALARM, trigger=must_not_run)
    assert not proof.ok
    assert any("kms:Decrypt" in line for line in proof.lines) and any(
        "kms:GenerateDataKey" in line for line in proof.lines
    )
    assert _leftovers(session, topic) == ([], [])


@pytest.mark.parametrize(
    ("actions", "problems"),
    [
        (["kms:Decrypt", "kms:GenerateDataKey*"], 0),  # the template's and the SNS guide's grant
        (["kms:*"], 0),
        ("kms:GenerateDataKey", 1),
        (["kms:Decrypt"], 1),
        (["kms:Encrypt"], 2),
    ],
)
def test_key_policy_grants(actions: Any, problems: int) -> None:
    policy = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": actions}]
    }
    found, notes = alarm_check.key_policy_findings(policy)
    assert len(found) == problems and notes == []


def test_the_stack_names_its_topic_and_alarm() -> None:
    class Cfn:
        def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
            assert StackName == "qpay-prod"
            ids = {"AlarmTopic": "arn:aws:sns:me-central-1:123456789012:t", "SecretsInvalidAlarm": ALARM}
            return {"StackResourceDetail": {"PhysicalResourceId": ids[LogicalResourceId]}}

    assert alarm_check.resolve_stack(Cfn(), "qpay-prod") == ("arn:aws:sns:me-central-1:123456789012:t", ALARM)
    template_resources = template()["Resources"]
    assert template_resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert template_resources[alarm_check.DEFAULT_ALARM]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_a_topic_on_a_key_alias_is_checked_by_the_key_behind_it(session: Any) -> None:
    """F2's shape: a topic encrypted through an alias whose key policy does not admit CloudWatch."""
    kms = session.client("kms")
    policy = copy.deepcopy(template_key_policy())
    policy["Statement"] = [s for s in policy["Statement"] if "cloudwatch.amazonaws.com" not in json.dumps(s)]
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/qpay-test-alarms", TargetKeyId=key)
    topic = session.client("sns").create_topic(
        Name="qpay-alias-alarms", Attributes={"KmsMasterKeyId": "alias/qpay-test-alarms"}
    )["TopicArn"]
    proof = alarm_check.prove(session, topic_arn=topic, alarm_name=ALARM)
    assert not proof.ok and any("kms:Decrypt" in line for line in proof.lines)

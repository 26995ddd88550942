"""Prove, after a deploy, that an alarm reaches the alarm topic (review D11): ``make smoke ... ARGS="--stack <name>"``.

1. The topic's KMS key policy must let CloudWatch use the key: ``kms:Decrypt`` and ``kms:GenerateDataKey*``
   for ``cloudwatch.amazonaws.com`` (Amazon SNS Developer Guide, "Enable compatibility between event
   sources from AWS services and encrypted topics",
   https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
   Without it every alarm action fails silently (review F2); this is checked before anything is set.
   A grant narrowed by ``aws:SourceArn`` is reported: whether CloudWatch's KMS call carries it is not
   documented (review D11), and the proof below settles it.
2. A temporary SQS queue (its policy admits this topic only) is subscribed to the topic.
3. ``cloudwatch set-alarm-state`` puts one alarm (default ``SecretsInvalidAlarm``) in ALARM with a unique
   reason. Every subscriber gets it: tell the on-call first, the mail or page says "smoke".
4. The proof: CloudWatch's notification with that reason arrives in the queue within the timeout. If not,
   the alarm's history says why (``Failed to execute action`` with a KMS ``AccessDenied`` = the key
   policy: drop the ``aws:SourceArn`` condition from the CloudWatch statement and redeploy).
5. Always: the alarm is set back to its previous state, the subscription and the queue are deleted.
"""

from __future__ import annotations

import fnmatch
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

CLOUDWATCH = "cloudwatch.amazonaws.com"
#: The calls SNS makes with the topic's key for CloudWatch (the guide grants kms:GenerateDataKey*).
NEEDED = ("kms:Decrypt", "kms:GenerateDataKey")
DEFAULT_ALARM = "SecretsInvalidAlarm"


@dataclass
class AlarmProof:
    ok: bool
    lines: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(pattern: str, call: str) -> bool:
    """Whether a policy action (IAM wildcards ``*`` and ``?``, case-blind) allows the API call ``call``."""
    return fnmatch.fnmatchcase(call.lower(), pattern.lower())


def key_policy_findings(policy: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, notes) of a key policy for CloudWatch alarm notifications to a topic it encrypts."""
    statements = [
        s
        for s in _as_list(policy.get("Statement", []))
        if s.get("Effect") == "Allow" and CLOUDWATCH in _as_list((s.get("Principal") or {}).get("Service", []))
    ]
    covered = {n for n in NEEDED for s in statements for a in _as_list(s.get("Action", [])) if _grants(a, n)}
    problems = [
        f"the key policy does not allow {CLOUDWATCH} {n}: every alarm action fails (AccessDenied on KMS)"
        for n in NEEDED
        if n not in covered
    ]
    notes = [
        f"the key policy's CloudWatch statement requires aws:SourceArn ({json.dumps(s['Condition'])}); if the "
        "proof fails with AccessDenied on KMS, keep aws:SourceAccount and drop aws:SourceArn (review D11)"
        for s in statements
        if "aws:sourcearn" in json.dumps(s.get("Condition", {})).lower()
    ]
    return problems, notes


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


def _notification(body: str) -> dict[str, Any]:
    """CloudWatch's alarm document inside an SNS envelope (as SQS receives it), or {}."""
    try:
        envelope = json.loads(body)
        doc = json.loads(envelope.get("Message", "")) if isinstance(envelope, dict) else None
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def failed_actions(history: Iterable[dict[str, Any]]) -> list[str]:
    """The summaries (and KMS errors) of failed alarm actions in an alarm's history items."""
    out = []
    for item in history:
        summary = str(item.get("HistorySummary", ""))
        if "fail" in summary.lower():
            data = str(item.get("HistoryData", ""))
            out.append(f"{summary} {data[:300]}".strip())
    return out


def resolve_stack(cloudformation: Any, stack: str, alarm_logical_id: str = DEFAULT_ALARM) -> tuple[str, str]:
    """(topic ARN, alarm name) of a deployed stack."""

    def physical(logical_id: str) -> str:
        found = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
        return str(found["StackResourceDetail"]["PhysicalResourceId"])

    return physical("AlarmTopic"), physical(alarm_logical_id)


def prove(
    session: Any,
    *,
    topic_arn: str,
    alarm_name: str,
    timeout_s: float = 180.0,
    trigger: Callable[[str, str], None] | None = None,
    history: Callable[[str], list[dict[str, Any]]] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AlarmProof:
    """Steps 1-5 of the module doc. ``trigger`` and ``history`` default to CloudWatch's own calls."""
    sns, sqs, cloudwatch = session.client("sns"), session.client("sqs"), session.client("cloudwatch")
    lines: list[str] = []
    key = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId")
    if key:
        kms = session.client("kms")
        key = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]  # an alias (alias/aws/sns: review F2) too
        policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
        problems, notes = key_policy_findings(policy)
        lines += [f"note: {n}" for n in notes]
        if problems:
            return AlarmProof(False, [*lines, *(f"problem: {p}" for p in problems), "alarm not set (it would fail)"])
        lines.append(f"key policy: {CLOUDWATCH} may use the topic's key ({', '.join(NEEDED)})")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    if topic_arn not in alarm.get("AlarmActions", []):
        return AlarmProof(False, [*lines, f"problem: alarm {alarm_name} does not notify {topic_arn}"])
    before = str(alarm["StateValue"])

    def set_state(name: str, reason: str) -> None:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=reason)

    def alarm_history(name: str) -> list[dict[str, Any]]:
        return list(cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"])

    token = uuid.uuid4().hex[:12]
    reason = f"qpay smoke {token}: proving this alarm reaches its topic (nothing is wrong)"
    queue_url = sqs.create_queue(QueueName=f"qpay-smoke-alarm-{token}", Attributes={"MessageRetentionPeriod": "600"})[
        "QueueUrl"
    ]
    subscription = None
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": queue_policy(queue_arn, topic_arn)})
        subscription = sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        started = clock()
        (trigger or set_state)(alarm_name, reason)
        while clock() - started < timeout_s:
            wait = int(max(0, min(10, timeout_s - (clock() - started))))
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
            for message in got.get("Messages", []):
                doc = _notification(message["Body"])
                if doc.get("AlarmName") == alarm_name and doc.get("NewStateReason") == reason:
                    lines.append(
                        f"alarm {alarm_name} -> ALARM reached {topic_arn} in {clock() - started:.1f} s "
                        f"(state {doc.get('NewStateValue')})"
                    )
                    return AlarmProof(True, lines)
            if wait == 0:
                break
        lines.append(f"problem: no notification of {alarm_name} reached the topic within {timeout_s:.0f} s")
        try:
            failures = failed_actions((history or alarm_history)(alarm_name))
        except Exception as exc:  # the history only explains; its absence is reported
            failures = [f"(alarm history unavailable: {type(exc).__name__})"]
        lines += [f"history: {f}" for f in failures]
        if any("kms" in f.lower() or "accessdenied" in f.lower() for f in failures):
            lines.append(
                "cause: CloudWatch may not use the topic's KMS key - in AlarmTopicKey's CloudWatch statement "
                "keep aws:SourceAccount, drop aws:SourceArn, redeploy and run this again (review D11)"
            )
        return AlarmProof(False, lines)
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue=before, StateReason=f"qpay smoke {token}: done")
        if subscription:
            sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)

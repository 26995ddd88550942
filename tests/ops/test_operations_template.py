"""Alarms, runbooks and safe deploys in template.yaml: every alarm notifies the topic and has a
runbook that exists, is indexed, and names only commands that exist; API functions deploy by canary
rolled back on their alarms; reserved concurrency where it protects Checkout.com and the table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from tests.support.template import template

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs/runbooks"
API_FUNCTIONS = (
    "CreatePaymentFunction",
    "GetPaymentFunction",
    "PaymentReturnFunction",
    "WebhookFunction",
    "RefundRequestFunction",
)


def resources(kind: str) -> dict:
    return {k: v for k, v in template()["Resources"].items() if v["Type"] == kind}


def metric(alarm: dict) -> tuple[str, str, dict]:
    p = alarm["Properties"]
    return p["Namespace"], p["MetricName"], {d["Name"]: d["Value"] for d in p["Dimensions"]}


def test_the_required_alarms_exist() -> None:
    got = [metric(a) for a in resources("AWS::CloudWatch::Alarm").values() if "Namespace" in a["Properties"]]
    wanted = [
        ("AWS/Lambda", "IteratorAge", {"FunctionName": {"Ref": "ExpiryFunction"}}),
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": ["ExpiryFailureQueue", "QueueName"]}},
        ),
        ("AWS/States", "ExecutionsFailed", {"StateMachineArn": {"Ref": "RefundStateMachine"}}),
        ("AWS/States", "ExecutionsTimedOut", {"StateMachineArn": {"Ref": "RefundStateMachine"}}),
        ("QPay", "WebhookSignatureRejected", {"service": "qpay"}),
        ("QPay", "PaymentsNeedingAttention", {"service": "qpay"}),
        ("QPay", "RefundsNeedingAttention", {"service": "qpay"}),
        ("QPay", "SweepReconciled", {"service": "qpay"}),
        ("QPay", "ReconcileDriftUnfixed", {"service": "qpay"}),
    ]
    wanted += [
        ("AWS/Lambda", m, {"FunctionName": {"Ref": fn}}) for fn in API_FUNCTIONS for m in ("Errors", "Throttles")
    ]
    for w in wanted:
        assert w in got, w
    assert template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "QPay"
    assert template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "qpay"


def test_every_alarm_notifies_the_topic_and_names_an_indexed_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    alarms = resources("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 20
    for name, alarm in alarms.items():
        p = alarm["Properties"]
        assert p["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        desc = p["AlarmDescription"]["Fn::Sub"]
        (runbook,) = re.findall(r"docs/runbooks/([\w-]+\.md)", desc)
        assert (RUNBOOKS / runbook).exists(), (name, runbook)
        assert f"({runbook})" in index, runbook
        assert (
            re.sub(
                r"^(CreatePayment|GetPayment|PaymentReturn|Webhook|RefundRequest)(CanaryErrors|Errors|Throttles)Alarm$",
                r"<Function>\2Alarm",
                name,
            )
            in index
        ), name
    for md in RUNBOOKS.glob("*.md"):
        assert md.name == "README.md" or f"({md.name})" in index, md.name
    subs = resources("AWS::SNS::Subscription")
    assert sorted(s.get("Condition") for s in subs.values()) == ["HasAlarmEmail", "HasAlarmHttpsEndpoint"]


def test_runbook_commands_exist() -> None:
    modules = set()
    for md in RUNBOOKS.glob("*.md"):
        modules |= set(re.findall(r"python -m ([\w.]+)", md.read_text()))
    assert {"qpay.ops.reconcile", "qpay.ops.redrive", "qpay_local.replay"} <= modules
    for module in modules:
        spec = importlib.util.find_spec(module)
        assert spec is not None, module
        assert hasattr(importlib.import_module(module), "main"), module
    # every flag a runbook passes to a command is one the command accepts
    for module, flags in {
        "qpay.ops.reconcile": ["--payment-id", "--since", "--days", "--dry-run", "--write-report"],
        "qpay.ops.redrive": ["--queue-url", "--function-name", "--dry-run"],
    }.items():
        src = Path(importlib.util.find_spec(module).origin).read_text()
        for flag in flags:
            assert f'"{flag}"' in src, (module, flag)


def test_api_functions_deploy_by_canary_rolled_back_on_their_alarms() -> None:
    fns = template()["Resources"]
    assert template()["Globals"]["Function"]["AutoPublishAlias"] == "live"  # every function (tests/deploy)
    for fn in API_FUNCTIONS:
        p = fns[fn]["Properties"]
        assert "AutoPublishAlias" not in p
        pref = p["DeploymentPreference"]
        assert pref["Type"] == {"Ref": "DeploymentType"}
        short = fn.removesuffix("Function")
        # only the new version's errors roll back (tests/deploy checks its dimensions)
        assert {a["Ref"] for a in pref["Alarms"]} == {f"{short}CanaryErrorsAlarm"}
    assert template()["Parameters"]["DeploymentType"]["Default"] == "Canary10Percent5Minutes"


def test_reserved_concurrency_where_it_protects_checkout_and_the_table() -> None:
    fns = template()["Resources"]
    # issue 20 (D4): with ReserveConcurrency=true every function has its own slice, so a flood on the
    # public routes (capped at their reservation) cannot take the stream consumers' or the refund task's
    caps = {
        "RefundTaskFunction": 10,
        "SweepFunction": 1,
        "ReconcileFunction": {"Ref": "ReconcileConcurrency"},  # the fan-out's runs at once (default 4)
        "ExpiryFunction": 5,
        "OutboxFunction": 5,
        "CreatePaymentFunction": 20,
        "GetPaymentFunction": 10,
        "PaymentReturnFunction": 10,
        "WebhookFunction": 10,
        "RefundRequestFunction": 2,
    }
    for fn, n in caps.items():
        assert fns[fn]["Properties"]["ReservedConcurrentExecutions"] == {
            "Fn::If": ["UseReservedConcurrency", n, {"Ref": "AWS::NoValue"}]
        }
    params = template()["Parameters"]
    total = sum(n if isinstance(n, int) else params["ReconcileConcurrency"]["Default"] for n in caps.values())
    assert total == 77  # + the 100 Lambda keeps unreserved: ReserveConcurrency needs a quota >= 177
    assert "177" in params["ReserveConcurrency"]["Description"]


def test_reconciliation_is_scheduled_daily_with_a_bounded_index() -> None:
    fns = template()["Resources"]
    assert "Events" not in fns["ReconcileFunction"]["Properties"]  # the fan-out state machine runs it
    (event,) = fns["ReconcileStateMachine"]["Properties"]["Events"].values()
    assert event["Type"] == "ScheduleV2" and event["Properties"]["ScheduleExpression"].startswith("cron(")
    gsis = {g["IndexName"]: g for g in fns["PaymentsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    # sharded by day, sorted by the stable pk: an update within the day moves nothing in the index
    assert [k["AttributeName"] for k in gsis["changed-by-day"]["KeySchema"]] == ["changed_day", "pk"]
    assert gsis["changed-by-day"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    policy = fns["ReconcileFunction"]["Properties"]["Policies"][0]["Statement"]
    assert not any("Scan" in str(s["Action"]) for s in policy)


def test_outbox_consumer_reports_partial_failures_and_parks_what_it_gives_up_on() -> None:
    fns = template()["Resources"]
    (event,) = fns["OutboxFunction"]["Properties"]["Events"].values()
    p = event["Properties"]
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["OutboxFailureQueue", "Arn"]}
    assert fns["OutboxFunction"]["Properties"]["Environment"]["Variables"]["ORDER_EVENTS_BUS_NAME"] == {
        "Ref": "OrderEventsBus"
    }

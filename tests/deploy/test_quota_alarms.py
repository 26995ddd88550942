"""An alarm fires before each me-central-1 limit docs/capacity.md lists binds (issue 21): its threshold sits
below the default quota the bench's capacity table uses (qpay_bench.limits.QUOTAS), it notifies the alarm
topic, and its runbook exists."""

from __future__ import annotations

import re
from typing import Any

import pytest

from qpay_bench.limits import QUOTAS
from tests.deploy.conftest import ROOT

ME = QUOTAS["me-central-1"]


def _alarm(transformed: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = transformed["Resources"][name]["Properties"]
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    runbook = re.search(r"docs/runbooks/([\w-]+\.md)", str(props["AlarmDescription"]))
    assert runbook is not None and (ROOT / "docs/runbooks" / runbook.group(1)).exists(), name
    return props


def test_the_http_api_account_throttle_alarms_at_80_percent(transformed: dict[str, Any]) -> None:
    p = _alarm(transformed, "ApiNearAccountThrottleAlarm")
    rps = p["Threshold"] / p["Period"]
    assert (p["Namespace"], p["MetricName"], p["Statistic"]) == ("AWS/ApiGateway", "Count", "Sum")
    assert 0.5 * ME["http_api"] <= rps < ME["http_api"]


def test_the_stage_throttle_alarm_follows_the_parameter(transformed: dict[str, Any]) -> None:
    p = _alarm(transformed, "ApiNearStageThrottleAlarm")
    (share,) = [m for m in p["Metrics"] if m.get("ReturnData")]
    assert "${ApiRateLimit}" in share["Expression"]["Fn::Sub"] and 0 < p["Threshold"] < 1


def test_lambda_concurrency_alarms_below_the_account_default(transformed: dict[str, Any]) -> None:
    p = _alarm(transformed, "AccountConcurrencyNearLimitAlarm")
    assert p["Threshold"] < ME["lambda_concurrency"]


@pytest.mark.parametrize(
    ("alarm", "metrics"),
    [
        ("TableThrottledAlarm", {"WriteThrottleEvents", "ReadThrottleEvents"}),
        ("ReconcileFanOutFailedAlarm", {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"}),
    ],
)
def test_throttles_and_a_failed_fan_out_alarm_on_the_first_one(
    transformed: dict[str, Any], alarm: str, metrics: set[str]
) -> None:
    p = _alarm(transformed, alarm)
    watched = {m["MetricStat"]["Metric"]["MetricName"] for m in p["Metrics"] if "MetricStat" in m}
    assert watched == metrics and p["Threshold"] == 1


def test_put_events_and_state_transitions_have_their_alarms(transformed: dict[str, Any]) -> None:
    assert _alarm(transformed, "OrderEventsNotPublishedAlarm")["MetricName"] == "OrderEventsNotPublished"
    assert _alarm(transformed, "StateTransitionsThrottledAlarm")["MetricName"] == "ExecutionThrottled"

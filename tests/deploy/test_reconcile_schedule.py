"""The daily reconciliation as CloudFormation creates it (the real SAM transform): one schedule starts
ReconcileStateMachine, whose input -- rendered from the template's parameter defaults -- is what
tests/ops/test_reconcile_fanout.py runs through the ASL; its tasks invoke ReconcileFunction's live alias
within a Checkout.com read budget below the published 100 rps; nothing else schedules the function."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from qpay.handlers import reconcile as reconcile_handler
from qpay_local import sfn
from tests.deploy.conftest import ROOT, resources_of

CHECKOUT_READS_PER_S = 100  # published per account: https://checkout.com/docs/developer-resources/api/api-rate-limits


def _render(sub: str, values: dict[str, Any]) -> str:
    return re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda m: str(values[m.group(1)]), sub)


def _defaults(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: p.get("Default") for k, p in doc["Parameters"].items()}


def test_one_schedule_starts_the_fan_out_with_the_parameters(transformed: dict[str, Any]) -> None:
    res = transformed["Resources"]
    schedules = resources_of(transformed, "AWS::Scheduler::Schedule")
    daily = [s for s in schedules.values() if s["Properties"]["Target"]["Arn"] == {"Ref": "ReconcileStateMachine"}]
    assert len(daily) == 1
    props = daily[0]["Properties"]
    assert props["ScheduleExpression"] == "cron(15 3 * * ? *)"
    params = _defaults(transformed)
    execution_input = json.loads(_render(props["Target"]["Input"]["Fn::Sub"], params))
    assert execution_input == {
        "parts": params["ReconcileParts"],
        "concurrency": params["ReconcileConcurrency"],
        "options": {
            "sample_every": params["ReconcileSampleEvery"],
            "checkout_rps": params["ReconcileCheckoutRps"],
            "runs_at_once": params["ReconcileConcurrency"],
        },
    }
    # the runs at once share one budget, and no allowed value exceeds Checkout's published read limit
    each = reconcile_handler.read_budget(execution_input["options"])
    assert each * execution_input["concurrency"] <= CHECKOUT_READS_PER_S
    assert transformed["Parameters"]["ReconcileCheckoutRps"]["MaxValue"] <= CHECKOUT_READS_PER_S
    assert set(transformed["Parameters"]["ReconcileParts"]["AllowedValues"]) <= {1, 2, 4, 8, 16, 32}  # divide 32
    role = res[props["Target"]["RoleArn"]["Fn::GetAtt"][0]]["Properties"]["Policies"]
    assert [s["Action"] for p in role for s in p["PolicyDocument"]["Statement"]] == ["states:StartExecution"]


def test_the_fan_out_invokes_the_live_alias_and_nothing_else_schedules_the_function(
    transformed: dict[str, Any],
) -> None:
    res = transformed["Resources"]
    machine = res["ReconcileStateMachine"]["Properties"]
    subs = machine["DefinitionSubstitutions"]
    assert subs["ReconcileFunctionArn"] == {"Fn::Sub": "${ReconcileFunction.Arn}:live"}
    sfn.render_definition(ROOT / "infra/reconcile.asl.yaml", subs)  # every placeholder has a substitution
    assert machine["StateMachineType"] == "STANDARD"
    role = res[machine["RoleArn"]["Fn::GetAtt"][0]]["Properties"]["Policies"]
    invokes = [s for p in role for s in p["PolicyDocument"]["Statement"] if "lambda:InvokeFunction" in s["Action"]]
    assert [s["Resource"]["Fn::Sub"][1] for s in invokes] == [{"functionName": {"Ref": "ReconcileFunction"}}]
    targets = [s["Properties"]["Target"]["Arn"] for s in resources_of(transformed, "AWS::Scheduler::Schedule").values()]
    assert {"Ref": "ReconcileFunctionAliaslive"} not in targets  # the state machine is the only schedule
    function = res["ReconcileFunction"]["Properties"]
    # reserved (when ReserveConcurrency=true) exactly for the runs the Map lets go at once
    assert function["ReservedConcurrentExecutions"]["Fn::If"][1] == {"Ref": "ReconcileConcurrency"}
    asl = yaml.safe_load((ROOT / "infra/reconcile.asl.yaml").read_text())
    task = asl["States"]["Shards"]["ItemProcessor"]["States"]["Parts"]["ItemProcessor"]["States"]["Reconcile"]
    assert task["TimeoutSeconds"] > function["Timeout"]  # the function's own 15 minutes end first
    assert asl["States"]["Shards"]["MaxConcurrencyPath"] == "$.concurrency"

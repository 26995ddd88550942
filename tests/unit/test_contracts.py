"""What must not drift: the OpenAPI document, the template (cfn-lint), the refund ASL (statelint)."""

from __future__ import annotations

import json
from pathlib import Path

from cfnlint.api import lint_all
from statelint.linter import Linter

from qpay.api.openapi import document
from qpay_local.sfn import render_definition
from tests.support.template import template

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_is_current() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text())
    assert committed == document(), "openapi.json drifted: run `make openapi`"


def test_openapi_paths_are_the_template_routes() -> None:
    routes = set()
    for res in template()["Resources"].values():
        for ev in (res.get("Properties", {}).get("Events") or {}).values():
            if ev["Type"] == "HttpApi":
                routes.add((ev["Properties"]["Method"].lower(), ev["Properties"]["Path"]))
    documented = {(m, p) for p, ops in document()["paths"].items() for m in ops}
    assert documented == routes


def test_template_passes_cfn_lint() -> None:
    matches = lint_all((ROOT / "template.yaml").read_text())
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []


def test_refund_asl_is_valid_after_substitution() -> None:
    props = template()["Resources"]["RefundStateMachine"]["Properties"]
    subs = {
        k: (v if not isinstance(v, dict) else "arn:aws:lambda:me-central-1:123456789012:function:refund-tasks")
        for k, v in props["DefinitionSubstitutions"].items()
    }
    subs["OutcomeTimeoutSeconds"] = 3600
    definition = json.loads(render_definition(ROOT / props["DefinitionUri"], subs))
    assert Linter.validate(definition) == []
    await_state = definition["States"]["AwaitOutcome"]
    assert await_state["TimeoutSeconds"] == 3600
    assert "HeartbeatSeconds" not in await_state  # nothing heartbeats during the wait
    retry = definition["States"]["RequestRefund"]["Retry"][0]
    assert retry["JitterStrategy"] == "FULL"
    assert retry["MaxDelaySeconds"] >= retry["IntervalSeconds"]


def test_no_plain_secret_values_in_function_environment() -> None:
    env = template()["Globals"]["Function"]["Environment"]["Variables"]
    for name in env:
        # names only: SECRET_ID points at the secret; CHECKOUT_SINGLE_CHANNEL_KEY is a true/false flag
        assert "KEY" not in name.upper() or name in ("SECRET_ID", "CHECKOUT_SINGLE_CHANNEL_KEY"), name

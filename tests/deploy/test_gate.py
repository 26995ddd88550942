"""`make validate` is a gate: the real SAM transform, cfn-lint on what it produces, statelint on the
rendered ASL. It passes on template.yaml and fails, naming the problem, on templates CloudFormation
would reject (each case below was, or could be, a real deploy failure that cfn-lint alone passes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, run_gate

TEMPLATE = (ROOT / "template.yaml").read_text()


def variant(tmp_path: Path, old: str, new: str, asl: str | None = None) -> Path:
    """A copy of the template (and the ASL files it points at) with one change (``asl``: the refund ASL's)."""
    assert old in TEMPLATE, old
    (tmp_path / "infra").mkdir()
    shutil.copy(ROOT / "infra/reconcile.asl.yaml", tmp_path / "infra/reconcile.asl.yaml")
    target = tmp_path / "infra/refund.asl.yaml"
    shutil.copy(ROOT / "infra/refund.asl.yaml", target)
    if asl is not None:
        target.write_text(asl)
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace(old, new, 1))
    return path


def test_the_gate_passes_on_the_template(tool_python: Path, tmp_path: Path) -> None:
    run = run_gate(tool_python, ROOT / "template.yaml", tmp_path / "t.json")
    assert run.returncode == 0, run.stderr
    assert "cfn-lint and statelint clean" in run.stdout
    assert (tmp_path / "t.json").stat().st_size > 10_000


def test_an_iam_route_without_the_iam_authorizer_fails_in_the_transform(tool_python: Path, tmp_path: Path) -> None:
    """F1: cfn-lint and `sam validate --lint` passed this; CloudFormation's transform rejects it."""
    path = variant(tmp_path, "        EnableIamAuthorizer: true", "        EnableIamAuthorizer: false")
    run = run_gate(tool_python, path)
    assert run.returncode == 1
    assert "SAM transform rejects the template" in run.stderr
    assert "RefundRequestFunction" in run.stderr
    assert "Unable to set Authorizer [AWS_IAM]" in run.stderr


def test_a_circular_dependency_after_the_transform_fails(tool_python: Path, tmp_path: Path) -> None:
    """The API-wide 5xx alarm in a deployment group: alarm -> API -> alias -> deployment group ->
    alarm. Only visible in the transformed template (SAM makes the alias and the group)."""
    path = variant(
        tmp_path,
        "        Alarms: [!Ref WebhookCanaryErrorsAlarm]",
        "        Alarms: [!Ref WebhookCanaryErrorsAlarm, !Ref Api5xxAlarm]",
    )
    run = run_gate(tool_python, path)
    assert run.returncode == 1
    assert "E3004" in run.stderr and "Api5xxAlarm" in run.stderr


def test_a_stateful_resource_without_retention_fails(tool_python: Path, tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        "    DeletionPolicy: RetainExceptOnCreate\n    UpdateReplacePolicy: Retain\n",
        "",
    )
    run = run_gate(tool_python, path)
    assert run.returncode == 1
    assert "I3011" in run.stderr and "CheckoutKeysSecret" in run.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("        Next: MarkFailed\n", "        Next: MarkFaild\n", "MarkFaild"),  # a Next to no state
        ("    Type: Succeed\n", "    Type: Succeeded\n", "Succeeded"),  # not a state type
    ],
)
def test_an_invalid_state_machine_fails(tool_python: Path, tmp_path: Path, old: str, new: str, expected: str) -> None:
    asl = (ROOT / "infra/refund.asl.yaml").read_text()
    assert old in asl
    path = variant(tmp_path, "Description: >", "Description: >", asl=asl.replace(old, new, 1))
    run = run_gate(tool_python, path)
    assert run.returncode == 1
    assert "statelint RefundStateMachine" in run.stderr and expected in run.stderr

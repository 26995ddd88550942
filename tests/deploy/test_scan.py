"""The outside scanners in make validate (infra/tools/scan.py): checkov on the transformed template with
every skip reasoned in the template, bandit on functions/ with every finding explained."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.deploy.conftest import ROOT

SCAN = ROOT / "infra/tools/scan.py"


def _scan(tool_python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool_python), str(SCAN), *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=900
    )


def test_the_template_and_the_code_pass(tool_python: Path, transformed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "transformed.json"
    path.write_text(json.dumps(transformed))
    run = _scan(tool_python, "--transformed", str(path))
    assert run.returncode == 0, run.stderr
    assert "0 failed" in run.stdout and "bandit 0 unexplained" in run.stdout


def test_a_failed_check_a_bare_skip_and_unexplained_code_fail(tool_python: Path, tmp_path: Path) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Plain": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Bare": {
                "Type": "AWS::SQS::Queue",
                "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_27"}]}},
                "Properties": {},
            },
        },
    }
    (tmp_path / "t.json").write_text(json.dumps(template))
    code = tmp_path / "code"
    code.mkdir()
    (code / "bad.py").write_text(
        "import subprocess\n\n\ndef run(cmd: str) -> None:\n    subprocess.call(cmd, shell=True)\n"
    )
    run = _scan(tool_python, "--transformed", str(tmp_path / "t.json"), "--no-companions", "--code", str(code))
    assert run.returncode == 1
    assert "checkov CKV_AWS_27 AWS::SQS::Queue.Plain" in run.stderr
    assert "CKV_AWS_27 AWS::SQS::Queue.Bare: skipped without a reason" in run.stderr
    assert "bandit B602" in run.stderr and "bad.py:5" in run.stderr

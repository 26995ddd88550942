"""The deploy tests: the gate's own virtualenv (the real SAM transform), the transformed template
it writes, and the artefact functions/Makefile builds."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL_VENV = ROOT / ".tools/validate"
TOOL_PYTHON = TOOL_VENV / "bin/python"
GATE = ROOT / "infra/tools/validate.py"
STACK = "qpay-gate"  # the stack name the gate transforms with (infra/tools/validate.py DEFAULT_STACK)


@dataclass(frozen=True)
class GateRun:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def tool_python() -> Path:
    """The gate's virtualenv, made by the same Makefile rule as ``make validate`` (once, idempotent)."""
    made = subprocess.run(
        ["make", "--no-print-directory", "-s", "deps", ".tools/validate/.installed"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if made.returncode != 0 or not TOOL_PYTHON.exists():
        pytest.skip(f"the gate's virtualenv (.tools/validate) could not be created: {made.stderr[-800:]}")
    return TOOL_PYTHON


def run_gate(tool_python: Path, template: Path, out: Path | None = None) -> GateRun:
    args = [str(tool_python), str(GATE), "--template", str(template), "--stack-name", STACK]
    args += ["--out", str(out)] if out else ["--out", str(template.parent / "transformed.json")]
    done = subprocess.run(args, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return GateRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def transformed(tool_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """template.yaml after the real SAM transform (what CloudFormation creates)."""
    out = tmp_path_factory.mktemp("gate") / "transformed.json"
    run = run_gate(tool_python, ROOT / "template.yaml", out)
    assert run.returncode == 0, run.stderr
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def resources_of(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == kind}


def print_report(*lines: str) -> None:
    """Figures the tests measure, shown with ``-s`` or in the captured output of a failure."""
    for line in lines:
        print(f"[deploy] {line}", file=sys.stderr)

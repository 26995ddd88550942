"""Which heavy modules each handler module imports at cold start (module import only, before any event).

Deterministic: a fresh interpreter imports the handler and reports ``sys.modules``. A change that makes a
handler import something heavy it did not before fails here; when a module becomes lazy, move it to
``must_not`` for that handler. Timings live in ``make bench``, never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "pydantic",
    "httpx",
    "boto3",
    "botocore",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_xray_sdk",
    "yaml",
    "moto",
)

# handler module -> the heavy modules it is allowed to import at cold start (everything else in HEAVY
# must stay out). Powertools' package __init__ imports its metrics module with the Logger.
ALLOWED: dict[str, set[str]] = {
    "qpay.handlers.webhook": {"pydantic", "boto3", "botocore", "aws_lambda_powertools.metrics"},
    "qpay.handlers.get_payment": {"pydantic", "botocore", "aws_lambda_powertools.metrics", "boto3"},
    "qpay.handlers.create_payment": {"pydantic", "httpx", "boto3", "botocore", "aws_lambda_powertools.metrics"},
    "qpay.handlers.payment_return": {"pydantic", "httpx", "boto3", "botocore", "aws_lambda_powertools.metrics"},
    "qpay.handlers.refund_request": {"pydantic", "httpx", "boto3", "botocore", "aws_lambda_powertools.metrics"},
    "qpay.handlers.refund_tasks": {"pydantic", "httpx", "boto3", "botocore", "aws_lambda_powertools.metrics"},
    "qpay.handlers.expiry": {
        "pydantic",
        "httpx",
        "boto3",
        "botocore",
        "aws_lambda_powertools.metrics",
        "aws_lambda_powertools.utilities.batch",
    },
    "qpay.handlers.sweep": {"pydantic", "httpx", "boto3", "botocore", "aws_lambda_powertools.metrics"},
    "qpay.handlers.outbox": {"pydantic", "boto3", "botocore", "aws_lambda_powertools.utilities.batch"},
    "qpay.handlers.reconcile": {"pydantic", "httpx", "boto3", "botocore"},
}
NEVER = {"aws_lambda_powertools.utilities.parameters", "aws_xray_sdk", "yaml", "moto"}
# Powertools' package __init__ imports these modules (not aws_xray_sdk) along with its Logger.
POWERTOOLS_INIT = {"aws_lambda_powertools.metrics", "aws_lambda_powertools.tracing"}


def imported_heavy(module: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions"), "AWS_DEFAULT_REGION": "me-central-1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_every_template_handler_is_pinned() -> None:
    from qpay_local.template import Template

    handlers = {f.handler.rsplit(".", 1)[0] for f in Template(ROOT / "template.yaml").functions().values()}
    assert handlers <= set(ALLOWED), f"pin the cold imports of {sorted(handlers - set(ALLOWED))}"


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_cold_imports(module: str) -> None:
    got = imported_heavy(module)
    assert not got & NEVER, f"{module} imports {sorted(got & NEVER)} at cold start"
    assert got <= ALLOWED[module] | POWERTOOLS_INIT, (
        f"{module} now imports {sorted(got - ALLOWED[module] - POWERTOOLS_INIT)} at cold start"
    )

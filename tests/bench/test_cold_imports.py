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
# must stay out). Tightened after the product's cold-start work: botocore is the only heavy import left
# on every path; request bodies are parsed with the standard library (qpay.api.requests, checked against
# the pydantic models in tests/unit/test_requests.py), so pydantic is never imported at run time; Powertools
# only for the stream consumers' batch processing (its package __init__ brings metrics and tracing).
ALLOWED: dict[str, set[str]] = {
    "qpay.handlers.webhook": {"botocore"},
    "qpay.handlers.get_payment": set(),
    "qpay.handlers.create_payment": {"botocore"},
    "qpay.handlers.payment_return": {"botocore"},
    "qpay.handlers.refund_request": {"botocore"},
    "qpay.handlers.refund_tasks": {"botocore"},
    "qpay.handlers.expiry": {"botocore"},  # partial batch responses by qpay.handlers.stream_batch
    "qpay.handlers.sweep": {"botocore"},
    "qpay.handlers.outbox": {"botocore"},  # its own cross-record batching (PutEvents up to 10 entries)
    "qpay.handlers.reconcile": {"botocore"},
}
# httpx is not in the Lambda artefact any more (functions/requirements.txt): importing it would fail there
NEVER = {"aws_lambda_powertools.utilities.parameters", "aws_xray_sdk", "yaml", "moto", "httpx", "boto3", "pydantic"}
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

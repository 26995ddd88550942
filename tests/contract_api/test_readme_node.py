"""The README's Node snippets, run as a storefront's backend would run them, with the libraries they name
(installed by `make test` from package.json): the order token minted with `jsonwebtoken` is accepted by
the product's verifier, and the refund signed with `@smithy/signature-v4` is accepted by the local
stack's IAM route (202) — a tampered signature is not."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qpay.api.auth import AUDIENCE, verify_order_token
from qpay_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
NODE_MODULES = ROOT / "node_modules"
NATIONAL_ID = "28763400000"  # synthetic
KEY, KID = "qpay-readme-node-key-not-for-production-0001", "node-1"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_MODULES / "jsonwebtoken").is_dir(),
    reason="node and the README's npm packages (make test installs them: npm ci)",
)


def block(marker: str) -> str:
    for code in re.findall(r"```js\n(.*?)```", README, flags=re.S):
        if marker in code:
            return str(code)
    raise AssertionError(f"no js block with {marker!r} in README.md")


def node(script: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["node", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,  # require() finds ./node_modules
        env={"PATH": os.environ["PATH"], **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_order_token_snippet_mints_what_the_product_accepts() -> None:
    script = "const order = { reference: 'ORD-NODE-7', amountMinor: 4200 };\n" + block('require("jsonwebtoken")')
    script += "\nprocess.stdout.write(orderToken);\n"
    token = node(script, {"QPAY_ORDER_TOKEN_KEY": KEY, "QPAY_ORDER_TOKEN_KID": KID})
    now = int(time.time())
    claims = verify_order_token(token, lambda kid: KEY if kid == KID else None, now=now, leeway_s=0)
    assert {k: claims[k] for k in ("reference", "amount", "currency", "aud")} == {
        "reference": "ORD-NODE-7",
        "amount": 4200,
        "currency": "QAR",
        "aud": AUDIENCE,
    }
    assert now <= int(claims["exp"]) - 895 <= now + 10  # 15 minutes
    assert uuid.UUID(str(claims["jti"]))  # single use: a fresh id each time


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as s:
        yield s


def captured_payment(stack: LocalStack) -> str:
    reference = "ORD-NODE-" + uuid.uuid4().hex[:8].upper()
    merchant = {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}
    created = httpx.post(
        f"{stack.api_url}/payments",
        json={"reference": reference, "amount": 12500, "currency": "QAR", "description": "Node refund",
              "national_id": NATIONAL_ID},
        headers={**merchant, "Idempotency-Key": reference},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    payment = created.json()
    assert stack.sim is not None
    stack.sim.pay(payment["redirect_url"].split("pun=")[1])
    deadline = time.monotonic() + 20
    while httpx.get(f"{stack.api_url}/payments/{payment['id']}", headers=merchant).json()["status"] != "Captured":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return str(payment["id"])


def run_refund(stack: LocalStack, payment_id: str, key: str, *, secret: str | None = None) -> dict[str, Any]:
    creds = stack.botocore_credentials
    script = block('require("@smithy/signature-v4")')
    script += f"\nrefund({json.dumps(payment_id)}, 2500, {json.dumps(key)})"
    script += ".then((r) => process.stdout.write(JSON.stringify(r)));\n"
    env = {
        "QPAY_API": stack.api_url,
        "AWS_REGION": stack.region,
        "AWS_ACCESS_KEY_ID": creds.access_key,
        "AWS_SECRET_ACCESS_KEY": secret or creds.secret_key,
    }
    if creds.token:
        env["AWS_SESSION_TOKEN"] = creds.token
    result: dict[str, Any] = json.loads(node(script, env))
    return result


def test_the_sigv4_refund_snippet_is_accepted_by_the_iam_route(stack: LocalStack) -> None:
    payment_id = captured_payment(stack)
    done = run_refund(stack, payment_id, "node-refund-1")
    assert done["status"] == 202, done
    assert (done["body"]["payment_id"], done["body"]["amount"]) == (payment_id, 2500)
    again = run_refund(stack, payment_id, "node-refund-1")  # the same Idempotency-Key: the same refund
    assert (again["status"], again["body"]["id"]) == (202, done["body"]["id"])


def test_a_wrong_secret_is_refused_with_the_reason(stack: LocalStack) -> None:
    payment_id = captured_payment(stack)
    refused = run_refund(stack, payment_id, "node-refund-2", secret="wrong" + "0" * 35)
    assert refused["status"] == 403
    assert "signature" in refused["body"]["message"].lower()

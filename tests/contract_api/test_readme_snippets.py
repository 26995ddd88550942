"""Every snippet of the README's "Integrate from your storefront" runs as written against a local stack,
with the variables `make run` writes to `.local-state/env.local` (the file is written by the stack's own
code and parsed as dotenv would: a renamed variable fails here, review U1). Node snippets use the
`qpay-client` package (`npm i ./clients/node`, done by package.json), Python ones `qpay-client`
(`clients/python`, a path dependency of the dev group), PHP ones `clients/php` (php-cli from Debian).

Each runnable block starts with a comment naming its file (`// refund.js: node refund.js …`); the test
writes the block to that file unchanged and runs it with the arguments the comment shows. A block in the
section that no test runs fails `test_every_block_is_run_or_is_data`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qpay.api.auth import AUDIENCE, verify_order_token
from qpay_local import forwarder, state
from qpay_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "docs" / "integrate.md").read_text()  # the README's integrate page
SECTION = README.split("\n# The HTTP contract", 1)[0]  # the page's integrate part, code comments and all
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", SECTION, flags=re.S)
NODE_OK = shutil.which("node") is not None and (ROOT / "node_modules" / "qpay-client" / "dist").is_dir()
PHP_OK = shutil.which("php") is not None

#: blocks that are data, not programs: the create answer, the IAM policy, the order token test vector,
#: and the install commands (the test environment installs the same packages: package.json's
#: "qpay-client": "file:clients/node", pyproject's path source for clients/python)
DATA = (
    '{"id": "qpp_',
    '{"Version": "2012-10-17"',
    "eyJhbGciOiJIUzI1NiIsImtpZCI6InZlY3Rvci0x",
    "npm i --install-links ./clients/node",
)
RUN = {
    "js": ("create-payment.js", "read-payment.js", "refund.js", "events.js", "order-token.js"),
    "python": ("storefront.py", "events.py", "order_token.py"),
    "php": ("storefront.php", "events.php", "order-token.php"),
    "bash": ('-X POST "$QPAY_API_URL/payments"', '"$QPAY_API_URL/payments/$PAYMENT_ID"', "--aws-sigv4"),
}


def block(language: str, marker: str) -> str:
    found = [code for lang, code in BLOCKS if lang == language and marker in code]
    assert len(found) == 1, f"{len(found)} {language} blocks with {marker!r} in the README's integrate section"
    return str(found[0])


def test_every_block_is_run_or_is_data() -> None:
    for lang, code in BLOCKS:
        if any(d in code for d in DATA):
            continue
        assert any(marker in code for marker in RUN.get(lang, ())), f"a {lang or 'plain'} block no test runs:\n{code}"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as s:
        yield s


@pytest.fixture(scope="module")
def env_local(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """.local-state/env.local as `make run` writes it, read back as dotenv would."""
    path = state.write_env_local(tmp_path_factory.mktemp("state"), stack.storefront_env())
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(pairs)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snippets")


def run(
    workdir: Path,
    env_local: dict[str, str],
    language: str,
    marker: str,
    *args: str,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    code = block(language, marker)
    if language == "bash":
        command = ["bash", "-euo", "pipefail", "-c", code]
    else:
        name = next(n for n in RUN[language] if n in code)
        file = workdir / name
        file.write_text(code)
        interpreter = {"js": ["node"], "python": [sys.executable], "php": ["php"]}[language]
        command = [*interpreter, str(file), *args]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "NODE_PATH": str(ROOT / "node_modules")}
    env.update(env_local)
    env.update(extra or {})
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT, env=env)
    assert done.returncode == 0, f"{marker}: {done.stdout}\n{done.stderr}"
    return done


def merchant(env_local: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {env_local['QPAY_MERCHANT_API_KEY']}"}


def pay(stack: LocalStack, env_local: dict[str, str], payment_id: str) -> None:
    assert stack.sim is not None
    read = httpx.get(f"{stack.api_url}/payments/{payment_id}", headers=merchant(env_local)).json()
    stack.sim.pay(str(read["cko_payment_id"]))
    deadline = time.monotonic() + 30
    while (
        httpx.get(f"{stack.api_url}/payments/{payment_id}", headers=merchant(env_local)).json()["status"] != "Captured"
    ):
        assert time.monotonic() < deadline, "not captured in time"
        time.sleep(0.1)


def ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def json_values(text: str) -> list[Any]:
    """The JSON documents printed one after another (curl adds no newline)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(text, i)
        out.append(value)
    return out


def signed_event(secret: str, payment_id: str) -> tuple[str, dict[str, str]]:
    event = {"id": str(uuid.uuid4()), "detail-type": "Payment Captured", "source": "qpay.payments", "time": "now",
             "detail": {"payment_id": payment_id, "status": "Captured", "event_id": "e1", "reference": "R"}}  # fmt: skip
    body = json.dumps(event, separators=(",", ":"))
    return body, forwarder.signed_headers(secret, event["id"], body.encode(), int(time.time()))


# -- HTTP (curl) ------------------------------------------------------------------------------------------


def test_the_curl_snippets_create_read_and_refund(stack: LocalStack, env_local: dict[str, str], workdir: Path) -> None:
    created = json.loads(run(workdir, env_local, "bash", '-X POST "$QPAY_API_URL/payments"').stdout)
    assert (created["reference"], created["status"], created["amount"]) == ("ORD-1001", "Pending", 12500)
    extra = {"PAYMENT_ID": created["id"], "CLIENT_SECRET": created["client_secret"]}
    reads = run(workdir, env_local, "bash", '"$QPAY_API_URL/payments/$PAYMENT_ID"', extra=extra).stdout
    browser, server = json_values(reads)
    assert browser["id"] == server["id"] == created["id"]
    assert "cko_payment_id" in server and "cko_payment_id" not in browser  # the merchant's view only
    pay(stack, env_local, created["id"])
    refunded = json.loads(run(workdir, env_local, "bash", "--aws-sigv4", extra=extra).stdout)
    assert (refunded["payment_id"], refunded["amount"], refunded["status"]) == (created["id"], 2500, "Requested")


# -- Node (qpay-client) -----------------------------------------------------------------------------------

node_only = pytest.mark.skipif(not NODE_OK, reason="node and the qpay-client package (make test: npm ci)")


@node_only
def test_node_create_read_and_refund(stack: LocalStack, env_local: dict[str, str], workdir: Path) -> None:
    reference = ref("ORD-NODE")
    created = json.loads(run(workdir, env_local, "js", "create-payment.js", reference).stdout)
    assert created["status"] == "Pending" and created["id"].startswith("qpp_")
    read = json.loads(run(workdir, env_local, "js", "read-payment.js", created["id"]).stdout)
    assert (read["status"], read["amount"]) == ("Pending", 12500)
    pay(stack, env_local, created["id"])
    key = f"refund-{reference}-1"
    done = json.loads(run(workdir, env_local, "js", "refund.js", created["id"], "2500", key).stdout)
    assert done["status"] == 202, done
    assert (done["body"]["payment_id"], done["body"]["amount"]) == (created["id"], 2500)
    again = json.loads(run(workdir, env_local, "js", "refund.js", created["id"], "2500", key).stdout)
    assert (again["status"], again["body"]["id"]) == (202, done["body"]["id"])  # the same key: the same refund
    wrong = {"QPAY_AWS_SECRET_ACCESS_KEY": "wrong" + "0" * 35}
    refused = json.loads(run(workdir, env_local, "js", "refund.js", created["id"], "100", "k2", extra=wrong).stdout)
    assert refused["status"] == 403 and "signature" in refused["body"]["message"].lower()


@node_only
def test_node_read_says_why_a_payment_was_declined(stack: LocalStack, env_local: dict[str, str], workdir: Path) -> None:
    created = json.loads(run(workdir, env_local, "js", "create-payment.js", ref("ORD-DECL")).stdout)
    assert stack.sim is not None
    read = httpx.get(f"{stack.api_url}/payments/{created['id']}", headers=merchant(env_local)).json()
    stack.sim.pay(str(read["cko_payment_id"]), pin="000000")  # a wrong PIN: Checkout declines it
    deadline = time.monotonic() + 30
    while True:
        shown = json.loads(run(workdir, env_local, "js", "read-payment.js", created["id"]).stdout)
        if shown["decline"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown["status"] == "Declined"
    assert shown["decline"]["response_code"] == "20006"  # the simulator's decline code, as Checkout's webhook says


@node_only
def test_node_order_token_is_what_the_product_accepts(env_local: dict[str, str], workdir: Path) -> None:
    token = run(workdir, env_local, "js", "order-token.js", "ORD-NODE-7", "4200").stdout
    now = int(time.time())
    key, kid = env_local["QPAY_ORDER_TOKEN_KEY"], env_local["QPAY_ORDER_TOKEN_KID"]
    claims = verify_order_token(token, lambda k: key if k == kid else None, now=now, leeway_s=0)
    assert {k: claims[k] for k in ("reference", "amount", "currency", "aud")} == {
        "reference": "ORD-NODE-7", "amount": 4200, "currency": "QAR", "aud": AUDIENCE,
    }  # fmt: skip
    assert now <= int(claims["exp"]) - 895 <= now + 10  # 15 minutes
    assert uuid.UUID(str(claims["jti"]))


@node_only
def test_node_event_receiver_verifies_what_the_forwarder_signs(env_local: dict[str, str], workdir: Path) -> None:
    run(workdir, env_local, "js", "events.js")  # loads
    body, headers = signed_event(env_local["QPAY_EVENT_FORWARDING_SECRET"], "qpp_node")
    script = f"""
const {{ onOrderEvent }} = require({json.dumps(str(workdir / "events.js"))});
const [body, headers] = [process.argv[1], JSON.parse(process.argv[2])];
const out = [onOrderEvent(body, headers)];
for (const bad of [body + " ", body]) {{
  const h = bad === body ? {{ ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 3600) }} : headers;
  try {{ onOrderEvent(bad, h); out.push("accepted"); }} catch (e) {{ out.push("refused"); }}
}}
process.stdout.write(JSON.stringify(out));
"""
    env = {"PATH": os.environ["PATH"], "NODE_PATH": str(ROOT / "node_modules"), **env_local}
    done = subprocess.run(["node", "-e", script, body, json.dumps(headers)], capture_output=True, text=True,
                          timeout=60, check=True, cwd=ROOT, env=env)  # fmt: skip
    first, tampered, stale = json.loads(done.stdout)
    assert first == {"type": "Payment Captured", "payment": "qpp_node", "status": "Captured"}
    assert (tampered, stale) == ("refused", "refused")


# -- Python (qpay-client) ---------------------------------------------------------------------------------


def test_python_storefront_creates_reads_and_signs_a_refund(env_local: dict[str, str], workdir: Path) -> None:
    out = run(workdir, env_local, "python", "storefront.py", ref("ORD-PY")).stdout.splitlines()
    payment_id, redirect = out[0].split()
    assert payment_id.startswith("qpp_") and redirect.startswith("http")
    assert out[1] == "Pending"
    assert out[2] == "409 not_refundable"  # the signature passed API Gateway's IAM check; the payment is not paid


def test_python_order_token_and_event_receiver(env_local: dict[str, str], workdir: Path) -> None:
    token = run(workdir, env_local, "python", "order_token.py", "ORD-PY-7", "4200").stdout
    key, kid = env_local["QPAY_ORDER_TOKEN_KEY"], env_local["QPAY_ORDER_TOKEN_KID"]
    claims = verify_order_token(token, lambda k: key if k == kid else None, now=int(time.time()), leeway_s=0)
    assert (claims["reference"], claims["amount"]) == ("ORD-PY-7", 4200)

    from qpay_client import WebhookVerificationError

    scope: dict[str, Any] = {}
    saved = os.environ.get("QPAY_EVENT_FORWARDING_SECRET")
    os.environ["QPAY_EVENT_FORWARDING_SECRET"] = env_local["QPAY_EVENT_FORWARDING_SECRET"]
    try:
        exec(block("python", "events.py"), scope)
    finally:
        if saved is None:
            del os.environ["QPAY_EVENT_FORWARDING_SECRET"]
        else:
            os.environ["QPAY_EVENT_FORWARDING_SECRET"] = saved
    body, headers = signed_event(env_local["QPAY_EVENT_FORWARDING_SECRET"], "qpp_py")
    assert scope["on_order_event"](body.encode(), headers) == {"type": "Payment Captured", "payment": "qpp_py"}
    with pytest.raises(WebhookVerificationError):
        scope["on_order_event"](body.encode() + b" ", headers)


# -- PHP (clients/php) ------------------------------------------------------------------------------------

php_only = pytest.mark.skipif(not PHP_OK, reason="php-cli (make test installs php-cli and php-curl)")


@php_only
def test_php_storefront_creates_reads_and_signs_a_refund(env_local: dict[str, str], workdir: Path) -> None:
    out = run(workdir, env_local, "php", "storefront.php", ref("ORD-PHP")).stdout.splitlines()
    payment_id, status = out[0].split()
    assert payment_id.startswith("qpp_") and status == "Pending"
    assert out[1] == "409 not_refundable"  # SigV4 accepted by the IAM route; the payment is not captured yet


@php_only
def test_php_order_token_and_event_receiver(env_local: dict[str, str], workdir: Path) -> None:
    token = run(workdir, env_local, "php", "order-token.php", "ORD-PHP-7", "4200").stdout
    key, kid = env_local["QPAY_ORDER_TOKEN_KEY"], env_local["QPAY_ORDER_TOKEN_KID"]
    claims = verify_order_token(token, lambda k: key if k == kid else None, now=int(time.time()), leeway_s=0)
    assert (claims["reference"], claims["amount"], claims["aud"]) == ("ORD-PHP-7", 4200, AUDIENCE)
    run(workdir, env_local, "php", "events.php")  # loads
    body, headers = signed_event(env_local["QPAY_EVENT_FORWARDING_SECRET"], "qpp_php")
    script = (
        f"require {json.dumps(str(workdir / 'events.php'))};"
        "$h = json_decode($argv[2], true);"
        "$out = [onOrderEvent($argv[1], $h)];"
        "try { onOrderEvent($argv[1] . ' ', $h); $out[] = 'accepted'; } catch (QPay\\WebhookVerificationError $e) { $out[] = 'refused'; }"
        "echo json_encode($out);"
    )
    env = {"PATH": os.environ["PATH"], **env_local}
    done = subprocess.run(["php", "-r", script, "--", body, json.dumps(headers)], capture_output=True, text=True,
                          timeout=60, check=False, cwd=ROOT, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == [{"type": "Payment Captured", "payment": "qpp_php"}, "refused"]

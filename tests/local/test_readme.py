"""The README's local-stack section: its receiver snippets verify what the forwarder signs, in Node
and in Python, and refuse a tampered body or an old timestamp."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from qpay_local import forwarder
from qpay_local.stack import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
SECRET = "whsec_fwd_0123456789abcdef0123456789abcdef"
BODY = b'{"id":"e-1","detail-type":"Payment Captured","detail":{"payment_id":"qpp_x"}}'


def block(language: str, marker: str) -> str:
    for code in re.findall(rf"```{language}\n(.*?)```", README, flags=re.S):
        if marker in code:
            return code
    raise AssertionError(f"no {language} block with {marker!r} in README.md")


def cases():
    now = int(time.time())
    good = forwarder.signature(SECRET, BODY, now)
    return [
        (BODY, good, True),
        (BODY + b" ", good, False),  # tampered
        (BODY, forwarder.signature("another-secret", BODY, now), False),
        (BODY, forwarder.signature(SECRET, BODY, now - 3600), False),  # replayed an hour later
        (BODY, "v1=abc", False),
    ]


def test_python_snippet():
    scope: dict = {}
    exec(block("python", "def verify_qpay_signature"), scope)
    for body, header, want in cases():
        assert scope["verify_qpay_signature"](body, header, SECRET) is want, header


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_snippet():
    code = block("js", "function verifyQpaySignature")
    script = code + "\nconst [body, header, secret] = process.argv.slice(1);\n"
    script += "process.stdout.write(String(verifyQpaySignature(Buffer.from(body), header, secret)));\n"
    for body, header, want in cases():
        out = subprocess.run(
            ["node", "-e", script, body.decode(), header, SECRET],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert out == str(want).lower(), (header, out)


def test_the_section_names_what_make_run_prints():
    section = README.split("## The local stack (`make run`)", 1)[1].split("\n## ", 1)[0]
    for needle in (
        "--forward-events-to",
        "Qpay-Signature",
        "make trigger",
        "/_local",
        "--time-scale",
        "--storefront-url",
        "--cors-origin",
        "StorefrontOrigins",
        ".local-state/keys.json",
        "env.local",
        "--fresh-keys",
        "--keys-file",
        "--log-format",
        "expect_status",
        "python3-venv",
        "chromium",
        "default-jre-headless",
    ):
        assert needle in section, needle

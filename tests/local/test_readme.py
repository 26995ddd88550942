"""The README's local-stack section names what `make run` prints and takes (the receiver snippets for
forwarded events are the clients', run by tests/contract_api/test_readme_snippets.py)."""

from __future__ import annotations

import re

from qpay_local.stack import REPO_ROOT

README = (REPO_ROOT / "docs" / "local-stack.md").read_text() + (REPO_ROOT / "docs" / "integrate.md").read_text()
SECRET = "whsec_fwd_0123456789abcdef0123456789abcdef"
BODY = b'{"id":"e-1","detail-type":"Payment Captured","detail":{"payment_id":"qpp_x"}}'


def block(language: str, marker: str) -> str:
    for code in re.findall(rf"```{language}\n(.*?)```", README, flags=re.S):
        if marker in code:
            return code
    raise AssertionError(f"no {language} block with {marker!r} in README.md")


def test_the_section_names_what_make_run_prints():
    section = (REPO_ROOT / "docs" / "local-stack.md").read_text()  # the README's local-stack page
    for needle in (
        "--forward-events-to",
        "webhook-signature",
        "--events-batching-window",
        "Resend",
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

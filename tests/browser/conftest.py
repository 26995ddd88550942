"""Headless Chromium (Debian's ``/usr/bin/chromium``; Playwright's own download is not used) against the
whole local stack with the demo storefront mounted at ``/shop``.

One ``LocalStack`` and one browser per module (moto is process-global: one stack alive at a time);
every test gets a fresh browser context.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_shop import for_stack
from qpay_local.stack import LocalStack

CHROMIUM = os.environ.get("QPAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--no-proxy-server",
]
REPO_ROOT = Path(__file__).resolve().parents[2]


def chromium_missing() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is not installed (apt-get install chromium, or set QPAY_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001) as s:
        s.mount("/shop", for_stack(s))
        yield s


@pytest.fixture(scope="module")
def shop_url(stack: LocalStack) -> str:
    return stack.api_url + "/shop"


def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright for one module (skips the test when it is missing)."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 900, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"

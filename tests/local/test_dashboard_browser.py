"""The local dashboard in headless Chromium (Debian's /usr/bin/chromium through Playwright): search a
reference, open the payment, watch its timeline refresh live when Checkout.com refunds it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from qpay_local.stack import LocalStack
from tests.browser.conftest import launched_chromium
from tests.local.test_dashboard import cko_id, create

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, dashboard=True) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


def test_search_open_and_watch_the_timeline(stack, browser):
    from playwright.sync_api import expect

    paid = create(stack, "ORD-UI-1")
    create(stack, "ORD-UI-2")
    stack.sim.pay(cko_id(stack, "ORD-UI-1"))
    stack.drain()
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{stack.api_url}/_local")
        rows = page.locator("#payments tbody tr")
        expect(rows).to_have_count(2)
        page.get_by_label("Search by order reference or payment id").fill("ord-ui-1")
        expect(rows).to_have_count(1)
        rows.first.click()
        expect(page).to_have_url(re.compile(f"#{paid}$"))
        expect(page.locator("#detail-title")).to_contain_text("ORD-UI-1")
        expect(page.locator("#detail-title .badge")).to_have_text("Captured")
        timeline = page.locator("#timeline li")
        expect(timeline.filter(has_text="Capture Pending → Captured")).to_have_count(1)
        expect(timeline.filter(has_text="Checkout webhook payment_captured → 200 (applied)")).to_have_count(1)
        expect(timeline.filter(has_text="order event Payment Captured")).to_have_count(1)
        # a final payment shows no deadline and no expiry timer (U5); an open one does
        expect(page.locator("#summary")).not_to_contain_text("Deadline")
        expect(page.locator("#summary")).not_to_contain_text("Expiry timer")
        # Checkout.com refunds it from its Dashboard: the page follows without a reload
        stack.sim.dashboard_refund(cko_id(stack, "ORD-UI-1"), 2500)
        expect(page.locator("#detail-title .badge")).to_have_text("Partially Refunded")
        expect(timeline.filter(has_text="Checkout webhook payment_refunded → 200")).to_have_count(1)
        expect(page.locator("#live")).to_have_text("live")
        page.get_by_label("Search by order reference or payment id").fill("")
        rows.filter(has_text="ORD-UI-2").click()
        expect(page.locator("#detail-title")).to_contain_text("ORD-UI-2")
        expect(page.locator("#summary")).to_contain_text("Deadline")
    finally:
        context.close()
    assert not errors, errors

"""The storefront at desktop (1280x800) and phone (390x844) widths, in English and Arabic: the order
form, the hosted QPay page (the simulator's) and the result page. Screenshots go to ``docs/`` with
``UPDATE_SCREENSHOT=1`` (the README shows them), else to a scratch folder. On every storefront page: no
horizontal overflow, ``dir="rtl"`` in Arabic; plus the accessibility basics (live status, a ≥ 3 px
focus outline, footer contrast ≥ 4.5:1)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qpay_local.stack import LocalStack
from tests.browser.conftest import REPO_ROOT
from tests.browser.test_storefront import SETTLE_MS, expect, qpay

pytestmark = pytest.mark.browser

SHOTS = REPO_ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOT") else Path(tempfile.gettempdir()) / "qpay-shots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 390, "height": 844}}
STATUS_TEXT = {"en": "Captured", "ar": "تم الدفع"}


@pytest.fixture
def context_for(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []
    errors: list[str] = []

    def make(viewport: str, lang: str) -> Any:
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            locale="ar-QA" if lang == "ar" else "en-US",
            is_mobile=viewport == "mobile",
            has_touch=viewport == "mobile",
            device_scale_factor=1,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"storefront-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert 0 < path.stat().st_size < 400_000
    return path


def no_horizontal_overflow(page: Any) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport ({page.url})"


def storefront_language(page: Any, lang: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_order_qpay_and_result_pages(
    context_for: Any, stack: LocalStack, shop_url: str, viewport: str, lang: str
) -> None:
    page = context_for(viewport, lang)
    page.goto(f"{shop_url}?lang={lang}")
    storefront_language(page, lang)
    expect(page.locator("#pay-button")).to_have_text("Pay with QPay" if lang == "en" else "ادفع عبر كيو باي")
    page.locator("details.cards summary").click()  # the test cards, open in the screenshot
    no_horizontal_overflow(page)
    shot(page, f"order-{viewport}-{lang}")

    page.fill("#amount", "1,250.00")
    page.click("#pay-button")
    page.wait_for_url(f"{stack.sim_url}/qpay-external/**")
    expect(page.locator("#pay")).to_be_visible()
    # the hosted QPay page follows the payment's language (RTL in Arabic) and fits a phone as well
    qpay_lang = page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]")
    assert qpay_lang == (["ar", "rtl"] if lang == "ar" else ["en", "ltr"])
    no_horizontal_overflow(page)
    shot(page, f"qpay-{viewport}-{lang}")

    qpay(page)
    page.wait_for_url(f"{shop_url}/result?*")
    expect(page.locator("#status")).to_have_text(STATUS_TEXT[lang], timeout=SETTLE_MS)
    expect(page.locator("#amount")).to_have_text("QAR 1,250.00" if lang == "en" else "1,250.00 ر.ق")
    storefront_language(page, lang)
    expect(page.locator("#refund-section")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, f"result-{viewport}-{lang}")


def test_long_refund_rows_fit_a_phone(context_for: Any, stack: LocalStack, shop_url: str) -> None:
    """The widest result page (ids, a refunds table, a refund notice) at 390 px, in Arabic."""
    page = context_for("mobile", "ar")
    page.goto(f"{shop_url}?lang=ar")
    page.click("#pay-button")
    page.wait_for_url(f"{stack.sim_url}/qpay-external/**")
    qpay(page)
    page.wait_for_url(f"{shop_url}/result?*")
    expect(page.locator("#status")).to_have_attribute("data-status", "Captured", timeout=SETTLE_MS)
    page.fill("#refund-amount", "25.00")
    page.click("#refund-button")
    expect(page.locator("#refunds tr")).to_have_count(1, timeout=SETTLE_MS)
    expect(page.locator("#status")).to_have_attribute("data-status", "Partially Refunded", timeout=SETTLE_MS)
    expect(page.locator("#refund-result")).to_contain_text("مسترد.", timeout=SETTLE_MS)  # followed the poll
    no_horizontal_overflow(page)
    storefront_language(page, "ar")
    shot(page, "result-refunded-mobile-ar")


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_accessibility_basics(page: Any, stack: LocalStack, shop_url: str) -> None:
    page.goto(shop_url)
    colours = page.evaluate(
        "() => [getComputedStyle(document.querySelector('.foot')).color, getComputedStyle(document.body).backgroundColor]"
    )
    assert contrast(*colours) >= 4.5, colours
    page.focus("#amount")
    page.keyboard.press("Tab")  # keyboard focus: :focus-visible applies
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none" and float(outline[1].removesuffix("px")) >= 3, outline
    expect(page.locator("#past-expiry-note")).to_contain_text("expiry is in the past on purpose")

    page.goto(f"{shop_url}/result?payment_id=qpp_{'a' * 26}&reference=ORD-X")
    expect(page.locator("#status")).to_have_attribute("aria-live", "polite")

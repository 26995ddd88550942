"""The hosted QPay page reads like a real bank page: language and direction, summary, countdown,
accessible labels, mobile viewport, visible focus, no external assets (parsed, not string-matched).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from htmldoc import Document
from simhelpers import AUTH, create

from cko_sim import Simulator


def _open(sim: Simulator, **overrides: Any) -> tuple[dict[str, Any], Document, str]:
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        created = create(c, **overrides)
    html = httpx.get(created["_links"]["redirect"]["href"]).text
    return created, Document(html), html


def _qpay(language: str = "en", **fields: Any) -> dict[str, Any]:
    return {"type": "qpay", "description": "Order 1001", "language": language, "quantity": 1, **fields}


def _style(doc: Document) -> str:
    return doc.one("style").text


def test_english_page_is_ltr_with_viewport(sim: Simulator) -> None:
    _, doc, _ = _open(sim)
    html = doc.one("html")
    assert (html.get("lang"), html.get("dir")) == ("en", "ltr")
    viewports = [m for m in doc.all("meta") if m.get("name") == "viewport"]
    assert [m.get("content") for m in viewports] == ["width=device-width, initial-scale=1"]
    assert doc.label_for("card_number").text == "Debit card number"


@pytest.mark.parametrize("language", ["ar", "Ar"])
def test_arabic_page_is_rtl_with_arabic_labels(sim: Simulator, language: str) -> None:
    _, doc, _ = _open(sim, source=_qpay(language, description="طلب رقم ١٠٠١"))
    html = doc.one("html")
    assert (html.get("lang"), html.get("dir")) == ("ar", "rtl")
    assert doc.label_for("card_number").text == "رقم بطاقة الخصم"
    assert doc.label_for("pin").text == "الرقم السري"
    assert doc.by_id("pay").text == "ادفع"
    assert doc.by_id("cancel").text == "إلغاء"
    assert doc.by_id("payment-description").text == "طلب رقم ١٠٠١"
    # numbers and card fields stay left-to-right inside the RTL page
    assert doc.by_id("amount").get("dir") == "ltr"
    assert doc.by_id("card_number").get("dir") == "ltr"


def test_every_visible_input_has_a_label(sim: Simulator) -> None:
    _, doc, _ = _open(sim)
    inputs = [i for i in doc.all("input") if i.get("type") != "hidden"]
    assert {i.get("id") for i in inputs} == {"card_number", "expiry", "pin"}
    for element in inputs:
        assert doc.label_for(str(element.get("id"))).text.strip()
    assert doc.by_id("pin").get("type") == "password"
    assert "formnovalidate" in doc.by_id("cancel").attrs  # Cancel never blocks on field validation


@pytest.mark.parametrize(("amount", "shown"), [(1000, "QAR 10.00"), (5, "QAR 0.05"), (123456, "QAR 1,234.56")])
def test_summary_shows_merchant_amount_and_description(sim: Simulator, amount: int, shown: str) -> None:
    _, doc, _ = _open(sim, amount=amount)
    assert doc.by_id("merchant-name").text == "Demo Merchant"
    assert doc.by_id("amount").text == shown
    assert doc.by_id("payment-description").text == "QPay Demo Payment"
    assert doc.by_id("payment-reference").text == "ORD-1"


def test_merchant_name_is_configurable(make_sim: Callable[..., Simulator]) -> None:
    _, doc, _ = _open(make_sim(merchant_name="Souq Waqif Spices"))
    assert doc.by_id("merchant-name").text == "Souq Waqif Spices"


def test_description_is_escaped(sim: Simulator) -> None:
    _, doc, html = _open(sim, source=_qpay(description="<script>alert(1)</script>"))
    assert doc.by_id("payment-description").text == "<script>alert(1)</script>"
    assert "<script>alert(1)" not in html


def test_countdown_to_the_payment_expiry_is_rendered_server_side(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(payment_expiry_seconds=600)
    created, doc, _ = _open(sim)
    value = doc.by_id("countdown-value")
    left = int(str(value.get("data-seconds-left")))
    assert 590 <= left <= 600
    assert re.fullmatch(r"(09:5\d|10:00)", value.text)
    details = httpx.get(f"{sim.base_url}/payments/{created['id']}", headers=AUTH).json()
    assert doc.by_id("countdown").get("data-expires-at") == details["expires_on"]
    sim.clock.advance(300)
    later = Document(httpx.get(created["_links"]["redirect"]["href"]).text)
    assert re.fullmatch(r"0[45]:\d\d", later.by_id("countdown-value").text)


def test_no_countdown_without_expiry(make_sim: Callable[..., Simulator]) -> None:
    _, doc, _ = _open(make_sim(payment_expiry_seconds=None))
    assert not doc.has_id("countdown")
    assert doc.all("script") == []


def test_visible_focus_large_targets_and_no_external_assets(sim: Simulator) -> None:
    _, doc, html = _open(sim)
    css = _style(doc)
    focus_rules = re.findall(r":focus(?:-visible)?[^{]*\{([^}]*)\}", css)
    assert focus_rules
    assert all(re.search(r"outline:\s*3px solid", rule) for rule in focus_rules)
    for selector in ("input", "button"):
        rule = re.search(rf"(^|\}})\s*{selector}\s*(,[^{{]*)?\{{([^}}]*)\}}", css)
        assert rule is not None, selector
        assert "min-height:48px" in rule.group(3)
    assert "overflow-wrap:anywhere" in css
    assert "box-sizing:border-box" in css
    assert doc.all("link") == []
    assert all(e.get("src") is None for e in doc.elements)
    assert "url(" not in css
    assert "@import" not in css
    assert "http" not in "".join(s.text for s in doc.all("script"))


def test_page_works_without_javascript(sim: Simulator) -> None:
    """The form posts and redirects on its own: the only script ticks the countdown."""
    created, doc, _ = _open(sim)
    pun = parse_qs(urlsplit(created["_links"]["redirect"]["href"]).query)["pun"][0]
    form = doc.one("form")
    action = str(form.get("action"))
    response = httpx.post(
        f"{sim.base_url}{action}",
        data={"pun": pun, "card_number": "4215375500883243", "expiry": "12/39", "pin": "123456", "action": "pay"},
    )
    assert response.status_code == 303


def test_arabic_decline_and_final_page(sim: Simulator) -> None:
    created, _, _ = _open(sim, source=_qpay("ar"))
    pun = parse_qs(urlsplit(created["_links"]["redirect"]["href"]).query)["pun"][0]
    response = httpx.post(
        created["_links"]["redirect"]["href"],
        data={"pun": pun, "card_number": "4215375500883243", "expiry": "12/39", "pin": "000000", "action": "pay"},
    )
    doc = Document(response.text)
    assert doc.one("html").get("dir") == "rtl"
    assert doc.by_id("decline-message").text == "تم رفض الدفع: الرقم السري غير صحيح."
    assert doc.by_id("return-to-merchant").text == "العودة إلى التاجر"
    assert doc.by_id("payment-status").get("data-status") == "Declined"

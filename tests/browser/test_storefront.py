"""The demo storefront end to end in headless Chromium: order → token path → QPay page → result page,
refunds through the shop's SigV4-signing proxy, and the IAM route refusing unsigned calls."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from qpay_local.stack import LocalStack
from tests.browser.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

SUCCESS_CARD = "4215375500883243"
SUCCESS_PIN = "123456"
# The README's screenshot is refreshed only on request (UPDATE_SCREENSHOT=1 make test); otherwise the
# test still takes it, into a scratch folder, so a normal run leaves the tree clean.
SCREENSHOT = (
    REPO_ROOT / "docs" / "storefront-result.png"
    if os.environ.get("UPDATE_SCREENSHOT")
    else Path(tempfile.gettempdir()) / "qpay-storefront-result.png"
)
SETTLE_MS = 20_000


def future_expiry() -> str:
    now = datetime.now(UTC)
    return f"{now.month:02d}/{(now.year + 2) % 100:02d}"


def merchant(stack: LocalStack) -> dict[str, str]:
    """The merchant's server reads payments with its API key (the browser uses the client secret)."""
    return {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}


def wait_for_status(
    stack: LocalStack, payment_id: str, status: str, timeout_s: float = SETTLE_MS / 1000
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        doc: dict[str, Any] = httpx.get(f"{stack.api_url}/payments/{payment_id}", headers=merchant(stack)).json()
        if doc.get("status") == status or time.monotonic() > deadline:
            assert doc.get("status") == status, doc
            return doc
        time.sleep(0.1)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(target)


def order(page: Any, shop_url: str, sim_url: str, *, amount: str = "125.00", description: str = "Demo order") -> str:
    """Fill the order form, let the browser create the payment, land on the QPay page; the order reference."""
    page.goto(shop_url)
    page.fill("#amount", amount)
    page.fill("#description", description)
    page.click("#pay-button")
    # The shop's page creates the payment from the browser and moves on to QPay at once.
    page.wait_for_url(f"{sim_url}/qpay-external/**")
    reference = str(page.locator("#payment-reference").inner_text())
    assert re.fullmatch(r"ORD-[A-Z0-9]{10}", reference), reference
    return reference


def qpay(page: Any, *, card: str = SUCCESS_CARD, expiry: str | None = None, pin: str = SUCCESS_PIN) -> None:
    page.fill("#card_number", card)
    page.fill("#expiry", expiry or future_expiry())
    page.fill("#pin", pin)
    page.click("#pay")


def on_result_page(page: Any, shop_url: str, reference: str) -> None:
    page.wait_for_url(f"{shop_url}/result?*")
    assert f"reference={reference}" in page.url
    expect(page.locator("#reference")).to_have_text(reference)


def test_pays_with_the_success_card_and_sees_captured(page: Any, stack: LocalStack, shop_url: str) -> None:
    reference = order(page, shop_url, stack.sim_url, amount="125.00")
    qpay(page)
    on_result_page(page, shop_url, reference)
    expect(page.locator("#status")).to_have_text("Captured", timeout=SETTLE_MS)
    expect(page.locator("#amount")).to_have_text("QAR 125.00")
    expect(page.locator("#refund-section")).to_be_visible()
    # The browser created the payment with the order token: the amount is the one the shop's server set.
    payment_id = page.locator("#payment-id").inner_text()
    doc = httpx.get(f"{stack.api_url}/payments/{payment_id}", headers=merchant(stack)).json()
    assert (doc["reference"], doc["amount"], doc["currency"], doc["status"]) == (reference, 12500, "QAR", "Captured")


def test_wrong_pin_is_declined_then_try_again_pays_the_same_order(page: Any, stack: LocalStack, shop_url: str) -> None:
    reference = order(page, shop_url, stack.sim_url, amount="40.50")
    qpay(page, pin="000000")
    expect(page.locator("#decline-message")).to_be_visible()
    page.click("#return-to-merchant")
    on_result_page(page, shop_url, reference)
    expect(page.locator("#status")).to_have_text("Declined", timeout=SETTLE_MS)
    expect(page.locator("#outcome")).to_contain_text("No money was taken")
    # why, as Checkout.com's notification said it (the shop's server reads the merchant view: U4)
    expect(page.locator("#decline-reason")).to_contain_text("(code 20006)", timeout=SETTLE_MS)
    expect(page.locator("#refund-section")).to_be_hidden()
    expect(page.locator("#refunded-amount")).to_be_hidden()  # no "Refunded QAR 0.00" on a declined payment
    first_id = page.locator("#payment-id").inner_text()

    # "Try again with QPay": a new payment (new order token, new jti) for the same order and amount
    page.click("#retry-qpay")
    expect(page.locator("#retry-amount")).to_have_text("QAR 40.50")
    page.click("#pay-button")
    page.wait_for_url(f"{stack.sim_url}/qpay-external/**")
    assert page.locator("#payment-reference").inner_text() == reference
    qpay(page)
    on_result_page(page, shop_url, reference)
    expect(page.locator("#status")).to_have_text("Captured", timeout=SETTLE_MS)
    second_id = page.locator("#payment-id").inner_text()
    assert second_id != first_id
    assert wait_for_status(stack, first_id, "Declined")["reference"] == reference
    assert wait_for_status(stack, second_id, "Captured")["amount"] == 4050


def test_cancel_on_the_qpay_page(page: Any, stack: LocalStack, shop_url: str) -> None:
    reference = order(page, shop_url, stack.sim_url, amount="9.99")
    page.click("#cancel")
    on_result_page(page, shop_url, reference)
    expect(page.locator("#status")).to_have_text("Canceled", timeout=SETTLE_MS)
    expect(page.locator("#outcome")).to_contain_text("You cancelled the payment")
    expect(page.locator("#retry-qpay")).to_be_visible()
    expect(page.locator("#refund-section")).to_be_hidden()
    expect(page.locator("#refunded-amount")).to_be_hidden()


def test_partial_refund_from_the_result_page(page: Any, stack: LocalStack, shop_url: str) -> None:
    reference = order(page, shop_url, stack.sim_url, amount="125.00", description="Dates and coffee")
    qpay(page)
    on_result_page(page, shop_url, reference)
    expect(page.locator("#status")).to_have_text("Captured", timeout=SETTLE_MS)
    expect(page.locator("#refundable")).to_have_text("(up to QAR 125.00)")

    page.fill("#refund-amount", "25.00")
    page.click("#refund-button")
    expect(page.locator("#refund-result")).to_contain_text(re.compile(r"Refund qrf_[a-z2-7]{26} for QAR 25\.00"))
    # the notice follows the poll: it ends on the refund's final state, as its row does
    expect(page.locator("#refund-result")).to_contain_text("Refunded.", timeout=SETTLE_MS)
    # Signed proxy → IAM route → Step Functions → Checkout.com → webhook → the polling page.
    expect(page.locator("#status")).to_have_text("Partially Refunded", timeout=SETTLE_MS)
    expect(page.locator("#refunded-amount")).to_have_text("QAR 25.00", timeout=SETTLE_MS)
    rows = page.locator("#refunds tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge")).to_have_text("Refunded", timeout=SETTLE_MS)
    expect(page.locator("#refundable")).to_have_text("(up to QAR 100.00)")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#refund-result").evaluate("el => el.hidden = true")  # the settled page, without the transient notice
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size < 200_000

    # More than what is left is refused by the API, and the page says so.
    page.fill("#refund-amount", "100.01")
    page.click("#refund-button")
    # back-office copy in QAR, never minor units; the API's answer in the small details line
    expect(page.locator("#refund-result")).to_contain_text("You can refund at most QAR 100.00.")
    expect(page.locator("#refund-result .details")).to_contain_text("HTTP 422 · amount_exceeds_balance")
    expect(page.locator("#status")).to_have_text("Partially Refunded")


def test_unsigned_refund_is_forbidden(stack: LocalStack) -> None:
    created = httpx.post(
        f"{stack.api_url}/payments",
        headers={"Authorization": f"Bearer {stack.keys.merchant_api_key}"},
        json={
            "reference": "ORD-UNSIGNED1",
            "amount": 5000,
            "currency": "QAR",
            "description": "unsigned refund check",
            "national_id": "28763400000",
        },
    )
    assert created.status_code == 201, created.text
    payment_id = created.json()["id"]
    assert stack.sim is not None
    stack.sim.pay(
        created.json()["redirect_url"].split("pun=")[1], card=SUCCESS_CARD, expiry=future_expiry(), pin=SUCCESS_PIN
    )
    wait_for_status(stack, payment_id, "Captured")

    url = f"{stack.api_url}/payments/{payment_id}/refunds"
    unsigned = httpx.post(url, json={"amount": 1000}, headers={"Idempotency-Key": "unsigned-1"})
    assert unsigned.status_code == 403
    forged = httpx.post(
        url,
        json={"amount": 1000},
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFORGEDFORGED0000/20250101/us-east-1/execute-api/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "X-Amz-Date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        },
    )
    assert forged.status_code == 403
    doc = httpx.get(f"{stack.api_url}/payments/{payment_id}", headers=merchant(stack)).json()
    assert (doc["status"], doc["refunded_amount"], doc["refunds"]) == ("Captured", 0, [])


def test_order_form_rejects_a_bad_amount(page: Any, shop_url: str) -> None:
    page.goto(shop_url)
    page.fill("#amount", "12.345")
    page.click("#pay-button")
    expect(page.locator("#amount-error")).to_have_text("at most 2 decimals")
    expect(page.locator("#amount")).to_have_attribute("aria-invalid", "true")


def test_shopper_cannot_change_the_amount(page: Any, stack: LocalStack, shop_url: str) -> None:
    """The token path: a shopper who rewrites the browser's request gets a visible refusal, not a cheaper order."""

    def tamper(route: Any) -> None:
        body = json.loads(route.request.post_data)
        body["amount"] = 100
        route.continue_(post_data=json.dumps(body))

    page.route(f"{stack.api_url}/payments", tamper)
    page.goto(shop_url)
    page.fill("#amount", "125.00")
    page.click("#pay-button")
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator("strong")).to_have_text(
        "This checkout page has expired or was changed. Please start the order again."
    )
    details = page.locator("#error-details")  # the developer's line: status, code, message, request id
    expect(details).to_contain_text("HTTP 403 · forbidden · amount does not match the order token")
    expect(details).to_contain_text("request ")
    expect(page.locator("#new-order")).to_be_visible()
    expect(page.locator("#retry-button")).to_be_hidden()  # the same token cannot succeed: start again
    assert page.url.startswith(shop_url)


def test_a_checkout_outage_is_shopper_copy_and_try_again_works(page: Any, stack: LocalStack, shop_url: str) -> None:
    assert stack.sim is not None
    stack.sim.faults.fail_next(10, 503, "/payments", method="POST")
    try:
        page.goto(shop_url)
        page.click("#pay-button")
        error = page.locator("#error")
        expect(error.locator("strong")).to_have_text(
            "QPay is not reachable right now. Nothing was charged. Please try again in a moment.", timeout=SETTLE_MS
        )
        expect(page.locator("#error-details")).to_contain_text("HTTP 503 · checkout_unavailable")
        expect(page.locator("#error-details")).to_be_hidden()  # folded: developer text is not shopper copy (U10)
        page.locator("#error summary").click()
        expect(page.locator("#error-details")).to_be_visible()
    finally:
        stack.sim.faults.reset()
    page.click("#retry-button")  # the same Idempotency-Key: one payment however often it is pressed
    page.wait_for_url(f"{stack.sim_url}/qpay-external/**")

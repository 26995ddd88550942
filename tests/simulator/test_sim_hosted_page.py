"""The hosted QPay page: real HTML form, test-card rules, redirects with cko-session-id."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from htmldoc import Document
from simhelpers import NATIONAL_ID, create, qpay_body

from cko_sim import Clock, SimConfig, Simulator
from cko_sim.cards import decide


def _page_url(created: dict) -> str:
    return str(created["_links"]["redirect"]["href"])


def _submit(client: httpx.Client, created: dict, **form: str) -> httpx.Response:
    pun = parse_qs(urlsplit(_page_url(created)).query)["pun"][0]
    return client.post(_page_url(created), data={"pun": pun, **form})


def test_page_is_a_working_html_form(client: httpx.Client) -> None:
    created = create(client)
    page = httpx.get(_page_url(created))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    doc = Document(page.text)
    form = doc.one("form")
    assert form.get("method") == "post"
    for field in ("card_number", "expiry", "pin"):
        element = doc.by_id(field)
        assert element.tag == "input"
        assert element.get("name") == field
    pay, cancel = doc.by_id("pay"), doc.by_id("cancel")
    assert (pay.get("name"), pay.get("value"), pay.text) == ("action", "pay", "Pay")
    assert (cancel.get("name"), cancel.get("value"), cancel.text) == ("action", "cancel", "Cancel")
    assert doc.by_id("amount").text == "QAR 10.00"
    assert NATIONAL_ID not in page.text


def test_unknown_pun_is_404(sim: Simulator) -> None:
    assert httpx.get(f"{sim.base_url}/qpay-external/redirect-to-qpay?pun=nope").status_code == 404


def test_pin_card_pays_and_redirects_to_success_preserving_query(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    response = _submit(client, created, card_number="4215 3755 0088 3243", expiry="12/30", pin="123456", action="pay")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("https://shop.example/ok?order=ORD-1&cko-session-id=sid_")
    sid = parse_qs(urlsplit(location).query)["cko-session-id"][0]
    assert re.fullmatch(r"sid_[a-z2-7]{26}", sid)
    assert client.get(f"/payments/{sid}").json()["status"] == "Captured"
    assert sim.webhooks.wait_idle(5)
    assert [b["type"] for b in sim.webhooks.bodies()] == [
        "payment_pending",
        "payment_capture_pending",
        "payment_captured",
    ]
    # the page now shows the final state instead of the form
    after = Document(httpx.get(_page_url(created)).text)
    assert after.by_id("payment-status").get("data-status") == "Captured"
    assert after.all("form") == []


def test_success_url_without_query_gets_question_mark(client: httpx.Client, sim: Simulator) -> None:
    created = create(client, success_url="https://shop.example/done#top")
    url = sim.pay(created["id"])
    assert re.fullmatch(r"https://shop\.example/done\?cko-session-id=sid_[a-z2-7]{26}#top", url)


def test_fixed_expiry_card_pays_with_any_pin(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    response = _submit(client, created, card_number="4166390419570368", expiry="06/22", pin="999", action="pay")
    assert response.status_code == 303
    assert sim.get_payment(created["id"]).status.value == "Captured"


def test_cancel_redirects_to_failure_url(client: httpx.Client, sim: Simulator) -> None:
    created = create(client, failure_url="https://shop.example/fail?x=1&y=two")
    response = _submit(client, created, action="cancel")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("https://shop.example/fail?x=1&y=two&cko-session-id=sid_")
    assert sim.get_payment(created["id"]).status.value == "Canceled"
    assert sim.webhooks.wait_idle(5)
    assert sim.webhooks.bodies()[-1]["type"] == "payment_canceled"


@pytest.mark.parametrize(
    ("card", "expiry", "pin", "message"),
    [
        ("4215375500883243", "12/30", "000000", "incorrect PIN"),
        ("4215375500883243", "01/20", "123456", "expired"),
        ("4166390419570368", "07/2022", "1", "does not match"),
        ("4000000000000002", "12/30", "123456", "not accepted"),
        ("4215375500883243", "13/30", "123456", "expiry date"),
    ],
)
def test_declines_show_message_and_return_link(
    client: httpx.Client, sim: Simulator, card: str, expiry: str, pin: str, message: str
) -> None:
    created = create(client)
    response = _submit(client, created, card_number=card, expiry=expiry, pin=pin, action="pay")
    assert response.status_code == 200
    doc = Document(response.text)
    decline = doc.by_id("decline-message")
    assert message in decline.text
    assert decline.get("role") == "alert"
    back = doc.by_id("return-to-merchant")
    assert (back.get("href") or "").startswith("https://shop.example/fail?cko-session-id=sid_")
    assert sim.get_payment(created["id"]).status.value == "Declined"
    assert sim.webhooks.wait_idle(5)
    declined = sim.webhooks.bodies()[-1]
    assert declined["type"] == "payment_capture_declined"
    assert declined["data"]["response_code"] == "20006"
    # re-submitting does not reopen the payment
    again = _submit(client, created, card_number="4215375500883243", expiry="12/30", pin="123456", action="pay")
    assert again.status_code == 409
    assert sim.get_payment(created["id"]).status.value == "Declined"


def test_expiry_is_judged_on_the_simulator_clock(make_sim) -> None:
    clock = Clock(datetime(2030, 5, 15, tzinfo=UTC), frozen=True)
    sim = Simulator(SimConfig(), clock=clock)
    try:
        assert decide("4215375500883243", "05/30", "123456", clock.now()).approved
        assert not decide("4215375500883243", "04/30", "123456", clock.now()).approved
        clock.advance(31 * 24 * 3600)  # June 2030: 05/30 has now expired
        assert not decide("4215375500883243", "05/30", "123456", clock.now()).approved
        assert decide("4215375500883243", "06/2030", "123456", clock.now()).approved
    finally:
        sim.stop()


def test_sim_pay_accepts_pun_and_decline_returns_failure_url(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    pun = parse_qs(urlsplit(_page_url(created)).query)["pun"][0]
    url = sim.pay(pun, card="4215375500883243", expiry="12/99", pin="654321")
    assert url.startswith("https://shop.example/fail?cko-session-id=sid_")


def test_no_merchant_urls_uses_simulator_result_page(client: httpx.Client, sim: Simulator) -> None:
    body = qpay_body()
    del body["success_url"], body["failure_url"]
    created = client.post("/payments", json=body).json()
    url = sim.pay(created["id"])
    assert url.startswith(f"{sim.base_url}/qpay-external/result?outcome=success&cko-session-id=sid_")
    assert httpx.get(url).status_code == 200

"""The demo storefront's server side without a browser or a stack: amounts, mounting, the refund proxy."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials
from werkzeug.test import Client

from demo_shop import create_app
from demo_shop.money import AmountError, format_minor, to_minor_units
from qpay.api.auth import verify_order_token
from qpay_local import sigv4
from qpay_local.keys import LocalCredentials

pytestmark = pytest.mark.browser

API = "http://127.0.0.1:3999"
TOKEN_KEY = "otk_test_demo_shop_key_0123456789_abcdef"
PAYMENT_ID = "qpp_" + "a" * 26
CREDS = LocalCredentials.generate("us-east-1")


def body(response: Any) -> dict[str, Any]:
    doc = response.get_json()
    assert isinstance(doc, dict), response.text
    return doc


def shop() -> Client:
    return Client(create_app(api_url=API, order_token_key=TOKEN_KEY, credentials=CREDS, region="us-east-1"))


@pytest.mark.parametrize(
    ("text", "minor"),
    [("125.00", 12500), ("125", 12500), ("0.5", 50), ("1,250.75", 125075), (" QAR 9.99 ", 999), (".01", 1)],
)
def test_amounts_to_minor_units(text: str, minor: int) -> None:
    assert to_minor_units(text) == minor


@pytest.mark.parametrize("text", ["", "0", "0.00", "-5", "12.345", "1e3", "abc", "12,34", "21474836.48", "NaN"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(AmountError):
        to_minor_units(text)


def test_format_minor() -> None:
    assert format_minor(12500) == "125.00"
    assert format_minor(123456789) == "1,234,567.89"


def test_served_on_its_own_the_prefix_still_works() -> None:
    client = shop()
    for path in ("/shop", "/shop/"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert 'action="/shop/checkout"' in r.text
        assert 'href="/shop/static/shop.css"' in r.text
    assert client.get("/shop/static/result.js").status_code == 200


def test_mounted_with_script_name() -> None:
    r = shop().get("/", environ_overrides={"SCRIPT_NAME": "/store"})
    assert 'action="/store/checkout"' in r.text


def test_checkout_mints_a_token_for_the_servers_amount() -> None:
    r = shop().post(
        "/shop/checkout",
        data={"amount": "125.00", "description": "Tea", "language": "ar", "national_id": "28763400000"},
    )
    assert r.status_code == 200
    html = r.text
    token = html.split('data-order-token="')[1].split('"')[0]
    body = json.loads(html.split('data-body="')[1].split('"')[0].replace("&#34;", '"'))
    claims = verify_order_token(token, {"local-1": TOKEN_KEY}.get, now=int(time.time()), leeway_s=0)
    assert (claims["reference"], claims["amount"], claims["currency"]) == (body["reference"], 12500, "QAR")
    assert body["language"] == "ar"
    assert body["national_id"] == "28763400000"
    assert f'data-api-url="{API}"' in html


def test_checkout_rejects_bad_input_without_minting() -> None:
    r = shop().post("/shop/checkout", data={"amount": "-1", "description": "", "language": "fr", "national_id": "x y"})
    assert r.status_code == 400
    assert "data-order-token" not in r.text
    assert r.text.count('class="field-error"') == 4


def test_result_page_for_an_unknown_payment() -> None:
    r = shop().get("/shop/result?error=unknown_payment")
    assert r.status_code == 404
    assert "Payment not found" in r.text


def test_refund_proxy_signs_and_forwards(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_post(url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
        seen.update(url=url, content=content, headers=headers)
        return httpx.Response(
            202, json={"id": "qrf_" + "b" * 26, "payment_id": PAYMENT_ID, "amount": 2500, "status": "Requested"}
        )

    monkeypatch.setattr(httpx, "post", fake_post)
    r = shop().post("/shop/refund", json={"payment_id": PAYMENT_ID, "amount": "25.00", "idempotency_key": "k-1"})
    assert r.status_code == 202
    assert body(r)["status"] == "Requested"
    assert r.headers["Idempotency-Key"] == "k-1"
    assert seen["url"] == f"{API}/payments/{PAYMENT_ID}/refunds"
    assert json.loads(seen["content"]) == {"amount": 2500}
    assert seen["headers"]["Idempotency-Key"] == "k-1"
    # What API Gateway (the local stack's verifier) recomputes must match.
    sigv4.verify(
        method="POST",
        url=seen["url"],
        headers={**seen["headers"], "Host": "127.0.0.1:3999"},
        body=seen["content"],
        credentials=Credentials(CREDS.access_key_id, CREDS.secret_access_key),
        region="us-east-1",
    )


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {"payment_id": PAYMENT_ID, "amount": "1"}}, 415),  # a cross-site form cannot reach it
        ({"json": {"payment_id": PAYMENT_ID, "amount": "1"}, "headers": {"Origin": "https://evil.example"}}, 403),
        ({"json": {"payment_id": "../../payments", "amount": "1"}}, 400),
        ({"json": {"payment_id": PAYMENT_ID, "amount": "1.001"}}, 400),
        ({"json": ["not", "an", "object"]}, 400),
    ],
)
def test_refund_proxy_refuses(monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], status: int) -> None:
    monkeypatch.setattr(httpx, "post", lambda *a, **k: pytest.fail("must not reach the API"))
    r = shop().post("/shop/refund", **kwargs)
    assert r.status_code == status
    assert body(r)["code"]


def test_refund_proxy_reports_an_unreachable_api(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> httpx.Response:
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(httpx, "post", down)
    r = shop().post("/shop/refund", json={"payment_id": PAYMENT_ID, "amount": "1"})
    assert r.status_code == 502
    assert body(r)["code"] == "upstream_unavailable"


def checkout_page(client: Client, **form: str) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """POST /checkout → (html, the token's claims, the body the browser will send, its Idempotency-Key)."""
    data = {"amount": "125.00", "description": "Tea", "language": "en", "national_id": "28763400000", **form}
    r = client.post("/shop/checkout", data=data)
    assert r.status_code == 200, r.text
    html = r.text
    token = html.split('data-order-token="')[1].split('"')[0]
    doc = json.loads(html.split('data-body="')[1].split('"')[0].replace("&#34;", '"'))
    key = html.split('data-idempotency-key="')[1].split('"')[0]
    return html, verify_order_token(token, {"local-1": TOKEN_KEY}.get, now=int(time.time()), leeway_s=0), doc, key


def test_arabic_pages_are_rtl_and_translated() -> None:
    client = shop()
    r = client.get("/shop/?lang=ar")
    assert '<html lang="ar" dir="rtl">' in r.text
    assert "ادفع عبر كيو باي" in r.text
    assert "shop_lang=ar" in r.headers["Set-Cookie"]
    assert '<option value="ar" lang="ar" selected>' in r.text  # the QPay page follows the shop's language
    # the cookie carries the choice to the next page; ?lang= overrides it
    assert '<html lang="ar" dir="rtl">' in client.get("/shop/result?payment_id=" + PAYMENT_ID).text
    assert '<html lang="en" dir="ltr">' in client.get("/shop/?lang=en").text


def test_an_arabic_order_gets_an_arabic_pay_page_and_result_page() -> None:
    client = shop()
    html, claims, doc, _ = checkout_page(client, language="ar")
    assert '<html lang="ar" dir="rtl">' in html
    assert "125.00 ر.ق" in html
    assert doc["language"] == "ar"
    result = client.get(f"/shop/result?payment_id={PAYMENT_ID}&reference={claims['reference']}").text
    assert '<html lang="ar" dir="rtl">' in result


def test_field_errors_are_translated() -> None:
    r = shop().post(
        "/shop/checkout", data={"amount": "12.345", "description": "x", "language": "ar", "national_id": "1"}
    )
    assert r.status_code == 400
    assert "خانتان عشريتان على الأكثر" in r.text


def test_try_again_makes_a_new_payment_for_the_same_order_at_the_servers_amount() -> None:
    client = shop()
    _, first, first_body, first_key = checkout_page(client, amount="40.50")
    reference = first["reference"]
    page = client.get(f"/shop/retry?reference={reference}")
    assert page.status_code == 200
    assert f'name="reference" value="{reference}"' in page.text
    assert "QAR 40.50" in page.text
    # the browser cannot change the amount of a retry: the server takes it from its own order
    _, again, body, key = checkout_page(client, reference=reference, amount="0.01")
    assert (again["reference"], again["amount"], body["amount"]) == (reference, 4050, 4050)
    assert again["jti"] != first["jti"]  # a new token: a new payment (the old one is dead)
    assert (first_key, key) == (f"{reference}-1", f"{reference}-2")
    assert body["description"] == first_body["description"]


def test_try_again_for_an_unknown_order() -> None:
    client = shop()
    assert client.get("/shop/retry?reference=ORD-NOPE").status_code == 404
    r = client.post("/shop/checkout", data={"reference": "ORD-NOPE", "language": "en", "national_id": "28763400000"})
    assert r.status_code == 404
    assert "data-order-token" not in r.text


def test_result_page_offers_try_again_only_for_a_known_order() -> None:
    client = shop()
    _, claims, _, _ = checkout_page(client)
    known = client.get(f"/shop/result?payment_id={PAYMENT_ID}&reference={claims['reference']}&check=1").text
    assert 'id="retry-qpay"' in known
    assert 'data-checking="true"' in known
    unknown = client.get(f"/shop/result?payment_id={PAYMENT_ID}&reference=ORD-ELSEWHERE").text
    assert 'id="retry-qpay"' not in unknown

"""POST /payments and refunds are exactly as strict as Checkout's published limits.

``source.description``: required, ≤ 255 characters after UTF-8 URL encoding
(``abc_spec/.../PaymentRequestQPaySource.yaml``); ``quantity`` integer ≥ 1 with no upper bound (the QPay
page sends ``"1"``); ``reference`` ≤ 50, ``success_url``/``failure_url`` ≤ 255
(``nas_spec/.../PaymentRequest.yaml``); ``national_id`` ≤ 32.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from simhelpers import qpay_body

ALEF = "\u0627"  # one Arabic letter: two UTF-8 bytes, "%D8%A7" once URL-encoded


def _source(**fields: Any) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "qpay", "description": "Order", "language": "en"}
    source.update(fields)
    return source


def _post(client: httpx.Client, **overrides: Any) -> httpx.Response:
    return client.post("/payments", json=qpay_body(**overrides))


def _codes(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return list(response.json()["error_codes"])


def test_the_arabic_limit_is_measured_after_url_encoding() -> None:
    assert len(quote(ALEF * 42, safe="")) == 252
    assert len(quote(ALEF * 43, safe="")) == 258


@pytest.mark.parametrize(
    ("description", "accepted"),
    [
        (ALEF * 42, True),  # 252 encoded characters
        (ALEF * 43, False),  # 258: only 43 letters, far below 255 raw characters
        (ALEF * 100, False),
        ("a" * 255, True),
        ("a" * 256, False),
        (" " * 85, True),  # each space encodes to %20: 255
        (" " * 86, False),
        ("\U0001f600" * 21, True),  # 4 bytes, 12 characters each: 252
        ("\U0001f600" * 22, False),
        ("QPay Demo Payment", True),
    ],
)
def test_description_limit(client: httpx.Client, description: str, accepted: bool) -> None:
    response = _post(client, source=_source(description=description))
    if accepted:
        assert response.status_code == 202, response.text
    else:
        assert _codes(response) == ["description_invalid"]


def test_description_that_cannot_be_utf8_encoded_is_refused(client: httpx.Client) -> None:
    raw = b'{"amount":100,"currency":"QAR","source":{"type":"qpay","description":"\\ud800"}}'
    response = client.post("/payments", content=raw, headers={"Content-Type": "application/json"})
    assert _codes(response) == ["description_invalid"]


@pytest.mark.parametrize("description", [None, "", 5, ["x"]])
def test_description_is_required_and_a_string(client: httpx.Client, description: Any) -> None:
    source = _source()
    if description is None:
        del source["description"]
    else:
        source["description"] = description
    codes = _codes(_post(client, source=source))
    assert codes == (["description_required"] if description in (None, "") else ["description_invalid"])


@pytest.mark.parametrize("quantity", [1, "1", 99, 100, 999, 1000, "1000", 10**9])
def test_quantity_has_no_invented_upper_cap(client: httpx.Client, quantity: Any) -> None:
    assert _post(client, source=_source(quantity=quantity)).status_code == 202


@pytest.mark.parametrize("quantity", [0, -1, "0", "-1", 1.5, "1.5", True, "", "one", "\u0661", [1]])
def test_quantity_must_be_an_integer_of_at_least_one(client: httpx.Client, quantity: Any) -> None:
    assert _codes(_post(client, source=_source(quantity=quantity))) == ["quantity_invalid"]


@pytest.mark.parametrize(("length", "accepted"), [(50, True), (51, False)])
def test_reference_at_most_50(client: httpx.Client, length: int, accepted: bool) -> None:
    response = _post(client, reference="R" * length)
    assert response.status_code == 202 if accepted else _codes(response) == ["reference_invalid"]


@pytest.mark.parametrize(
    ("field", "code"), [("success_url", "success_url_invalid"), ("failure_url", "fail_url_invalid")]
)
@pytest.mark.parametrize(("length", "accepted"), [(255, True), (256, False)])
def test_return_urls_at_most_255(client: httpx.Client, field: str, code: str, length: int, accepted: bool) -> None:
    prefix = "https://shop.example/"
    url = prefix + "p" * (length - len(prefix))
    assert len(url) == length
    response = _post(client, **{field: url})
    if accepted:
        assert response.status_code == 202, response.text
    else:
        assert _codes(response) == [code]


@pytest.mark.parametrize(
    "url", ["https://shop.example/caf\u00e9", "https://shop.example/a b", "https://shop.example/\t"]
)
def test_return_urls_are_uris(client: httpx.Client, url: str) -> None:
    assert _codes(_post(client, success_url=url)) == ["success_url_invalid"]


@pytest.mark.parametrize(("length", "accepted"), [(32, True), (33, False)])
def test_national_id_at_most_32(client: httpx.Client, length: int, accepted: bool) -> None:
    response = _post(client, source=_source(national_id="A" * length))
    if accepted:
        assert response.status_code == 202
    else:
        assert _codes(response) == ["national_id_invalid"]
        assert "A" * length not in response.text


@pytest.mark.parametrize(
    ("language", "accepted"), [("en", True), ("ar", True), ("En", True), ("Ar", True), ("fr", False)]
)
def test_language_en_or_ar(client: httpx.Client, language: str, accepted: bool) -> None:
    response = _post(client, source=_source(language=language))
    assert response.status_code == 202 if accepted else _codes(response) == ["language_invalid"]


@pytest.mark.parametrize("metadata", [{"nested": {"a": 1}}, {"list": [1, 2]}, "text"])
def test_metadata_is_one_level_of_primitives(client: httpx.Client, metadata: Any) -> None:
    assert _codes(_post(client, metadata=metadata)) == ["metadata_invalid"]


def test_published_codes_for_source_and_urls(client: httpx.Client) -> None:
    assert _codes(_post(client, source={"description": "x"})) == ["source_type_required"]
    assert _codes(_post(client, failure_url="not a url")) == ["fail_url_invalid"]
    assert _codes(_post(client, customer={"id": "cus_nope"})) == ["customer_id_invalid"]
    assert _codes(_post(client, customer={"email": "nope"})) == ["customer_email_invalid"]


def test_refund_reference_and_metadata_limits(client: httpx.Client, sim) -> None:
    pay_id = _post(client).json()["id"]
    sim.pay(pay_id)
    long_ref = client.post(f"/payments/{pay_id}/refunds", json={"amount": 1, "reference": "R" * 51})
    assert _codes(long_ref) == ["reference_invalid"]
    nested = client.post(f"/payments/{pay_id}/refunds", json={"amount": 1, "metadata": {"a": {"b": 1}}})
    assert _codes(nested) == ["metadata_invalid"]
    ok = client.post(f"/payments/{pay_id}/refunds", json={"amount": 1, "reference": "R" * 50})
    assert ok.status_code == 202


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("reference", "reference_invalid"),
        ("success_url", "success_url_invalid"),
        ("failure_url", "fail_url_invalid"),
        ("metadata", "metadata_invalid"),
        ("customer", "customer_invalid"),
        ("processing_channel_id", "processing_channel_id_invalid"),
        ("payment_type", "payment_type_invalid"),
    ],
)
def test_null_is_not_a_value_of_any_published_field(client: httpx.Client, field: str, code: str) -> None:
    assert _codes(_post(client, **{field: None})) == [code]


@pytest.mark.parametrize(("field", "code"), [("quantity", "quantity_invalid"), ("language", "language_invalid")])
def test_null_source_fields_are_refused(client: httpx.Client, field: str, code: str) -> None:
    assert _codes(_post(client, source=_source(**{field: None}))) == [code]

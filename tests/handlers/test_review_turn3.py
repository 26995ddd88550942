"""The correctness review's turn-3 findings F2, F3, F6, F7, F8, F9 (shared/reviews/correctness.md): each
test failed on 428866c (anonymous 500s, a list that contains the audience, a ten-year token, one page of
a payments list, a repair that gave back money never taken, prod URLs at loopback) before its fix."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutClient, CheckoutListIncomplete
from qpay.api.auth import mint_order_token
from qpay.domain.records import Refund
from qpay.settings import _url_problem
from tests.conftest import body_of, create_body, invoke_create
from tests.service.helpers import NOW, captured_payment
from tests.support import keys


def _b64(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def _anonymous(header: dict[str, Any]) -> str:
    return f"{_b64(header)}.{_b64({'reference': 'ORD-1001'})}.c2ln"


# ------------------------------------------------------------------ F2
@pytest.mark.parametrize(
    "header",
    [
        {"alg": "HS256", "kid": 1},
        {"alg": "HS256", "kid": {"a": 1}},
        {"alg": "HS256", "kid": keys.ORDER_TOKEN_KID, "crit": ["zz"]},
    ],
    ids=["kid-int", "kid-object", "crit"],
)
def test_f2_a_malformed_token_header_is_403_never_500(aws, header: dict[str, Any]) -> None:
    response = invoke_create(create_body(), auth=None, headers={"x-order-token": _anonymous(header)})
    assert response["statusCode"] == 403
    assert "header" in body_of(response)["message"]


# ------------------------------------------------------------------ F6
def _token(**claims: Any) -> str:
    doc = {"reference": "ORD-1001", "amount": 12500, "currency": "QAR", "jti": "j" * 20}
    doc.update(claims)
    return jwt.encode(doc, keys.ORDER_TOKEN_KEY, algorithm="HS256", headers={"kid": keys.ORDER_TOKEN_KID})


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"aud": ["qpay-payments", "x"], "exp": int(time.time()) + 600}, "audience"),
        ({"aud": "qpay-payments", "exp": int(time.time()) + 10 * 365 * 86400}, "expire within"),
    ],
    ids=["aud-list", "ten-years"],
)
def test_f6_audience_is_the_string_and_tokens_are_short_lived(aws, sim, claims: dict[str, Any], says: str) -> None:
    response = invoke_create(create_body(), auth=None, headers={"x-order-token": _token(**claims)})
    assert response["statusCode"] == 403
    assert says in body_of(response)["message"]


def test_f6_a_token_minted_for_an_hour_is_still_accepted(aws, sim) -> None:
    token = mint_order_token(
        keys.ORDER_TOKEN_KEY, kid=keys.ORDER_TOKEN_KID, reference="ORD-1001", amount=12500, currency="QAR",
        expires_at=int(time.time()) + 3600,
    )  # fmt: skip
    assert invoke_create(create_body(), auth=None, headers={"x-order-token": token})["statusCode"] == 201


# ------------------------------------------------------------------ F3
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"metadata": {"": "v"}}, "metadata"),
        ({"metadata": {"n": 10**200}}, "metadata.n"),
        ({"metadata": {"n": 10**38}}, "metadata.n"),
        ({"metadata": {"k\ud800": "v"}}, "metadata"),
        ({"metadata": {"k": "v\ud800"}}, "metadata.k"),
        ({"customer": {"name": "A\udc00"}}, "customer.name"),
        ({"customer": {"email": "a\ud800@example.com"}}, "customer.email"),
    ],
    ids=["empty-key", "1e200", "39-digits", "surrogate-key", "surrogate-value", "surrogate-name", "surrogate-email"],
)
def test_f3_bodies_that_cannot_be_stored_are_422_naming_the_field(aws, sim, overrides: dict[str, Any], field) -> None:
    raw = json.dumps(create_body(**overrides)).encode()  # JSON escapes carry the lone surrogates
    response = invoke_create(raw, idem="K-F3")
    assert response["statusCode"] == 422, response
    assert field in [d["field"] for d in body_of(response)["fields"]]
    assert sim.payments == {}  # nothing reached Checkout.com, nothing stored


def test_f3_the_largest_storable_whole_number_is_accepted(aws, sim) -> None:
    response = invoke_create(create_body(metadata={"n": 10**38 - 1, "m": -(10**38 - 1)}), idem="K-F3-ok")
    assert response["statusCode"] == 201


# ------------------------------------------------------------------ F7
def test_f7_the_payments_list_is_read_to_its_end_or_declared_incomplete() -> None:
    client = CheckoutClient("https://checkout.invalid", lambda: "sk_sbox_x")
    pages: list[dict[str, Any]] = []

    def page(method: str, path: str, *a: Any, **k: Any) -> Any:
        from qpay.adapters.checkout import Answer

        pages.append({"path": path})
        skip = int(path.rsplit("skip=", 1)[1])
        rows = [{"id": f"pay_{i}"} for i in range(skip, min(skip + 100, 230))]
        return Answer(200, json.dumps({"total_count": 230, "data": rows}).encode(), {})

    client._request = page  # type: ignore[method-assign]
    assert [p["id"] for p in client.get_payments_by_reference("ORD-1")] == [f"pay_{i}" for i in range(230)]
    assert [p["path"].rsplit("skip=", 1)[1] for p in pages] == ["0", "100", "200"]
    with pytest.raises(CheckoutListIncomplete):
        client.get_payments_by_reference("ORD-1", max_pages=2)


# ------------------------------------------------------------------ F8
def test_f8_a_repair_gives_back_only_what_the_ledger_counted(aws) -> None:
    store = deps.store()
    payment = captured_payment(amount=10000)
    refund = Refund(id="qrf_" + "r" * 26, payment_id=payment.id, amount=4000, created_at=NOW, updated_at=NOW)
    store.reserve_refund(refund, now=NOW)
    # Checkout's action first counted as made elsewhere and declined (nothing taken, nothing reserved)
    store.count_refund_outcome(
        payment.id, action_id="act_x", amount=4000, approved=False, refund=None, reserved=False,
        event_id=None, now=NOW, retain_until=NOW + 1,
    )  # fmt: skip
    before = store.get_payment(payment.id)
    # a later word says approved for our open refund: the ledger says declined, so no repair
    assert not store.repair_action(payment.id, action_id="act_x", approved=True, amount=4000, refund=refund, now=NOW)
    after = store.get_payment(payment.id)
    assert (after.refundable_amount, after.refunded_amount) == (before.refundable_amount, before.refunded_amount)


# ------------------------------------------------------------------ F9
@pytest.mark.parametrize(
    "url",
    [
        "https://localhost.",
        "https://127.0.0.2",
        "https://[::ffff:127.0.0.1]",
        "https://2130706433",
        "https://0x7f000001",
        "https://169.254.169.254",
        "https://10.1.2.3",
        "https://api.localhost",
    ],
)
def test_f9_prod_refuses_local_numeric_and_private_hosts(url: str) -> None:
    assert _url_problem(url, https_only=True) is not None
    assert _url_problem(url.replace("https", "http"), https_only=False) is None  # dev may point anywhere


@pytest.mark.parametrize("url", ["https://api.checkout.com", "https://0xshop.example.com/paid"])
def test_f9_public_names_are_fine_in_prod(url: str) -> None:
    assert _url_problem(url, https_only=True) is None


# ------------------------------------------------------------------ fidelity F-16
def test_f16_a_base_url_too_long_for_checkouts_return_urls_is_refused(aws) -> None:
    import dataclasses

    from qpay.settings import PUBLIC_BASE_URL_MAX, get_settings

    base = "https://pay.example.com/" + "p" * (PUBLIC_BASE_URL_MAX - 24)
    assert len(base) == PUBLIC_BASE_URL_MAX
    ok = dataclasses.replace(get_settings(), public_base_url=base)
    assert not [p for p in ok.problems() if p.startswith("PUBLIC_BASE_URL")]
    # the longest return URL we build from it stays within Checkout's 255 characters
    assert len(f"{base}/payments/return/failure?payment_id=qpp_{'x' * 26}") <= 255
    too_long = dataclasses.replace(get_settings(), public_base_url=base + "p")
    assert any(p.startswith("PUBLIC_BASE_URL: at most 150") for p in too_long.problems())

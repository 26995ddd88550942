"""CORS follows StorefrontOrigins (and --cors-origin / --storefront-url), and the payload limit holds on
a real socket, chunked bodies included."""

from __future__ import annotations

import httpx
import pytest

from qpay_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack():
    with LocalStack(
        api_port=0,
        sim_port=0,
        time_scale=0.001,
        schedule_interval_s=None,
        parameters={"StorefrontOrigins": "https://shop.example,https://admin.example"},
        extra_cors_origins=["http://localhost:5173"],
    ) as s:
        yield s


def preflight(stack, origin):
    return httpx.options(
        f"{stack.api_url}/payments",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-order-token",
        },
    )


@pytest.mark.parametrize("origin", ["https://shop.example", "https://admin.example", "http://localhost:5173"])
def test_allowed_origins(stack, origin):
    r = preflight(stack, origin)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == origin
    assert "x-order-token" in r.headers["access-control-allow-headers"]
    assert origin in stack.cors_origins


def test_other_origins_get_no_cors_headers(stack):
    r = preflight(stack, "http://localhost:3000")
    assert "access-control-allow-origin" not in r.headers
    assert stack.cors_origins == ("https://shop.example", "https://admin.example", "http://localhost:5173")


def test_chunked_body_over_the_limit(stack):
    def chunks():
        block = b"x" * (1024 * 1024)
        for _ in range(11):
            yield block

    r = httpx.post(f"{stack.api_url}/payments", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.text == "HTTP content length exceeded 10485760 bytes."


def test_refund_route_says_why_it_refused(stack):
    url = f"{stack.api_url}/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds"
    r = httpx.post(url, json={"amount": 100}, headers={"Authorization": f"Bearer {stack.keys.merchant_api_key}"})
    assert r.status_code == 403
    assert r.json()["message"].startswith("Invalid key=value pair")
    assert httpx.post(url, json={"amount": 100}).json() == {"message": "Forbidden"}

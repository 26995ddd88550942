"""Attacks on the return URL: the shopper's browser controls the query string. Whatever it says, the
stored status is what Checkout.com says and the redirect goes only to the configured storefront."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tests.e2e.conftest import SUCCESS_CARD, Shop


def _allowed(shop: Shop, location: str) -> bool:
    env = shop.stack.env
    base = location.split("?", 1)[0]
    return base in {env["STOREFRONT_SUCCESS_URL"], env["STOREFRONT_FAILURE_URL"]} and "#" not in location


def test_forged_returns_never_move_a_payment_nor_redirect_elsewhere(shop: Shop) -> None:
    """Another payment's cko-session-id, a made-up one, an outcome/status in the query, another
    shopper's payment_id and open-redirect parameters → stages stay what Checkout.com says (Pending,
    Canceled, Captured) and every 303 goes to a configured storefront URL."""
    sim = shop.stack.sim
    assert sim is not None
    mine, other, canceled = shop.create(), shop.create(), shop.create()
    paid_redirect = sim.pay(shop.cko_id(other), **SUCCESS_CARD)  # other shopper paid; not yet returned
    other_sid = dict(parse_qsl(urlsplit(paid_redirect).query))["cko-session-id"]
    sim.cancel(shop.cko_id(canceled))
    shop.stack.drain()
    base = f"{shop.stack.api_url}/payments/return"
    attempts = [
        ("success", {"payment_id": mine["id"], "cko-session-id": other_sid}),
        ("success", {"payment_id": mine["id"], "cko-session-id": "sid_" + "a" * 26}),
        ("success", {"payment_id": mine["id"], "cko-session-id": "../../payments/" + shop.cko_id(other)}),
        ("success", {"payment_id": mine["id"], "status": "Captured", "outcome": "success", "approved": "true"}),
        ("success", {"payment_id": canceled["id"], "cko-session-id": other_sid}),
        (
            "success",
            {
                "payment_id": mine["id"],
                "redirect": "https://evil.example/x",
                "next": "//evil.example",
                "return_url": "https://evil.example",
            },
        ),
        ("failure", {"payment_id": "https://evil.example/", "cko-session-id": other_sid}),
        ("success", {"payment_id": "qpp_" + "b" * 26}),
        ("success", {}),
    ]
    for outcome, query in attempts:
        r = shop.http.get(f"{base}/{outcome}", params=query)
        assert r.status_code == 303, (query, r.status_code)
        assert _allowed(shop, r.headers["location"]), (query, r.headers["location"])
    for path in ("/success//evil.example", "/%2F%2Fevil.example", "/success?x=1#@evil.example"):
        r = shop.http.get(base + path)
        assert r.status_code in (303, 404), (path, r.status_code)
        if r.status_code == 303:
            assert _allowed(shop, r.headers["location"]), (path, r.headers["location"])
    assert shop.get(mine["id"])["status"] == "Pending"
    assert shop.get(canceled["id"])["status"] == "Canceled"
    # another shopper's payment_id with a forged session: only what Checkout says is recorded
    r = shop.http.get(f"{base}/failure", params={"payment_id": other["id"], "cko-session-id": "sid_" + "c" * 26})
    assert _allowed(shop, r.headers["location"])
    assert shop.get(other["id"])["status"] == "Captured"

"""The core flow end to end at the handler level: create → QPay page (simulator) → return → webhooks."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import body_of, create_body, invoke_create, invoke_get, invoke_return, invoke_webhook
from tests.support import keys


def create(sim, **overrides):
    response = invoke_create(create_body(**overrides))
    assert response["statusCode"] == 201, response
    body = body_of(response)
    [cko] = [p for p in sim.payments.values() if p.reference == body["reference"]]
    return body, cko


def deliver_all(sim) -> list[dict]:
    """Feed the simulator's signed webhooks (exact bytes) into the webhook handler, in order."""
    results = []
    for event in list(sim.webhooks.events):
        response = invoke_webhook(event.body, signature=_sign(event.body))
        assert response["statusCode"] == 200, response
        results.append(body_of(response))
    sim.webhooks.clear()
    return results


def _sign(body: bytes) -> str:
    from tests.support.webhooks import sign

    return sign(body, keys.WEBHOOK_SIGNING_KEY)


def return_query(url: str) -> tuple[str, dict[str, str]]:
    parsed = urlparse(url)
    outcome = parsed.path.rsplit("/", 1)[-1]
    return outcome, {k: v[0] for k, v in parse_qs(parsed.query).items()}


def test_pay_return_and_webhooks_end_captured(aws, sim) -> None:
    body, cko = create(sim)
    redirect = sim.pay(cko.id, card="4215375500883243", expiry="12/30", pin="123456")
    outcome, query = return_query(redirect)
    assert outcome == "success" and query["cko-session-id"].startswith("sid_")
    response = invoke_return(outcome, query)
    assert response["statusCode"] == 303
    assert response["headers"]["Location"].startswith("https://shop.example.qa/orders/thanks?")
    assert "reference=ORD-1001" in response["headers"]["Location"]
    # the storefront URL carries the payment id and the session id came in the query: neither may leak
    # to a third party through the Referer header, nor sit in a cache (A13)
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    assert response["headers"]["Cache-Control"] == "no-store"
    assert body_of(invoke_get(body["id"]))["status"] == "Captured"  # recorded from Checkout, not the URL
    results = deliver_all(sim)
    assert [r["result"] for r in results][-1] in ("applied", "stale")
    view = body_of(invoke_get(body["id"]))
    assert view["status"] == "Captured" and view["refunded_amount"] == 0
    assert "national_id" not in json.dumps(view)


@pytest.mark.parametrize(
    ("action", "status", "target"),
    [("decline", "Declined", "retry"), ("cancel", "Canceled", "retry")],
)
def test_decline_and_cancel_land_on_the_failure_page(aws, sim, action, status, target) -> None:
    body, cko = create(sim)
    if action == "decline":
        result = sim.submit_page(cko.id, "pay", card="4215375500883243", expiry="12/30", pin="000000")
        redirect = result.redirect_url or sim.return_url(sim.get_payment(cko.id), success=False)
    else:
        redirect = sim.cancel(cko.id)
    outcome, query = return_query(redirect)
    response = invoke_return(outcome, query)
    assert response["headers"]["Location"].startswith(f"https://shop.example.qa/orders/{target}?")
    deliver_all(sim)
    assert body_of(invoke_get(body["id"]))["status"] == status


def test_expiry_webhook_expires(aws, sim) -> None:
    body, cko = create(sim)
    sim.expire_payment(cko.id)
    deliver_all(sim)
    assert body_of(invoke_get(body["id"]))["status"] == "Expired"


def test_webhooks_in_reverse_order_and_duplicated_end_captured(aws, sim) -> None:
    body, cko = create(sim)
    sim.pay(cko.id, card="4215375500883243", expiry="12/30", pin="123456")
    events = list(sim.webhooks.events)
    for event in [*reversed(events), *events]:
        assert invoke_webhook(event.body, signature=_sign(event.body))["statusCode"] == 200
    assert body_of(invoke_get(body["id"]))["status"] == "Captured"
    applied = aws.item(f"PAYMENT#{body['id']}", "PAYMENT")["applied_events"]
    # each applied once; a capture_pending after captured is ignored (not recorded)
    assert len(set(applied)) == len(applied)
    assert set(applied) <= {e.id for e in events}
    assert aws.item(f"PAYMENT#{body['id']}", "PAYMENT")["version"] <= 4


def test_forged_return_outcome_is_not_trusted(aws, sim) -> None:
    body, cko = create(sim)
    # the shopper never paid but hits the success URL with a made-up session id
    response = invoke_return("success", {"payment_id": body["id"], "cko-session-id": "sid_" + "a" * 26})
    assert response["statusCode"] == 303
    assert body_of(invoke_get(body["id"]))["status"] == "Pending"


def test_session_id_of_another_payment_does_not_move_this_one(aws, sim) -> None:
    mine, my_cko = create(sim)
    _, other_cko = create(sim, reference="ORD-2002")
    redirect = sim.pay(other_cko.id, card="4215375500883243", expiry="12/30", pin="123456")
    _, other_query = return_query(redirect)
    invoke_return("success", {"payment_id": mine["id"], "cko-session-id": other_query["cko-session-id"]})
    assert body_of(invoke_get(mine["id"]))["status"] == "Pending"


def test_expired_session_id_falls_back_to_the_stored_payment_id(aws, sim) -> None:
    body, cko = create(sim)
    redirect = sim.pay(cko.id, card="4215375500883243", expiry="12/30", pin="123456")
    _, query = return_query(redirect)
    sim.clock.advance(16 * 60)
    response = invoke_return("success", query)
    assert response["headers"]["Location"].startswith("https://shop.example.qa/orders/thanks?")
    assert body_of(invoke_get(body["id"]))["status"] == "Captured"


def test_unknown_payment_on_return_goes_to_the_failure_page_only(aws, sim) -> None:
    for query in (
        {},
        {"payment_id": "javascript:alert(1)"},
        {"payment_id": "qpp_" + "b" * 26, "next": "https://evil.example"},
    ):
        response = invoke_return("success", query)
        assert response["statusCode"] == 303
        assert response["headers"]["Location"].startswith("https://shop.example.qa/orders/retry?")


def test_get_unknown_is_404(aws) -> None:
    assert invoke_get("qpp_" + "c" * 26)["statusCode"] == 404
    assert invoke_get("../etc")["statusCode"] == 404

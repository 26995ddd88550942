"""Webhook bodies in Checkout's published shapes, and the switches that pick between published variants.

Sources: https://www.checkout.com/docs/workflows/webhook-event-types/payment_canceled (no metadata),
…/payment_refund_pending (no reference, no metadata),
https://www.checkout.com/docs/reporting-and-insights/webhooks/webhook-examples/payment_refund_pending
(with both), …/developer-resources/webhooks/webhook-event-types/payment_captured (event_links).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from simhelpers import AUTH, create

from cko_sim import Simulator


def _flow(sim: Simulator, refund_reference: str | None = "RF-1") -> dict[str, dict[str, Any]]:
    """Pay, refund (with or without a reference), decline a second refund, cancel and expire others."""
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        paid = create(c, reference="ORD-PAID")["id"]
        sim.pay(paid)
        body = {"amount": 100} if refund_reference is None else {"amount": 100, "reference": refund_reference}
        assert c.post(f"/payments/{paid}/refunds", json=body).status_code == 202
        assert sim.webhooks.wait_idle(5)
        sim.faults.decline_refunds = True
        assert c.post(f"/payments/{paid}/refunds", json=body).status_code == 202
        assert sim.webhooks.wait_idle(5)
        sim.cancel(create(c, reference="ORD-CANC")["id"])
        sim.expire_payment(create(c, reference="ORD-EXP")["id"])
        sim.pay(create(c, reference="ORD-DECL")["id"], card="4000000000000002")
    assert sim.webhooks.wait_idle(5)
    return {b["type"]: b for b in sim.webhooks.bodies()}


def test_canceled_has_no_metadata_and_pending_has_no_action_id(make_sim: Callable[..., Simulator]) -> None:
    bodies = _flow(make_sim())
    canceled = bodies["payment_canceled"]["data"]
    assert "metadata" not in canceled
    assert set(canceled) == {"action_id", "id", "reference", "amount", "currency", "processed_on"}
    pending = bodies["payment_pending"]["data"]
    assert "action_id" not in pending
    assert set(pending) == {"id", "reference", "amount", "currency", "processed_on", "metadata"}
    assert bodies["payment_expired"]["data"]["metadata"] == {"order_id": "ORD-1", "cart": 3}


def test_refund_pending_has_neither_reference_nor_metadata_by_default(make_sim: Callable[..., Simulator]) -> None:
    pending = _flow(make_sim())["payment_refund_pending"]["data"]
    assert set(pending) == {"id", "action_id", "amount", "processed_on", "currency"}


def test_reporting_and_insights_refund_pending_has_both(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(refund_pending_shape="reporting-and-insights")
    pending = _flow(sim)["payment_refund_pending"]["data"]
    assert set(pending) == {"id", "action_id", "amount", "currency", "reference", "metadata", "processed_on"}
    assert pending["reference"] == "RF-1"
    assert pending["metadata"] == {"order_id": "ORD-1", "cart": 3}


@pytest.mark.parametrize("outcome", ["payment_refunded", "payment_refund_declined"])
def test_refund_outcomes_carry_the_refund_reference(make_sim: Callable[..., Simulator], outcome: str) -> None:
    data = _flow(make_sim())[outcome]["data"]
    assert data["reference"] == "RF-1"
    assert data["action_id"].startswith("act_")


@pytest.mark.parametrize("outcome", ["payment_refunded", "payment_refund_declined"])
def test_refund_without_reference_never_falls_back_to_the_payment_reference(
    make_sim: Callable[..., Simulator], outcome: str
) -> None:
    data = _flow(make_sim(), refund_reference=None)[outcome]["data"]
    assert "reference" not in data


@pytest.mark.parametrize("refund_reference", ["RF-1", None])
def test_payment_reference_switch_sends_the_payment_reference(
    make_sim: Callable[..., Simulator], refund_reference: str | None
) -> None:
    bodies = _flow(make_sim(refund_webhook_reference="payment"), refund_reference=refund_reference)
    assert bodies["payment_refunded"]["data"]["reference"] == "ORD-PAID"
    assert bodies["payment_refund_declined"]["data"]["reference"] == "ORD-PAID"


def test_envelope_links_on_every_event(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim()
    for body in _flow(sim).values():
        pay_id = body["data"]["id"]
        links = body["_links"]
        assert set(links) == {"self", "subject", "payment", "payment_actions"}
        assert links["self"]["href"] == f"{sim.base_url}/events/{body['id']}"
        assert links["subject"]["href"] == f"{sim.base_url}/workflows/events/subject/{pay_id}"
        assert links["payment_actions"]["href"] == f"{sim.base_url}/payments/{pay_id}/actions"


def test_event_links_only_where_the_2023_page_shows_them(make_sim: Callable[..., Simulator]) -> None:
    bodies = _flow(make_sim())
    with_links = sorted(t for t, b in bodies.items() if "event_links" in b["data"])
    assert with_links == ["payment_captured"]
    links = bodies["payment_captured"]["data"]["event_links"]
    assert all(isinstance(v, str) for v in links.values())  # plain URLs, not {"href": …}


def test_capture_declined_field_set(make_sim: Callable[..., Simulator]) -> None:
    declined = _flow(make_sim())["payment_capture_declined"]["data"]
    assert set(declined) == {"id", "action_id", "response_code", "response_summary", "balances", "metadata"}
    assert declined["response_code"] == "20006"

"""Helpers for the operations tests: payments driven to a state at the simulator, webhooks lost."""

from __future__ import annotations

from typing import Any

from tests.conftest import body_of, create_body, invoke_create, invoke_webhook
from tests.support.webhooks import notification

CARD = {"card": "4215375500883243", "expiry": "12/30", "pin": "123456"}


def new_payment(sim: Any, reference: str, amount: int = 12500, **extra: Any) -> tuple[str, str]:
    """A payment created through the handler; returns (our id, Checkout's id). No webhook is delivered
    (the ``sim`` fixture has no webhook URL): every webhook is "lost" unless a test delivers it."""
    response = invoke_create(create_body(reference=reference, amount=amount, **extra))
    assert response["statusCode"] == 201, response
    pid = body_of(response)["id"]
    cko = next(p.id for p in sim.payments.values() if p.reference == reference)
    return pid, cko


def deliver(event_type: str, pid: str, cko: str, amount: int = 12500, **extra: Any) -> dict[str, Any]:
    return invoke_webhook(notification(event_type, cko_payment_id=cko, payment_id=pid, amount=amount, **extra))


def captured(sim: Any, reference: str, amount: int = 12500) -> tuple[str, str]:
    pid, cko = new_payment(sim, reference, amount)
    sim.pay(cko, **CARD)
    assert body_of(deliver("payment_captured", pid, cko, amount))["result"] == "applied"
    return pid, cko


def settle_refunds(sim: Any) -> None:
    """Let the simulator decide every refund it accepted."""
    import time

    deadline = time.monotonic() + 10
    while any(p.pending_refunds for p in sim.payments.values()):
        sim.clock.advance(600)
        sim.run_due()
        if time.monotonic() > deadline:
            raise TimeoutError("refunds did not settle")
        time.sleep(0.01)

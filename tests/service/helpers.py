"""Service-level helpers: payments written straight through the store (moto), the service functions
called with their ports, no HTTP and no simulator. Fast enough for ``make mutation`` to run per mutant."""

from __future__ import annotations

import json
from typing import Any

from qpay import deps
from qpay.domain import ids
from qpay.domain.records import Payment
from qpay.service.webhooks import WebhookPorts
from qpay.settings import Settings, get_settings
from tests.support import keys
from tests.support.webhooks import cko_id, sign

NOW = 1_800_000_000


def settings(**overrides: Any) -> Settings:
    import dataclasses

    return dataclasses.replace(get_settings(), **overrides)


def pending_payment(*, bound: bool = True, amount: int = 12500, now: int = NOW, reference: str = "ORD-1") -> Payment:
    """A payment as the create call leaves it: Pending, bound to a Checkout pay_ id unless ``bound=False``."""
    store = deps.store()
    payment = Payment(
        id=ids.new_payment_id(), reference=reference, amount=amount, currency="QAR", description="Order",
        language="en", quantity=1, created_at=now, updated_at=now, deadline=now + 900, request_hash="h",
        lease_until=now + 30, create_attempt="a",
    )  # fmt: skip
    store.begin_create(payment, timer_at=payment.deadline, now=now)
    if bound:
        return store.complete_create(payment.id, cko_id=cko_id("pay_"), redirect_url="https://qpay.example/p", now=now)
    return payment


def captured_payment(*, amount: int = 12500) -> Payment:
    """A pending payment that Checkout.com then captured in full (a payment_captured applied)."""
    from qpay.service.transitions import apply_event

    payment = pending_payment(amount=amount)
    apply_event(
        deps.store(), payment.id, event_id="evt_cap", event_type="payment_captured", cko_id=payment.cko_id,
        amount=amount, now=NOW, settings=settings(),
    )  # fmt: skip
    captured = deps.store().get_payment(payment.id)
    assert captured is not None
    return captured


def webhook_ports(**overrides: Any) -> WebhookPorts:
    return WebhookPorts(store=deps.store(), settings=settings(**overrides), keys=deps.keys(), stepfunctions=None)


def signed(doc: dict[str, Any]) -> tuple[bytes, str]:
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return raw, sign(raw, keys.WEBHOOK_SIGNING_KEY)

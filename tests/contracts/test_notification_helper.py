"""The tests' hand-built notifications (``tests.support.webhooks.notification``) carry only what Checkout
publishes for each type: a handler test must not pass because a test sent a field Checkout never sends
(fidelity F-15: ``payment_capture_declined`` has no amount, currency, reference or processed_on)."""

from __future__ import annotations

import pytest

from tests.contracts.webhook_field_sets import FIELD_SETS
from tests.support.webhooks import notification

TYPES = sorted({fs.event_type for fs in FIELD_SETS.values()})


@pytest.mark.parametrize("event_type", TYPES)
def test_a_notification_carries_only_published_fields(event_type: str) -> None:
    body = notification(event_type, cko_payment_id="pay_" + "a" * 26, payment_id="qpp_test", metadata=None)
    published = FIELD_SETS[event_type].fields
    assert set(body["data"]) - published == set()


def test_a_capture_declined_notification_has_no_amount() -> None:
    body = notification("payment_capture_declined", cko_payment_id="pay_" + "b" * 26, payment_id="qpp_test")
    assert {"amount", "currency", "reference", "processed_on"}.isdisjoint(body["data"])
    assert body["data"]["response_code"] == "20006"

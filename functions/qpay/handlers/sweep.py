"""Scheduled safety net: TTL deletion has no time bound, so reconcile open payments past their
deadline straight from the sparse pending index (never a table scan), a bounded number per run."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from qpay import clock, deps
from qpay.domain.records import Payment
from qpay.observability import logger
from qpay.service.expiry import ExpiryPorts, Outcome, reconcile_open
from qpay.settings import get_settings

metrics = Metrics()
PAGE = 50
MAX_PER_RUN = 500
GRACE_S = 300  # let the stream consumer act first


def _flagged(payment: Payment) -> None:
    metrics.add_metric(name="PaymentsNeedingAttention", unit=MetricUnit.Count, value=1)


def sweep(*, now: int, grace_s: int = GRACE_S, max_items: int = MAX_PER_RUN) -> dict[str, int]:
    ports = ExpiryPorts(store=deps.store(), checkout=deps.checkout(), settings=get_settings(), on_flag=_flagged)
    counts: dict[str, int] = {}
    start: dict[str, Any] | None = None
    seen = 0
    while seen < max_items:
        due, start = ports.store.due_pending(now=now - grace_s, limit=min(PAGE, max_items - seen), start_key=start)
        for payment_id in due:
            seen += 1
            payment = ports.store.get_payment(payment_id)
            if payment is None:
                continue
            try:
                outcome = reconcile_open(payment, now=now, ports=ports, source="sweep")
            except Exception:
                logger.exception("sweep could not reconcile a payment", extra={"payment_id": payment.id})
                outcome = Outcome.UNKNOWN
            counts[outcome.value] = counts.get(outcome.value, 0) + 1
        if not start:
            break
    metrics.add_metric(name="SweepReconciled", unit=MetricUnit.Count, value=seen)
    logger.info("sweep finished", extra={"counts": counts, "seen": seen})
    return counts


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"counts": sweep(now=clock.now())}

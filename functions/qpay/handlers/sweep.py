"""Scheduled safety net (every 15 minutes), two jobs that nothing else owns:

- open payments past their deadline, straight from the sparse pending index (TTL deletion has no time
  bound, and a create that died before Checkout answered has no webhook coming);
- refunds still open long after they were requested (the sparse open-refunds index): the workflow never
  started or died; they are handed to a live execution or a new one.

A bounded number per run, within the time left (it stops early rather than being killed).
"""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.domain.records import Payment
from qpay.observability import logger, metric
from qpay.service.expiry import ExpiryPorts, Outcome, reconcile_open
from qpay.service.refunds import RefundPorts, sweep_refund
from qpay.settings import get_settings

PAGE = 50
MAX_PER_RUN = 500
GRACE_S = 300  # let the stream consumer act first
PER_ITEM_BUDGET_S = 15.0  # one Checkout call at its deadline, plus the writes


def _flagged(payment: Payment) -> None:
    metric("PaymentsNeedingAttention", 1)


def _no_deadline() -> float:
    return float("inf")


def sweep(
    *, now: int, grace_s: int = GRACE_S, max_items: int = MAX_PER_RUN, time_left_s: Any = _no_deadline
) -> dict[str, int]:
    ports = ExpiryPorts(store=deps.store(), checkout=deps.checkout(), settings=get_settings(), on_flag=_flagged)
    counts: dict[str, int] = {}
    done: set[str] = set()
    while len(done) < max_items and time_left_s() >= PER_ITEM_BUDGET_S:
        due = [p for p in ports.store.due_pending(now=now - grace_s, limit=PAGE + len(done)) if p not in done]
        if not due:
            break
        for payment_id in due[: max_items - len(done)]:
            if time_left_s() < PER_ITEM_BUDGET_S:
                break
            done.add(payment_id)
            payment = ports.store.get_payment(payment_id)
            if payment is None:
                continue
            try:
                outcome = reconcile_open(payment, now=now, ports=ports, source="sweep")
            except Exception:
                logger.exception("sweep could not reconcile a payment", extra={"payment_id": payment.id})
                outcome = Outcome.UNKNOWN
            counts[outcome.value] = counts.get(outcome.value, 0) + 1
    metric("SweepReconciled", len(done))
    logger.info("sweep finished", extra={"counts": counts, "seen": len(done)})
    return counts


def sweep_refunds(*, now: int, max_items: int = MAX_PER_RUN, time_left_s: Any = _no_deadline) -> dict[str, int]:
    s = get_settings()
    ports = RefundPorts(store=deps.store(), settings=s, checkout=deps.checkout(), stepfunctions=deps.stepfunctions)
    counts: dict[str, int] = {}
    for payment_id, refund_id in ports.store.open_refunds_due(
        requested_before=now - s.refund_sweep_after_s, limit=max_items
    ):
        if time_left_s() < PER_ITEM_BUDGET_S:
            break
        try:
            result = sweep_refund(payment_id, refund_id, now=now, ports=ports)
        except Exception:
            result = "error"
        counts[result] = counts.get(result, 0) + 1
    if counts.get("restarted") or counts.get("started"):
        metric("RefundsRestarted", counts.get("restarted", 0) + counts.get("started", 0))
    logger.info("refund sweep finished", extra={"counts": counts})
    return counts


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def time_left_s() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000.0

    now = clock.now()
    payments = sweep(now=now, time_left_s=time_left_s)
    refunds = sweep_refunds(now=now, time_left_s=time_left_s)
    return {"counts": payments, "refunds": refunds}

"""Scheduled daily reconciliation against Checkout.com (see ``qpay.service.reconcile``).

Writes the report as a structured log line, as the ``REPORT#<date>`` item and as metrics
(``ReconcileDriftFixed``, ``ReconcileDriftUnfixed``, ``ReconcileErrors``) the alarms watch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpay import clock, deps
from qpay.observability import logger, metric
from qpay.service.reconcile import ReconcilePorts, Report, run
from qpay.service.transitions import retention
from qpay.settings import get_settings


def ports() -> ReconcilePorts:
    return ReconcilePorts(
        store=deps.store(), checkout=deps.checkout(), settings=get_settings(), stepfunctions=deps.stepfunctions
    )


def record(report: Report, *, now: int, write: bool = True) -> dict[str, Any]:
    doc = report.as_dict()
    logger.info("reconciliation report", extra={"report": {k: v for k, v in doc.items() if k != "findings"}})
    for f in report.findings:
        (logger.info if f.fixed else logger.warning)(
            "reconciliation finding",
            extra={"payment_id": f.payment_id, "kind": f.kind, "fixed": f.fixed, "detail": f.detail},
        )
    if write:
        deps.store().put_report(report.day, doc, now=now, retain_until=retention(now, get_settings()))
    return doc


def checkpoint(now: int) -> Callable[[Report], None]:
    """Writes the report so far as ``partial``: a report exists even if the function is killed (the run
    calls it before its first check too, so the next run sees a cut run and catches up)."""

    def write(partial: Report) -> None:
        deps.store().put_report(
            partial.day, {**partial.as_dict(), "partial": True}, now=now, retain_until=retention(now, get_settings())
        )

    return write


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = clock.now()
    days = (event or {}).get("days") if isinstance(event, dict) else None
    margin_s = 10.0  # to write the report and the metrics

    def time_left_s() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000.0 - margin_s

    report = run(
        now=now, ports=ports(), days=int(days) if days else None, time_left_s=time_left_s, checkpoint=checkpoint(now)
    )
    metric("ReconcileChecked", report.checked)
    metric("ReconcileDriftFixed", report.fixed)
    metric("ReconcileDriftUnfixed", report.unfixed)
    metric("ReconcileErrors", report.errors)
    doc = record(report, now=now)
    return {k: v for k, v in doc.items() if k != "findings"}

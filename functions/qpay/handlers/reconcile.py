"""Scheduled daily reconciliation against Checkout.com (see ``qpay.service.reconcile``).

Writes the report as a structured log line, as the ``REPORT#<date>`` item and as metrics
(``ReconcileDriftFixed``, ``ReconcileDriftUnfixed``, ``ReconcileErrors``) the alarms watch.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from qpay import clock, deps
from qpay.observability import logger
from qpay.service.reconcile import ReconcilePorts, Report, run
from qpay.service.transitions import retention
from qpay.settings import get_settings

metrics = Metrics()


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


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = clock.now()
    days = (event or {}).get("days") if isinstance(event, dict) else None
    report = run(now=now, ports=ports(), days=int(days) if days else None)
    metrics.add_metric(name="ReconcileChecked", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="ReconcileDriftFixed", unit=MetricUnit.Count, value=report.fixed)
    metrics.add_metric(name="ReconcileDriftUnfixed", unit=MetricUnit.Count, value=report.unfixed)
    metrics.add_metric(name="ReconcileErrors", unit=MetricUnit.Count, value=report.errors)
    doc = record(report, now=now)
    return {k: v for k, v in doc.items() if k != "findings"}

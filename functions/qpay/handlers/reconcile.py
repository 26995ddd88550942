"""Scheduled daily reconciliation against Checkout.com (see ``qpay.service.reconcile``).

The scheduled event may carry (all optional; docs/capacity.md says when to set them):
``days`` (the window), ``shards`` (index shards this invocation covers, 0-31: one of a fan-out),
``part`` ([k, n]: only payments in the k-th n-th of the id space, n dividing 32, for shards too big for one
invocation),
``sample_every`` (ask Checkout about 1 in N quiet final payments; default 1 = all), ``checkout_rps``
(Checkout.com reads per second for the runs going at once; default ``DEFAULT_CHECKOUT_RPS``) and
``runs_at_once`` (how many invocations share that budget; default 1). The template's fan-out
(infra/reconcile.asl.yaml) sends one event per (shard, part).

Writes the report as a structured log line, as the ``REPORT#<date>`` item and as metrics
(``ReconcileDriftFixed``, ``ReconcileDriftUnfixed``, ``ReconcileErrors``) the alarms watch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpay import clock, deps
from qpay.observability import logger, metric
from qpay.service.pacing import TokenBucket
from qpay.service.reconcile import ReconcilePorts, Report, pk_range, report_key, run
from qpay.service.transitions import retention
from qpay.settings import get_settings

#: Checkout.com reads per second one run may make: 30 % of the published 100 rps read limit per account
#: (https://checkout.com/docs/developer-resources/api/api-rate-limits), the rest left to the live paths; above
#: what 8 checks in flight at ~300 ms make (≈ 27/s): today it never binds; it bounds a run given more concurrency
DEFAULT_CHECKOUT_RPS = 30.0


def ports(checkout_rps: float | None = None) -> ReconcilePorts:
    pace = TokenBucket(checkout_rps, burst=checkout_rps) if checkout_rps else None
    return ReconcilePorts(
        store=deps.store(),
        checkout=deps.checkout(),
        settings=get_settings(),
        stepfunctions=deps.stepfunctions,
        pace=pace,
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
        key = report_key(report.day, report.scope)
        deps.store().put_report(key, doc, now=now, retain_until=retention(now, get_settings()))
    return doc


def checkpoint(now: int) -> Callable[[Report], None]:
    """Writes the report so far as ``partial``: a report exists even if the function is killed (the run
    calls it before its first check too, so the next run sees a cut run and catches up)."""

    def write(partial: Report) -> None:
        deps.store().put_report(
            report_key(partial.day, partial.scope),
            {**partial.as_dict(), "partial": True},
            now=now,
            retain_until=retention(now, get_settings()),
        )

    return write


def _int_list(value: Any) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(n, int) and 0 <= n < 32 for n in value) or not value:
        raise ValueError("shards must be a non-empty list of index shards 0-31")
    return list(value)


def _part(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(n, int) for n in value)):
        raise ValueError("part must be [k, n]")
    pk_range((value[0], value[1]))  # refuses a part that does not divide the id space
    if value[1] == 1:
        return None  # the whole shard: the same scope (and report) as no part at all
    return value[0], value[1]


def read_budget(options: dict[str, Any]) -> float:
    """This invocation's Checkout.com reads per second: ``checkout_rps`` shared by ``runs_at_once``."""
    given_rps, given_runs = options.get("checkout_rps"), options.get("runs_at_once")
    total = DEFAULT_CHECKOUT_RPS if given_rps is None else float(given_rps)
    runs = 1 if given_runs is None else int(given_runs)
    if total <= 0 or runs < 1:
        raise ValueError("checkout_rps must be > 0 and runs_at_once >= 1")
    return total / runs


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = clock.now()
    options = event if isinstance(event, dict) else {}
    days = options.get("days")
    shards = _int_list(options.get("shards"))
    part = _part(options.get("part"))
    sample_every = int(options.get("sample_every") or 1)
    checkout_rps = read_budget(options)
    margin_s = 10.0  # to write the report and the metrics

    def time_left_s() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000.0 - margin_s

    report = run(
        now=now,
        ports=ports(checkout_rps),
        days=int(days) if days else None,
        time_left_s=time_left_s,
        checkpoint=checkpoint(now),
        sample_every=max(1, sample_every),
        shards=shards,
        part=part,
    )
    metric("ReconcileChecked", report.checked)
    metric("ReconcileCheckoutAsked", sum(v for k, v in report.asked.items() if k != "skipped"))
    metric("ReconcileDriftFixed", report.fixed)
    metric("ReconcileDriftUnfixed", report.unfixed)
    metric("ReconcileErrors", report.errors)
    doc = record(report, now=now)
    return {k: v for k, v in doc.items() if k != "findings"}

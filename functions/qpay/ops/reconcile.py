"""Reconcile payments with Checkout.com now: one payment, or every payment changed since a time.

Uses the same code as the daily job (``qpay.service.reconcile``) and the function's configuration
from the environment (TABLE_NAME, SECRET_ID, CHECKOUT_BASE_URL, AWS credentials). Safe to run again:
every repair is a conditional write counted once.

    python -m qpay.ops.reconcile --payment-id qpp_…            # one payment
    python -m qpay.ops.reconcile --since 2026-11-24T00:00:00Z  # everything changed since then
    python -m qpay.ops.reconcile --days 7 --dry-run            # report drift, change nothing
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime


def _epoch(text: str) -> int:
    value = text.strip()
    if value.isdigit():
        return int(value)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qpay.ops.reconcile", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--payment-id", action="append", help="a payment to reconcile (repeatable)")
    which.add_argument("--since", help="ISO-8601 time or epoch seconds: payments changed since then")
    which.add_argument("--days", type=int, help="payments changed in the last N days")
    parser.add_argument("--max", type=int, default=None, help="payments to check at most")
    parser.add_argument("--dry-run", action="store_true", help="report drift, repair nothing, write no report")
    parser.add_argument("--write-report", action="store_true", help="also write the REPORT#<date> item")
    args = parser.parse_args(argv)

    from qpay import clock  # noqa: PLC0415 - configuration is read from the environment only now
    from qpay.observability import logger  # noqa: PLC0415

    logger.use_stderr()  # stdout carries the report
    from qpay.handlers.reconcile import ports, record  # noqa: PLC0415
    from qpay.service.reconcile import run  # noqa: PLC0415

    now = clock.now()
    report = run(
        now=now,
        ports=ports(),
        since=_epoch(args.since) if args.since else None,
        days=args.days,
        payment_ids=args.payment_id,
        max_items=args.max,
        fix=not args.dry_run,
    )
    doc = record(report, now=now, write=args.write_report and not args.dry_run)
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if report.unfixed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Partial batch responses for a DynamoDB stream consumer: each record on its own, a failed one reported
by its sequence number (``ReportBatchItemFailures``), so Lambda redelivers from it and not the whole batch.

Lambda's contract (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html):
``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}``; an empty list is a success; Lambda
retries from the lowest sequence number reported. A few lines instead of Powertools' batch utility,
whose import cost the stream consumers most of their cold start (measured: README bench, docs/capacity.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qpay.observability import logger


class BatchProcessingError(Exception):
    """Every record of the batch failed: the invocation fails, so Lambda retries the batch and, with
    ``BisectBatchOnFunctionError``, splits it to isolate a poison record (what Powertools' batch utility
    does too: the same name, so logs and alarms read the same)."""


def sequence_number(record: dict[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


def process(
    records: list[dict[str, Any]], handle: Callable[[dict[str, Any]], object]
) -> dict[str, list[dict[str, str]]]:
    """``handle`` each record in order; a record whose handling raised is reported failed (and logged).
    Raises :class:`BatchProcessingError` when every record failed."""
    failed: list[dict[str, str]] = []
    for record in records:
        try:
            handle(record)
        except Exception as exc:
            logger.warning(
                "stream record failed: redelivered",
                extra={"sequence_number": sequence_number(record), "error": type(exc).__name__},
            )
            failed.append({"itemIdentifier": sequence_number(record)})
    if records and len(failed) == len(records):
        raise BatchProcessingError(f"all {len(records)} records failed")
    return {"batchItemFailures": failed}

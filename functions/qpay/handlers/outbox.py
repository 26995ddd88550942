"""DynamoDB stream consumer: order events to EventBridge (the outbox).

The event source mapping's filter passes only ``MODIFY`` records of ``sk = PAYMENT`` and
``sk = REFUND#…`` items. The batch's events go out together, up to 10 per ``PutEvents`` call
(``qpay.service.outbox``); a record whose events were not all accepted, or whose item cannot be read, is
reported failed (``ReportBatchItemFailures``, by its sequence number) and Lambda redelivers from it;
processing is idempotent (deterministic event ids).

No Powertools batch processor here: it handles one record at a time, which would cost one ``PutEvents``
call per record, and its import was most of this function's cold start (docs/capacity.md, README bench).
"""

from __future__ import annotations

from typing import Any

from qpay import deps
from qpay.adapters.dynamo import from_ddb
from qpay.observability import logger, metric
from qpay.service.outbox import OutboxPorts, Pending, derive, publish_records
from qpay.settings import get_settings


def _ports() -> OutboxPorts:
    s = get_settings()
    if not s.order_events_bus_name:
        raise RuntimeError("ORDER_EVENTS_BUS_NAME is not set")
    return OutboxPorts(events=deps.events(), bus_name=s.order_events_bus_name, source=s.order_events_source)


def pending_of(records: list[dict[str, Any]]) -> tuple[list[Pending], list[str]]:
    """Each record's events (records without any left out), and the records that could not be read."""
    pending: list[Pending] = []
    unreadable: list[str] = []
    for record in records:
        raw = record.get("dynamodb") or {}
        record_id = str(raw.get("SequenceNumber", ""))
        try:
            keys = from_ddb(raw.get("Keys")) or {}
            events = derive(keys, from_ddb(raw.get("OldImage")), from_ddb(raw.get("NewImage")))
        except Exception:
            logger.exception("stream record not readable", extra={"sequence_number": record_id})
            unreadable.append(record_id)
            continue
        if events:
            pending.append(Pending(record_id, events))
    return pending, unreadable


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    records = list((event or {}).get("Records") or [])
    pending, unreadable = pending_of(records)
    failed: list[str] = []
    if pending:
        failed, _ = publish_records(pending, _ports())
    if failed:  # PutEvents refused or throttled past the client's retries: the alarm before the quota binds
        metric("OrderEventsNotPublished", len(failed))
    bad = set(failed) | set(unreadable)
    order = [str((r.get("dynamodb") or {}).get("SequenceNumber", "")) for r in records]
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in order if record_id in bad]}

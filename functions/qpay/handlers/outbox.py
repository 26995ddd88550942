"""DynamoDB stream consumer: order events to EventBridge (the outbox).

The event source mapping's filter passes only ``MODIFY`` records of ``sk = PAYMENT`` and
``sk = REFUND#…`` items. Each record is processed on its own (Powertools batch processing): a record
whose events were not all accepted is reported failed and redelivered; processing is idempotent.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from qpay import deps
from qpay.adapters.dynamo import from_ddb
from qpay.observability import logger
from qpay.service.outbox import OutboxPorts, derive, publish
from qpay.settings import get_settings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _ports() -> OutboxPorts:
    s = get_settings()
    if not s.order_events_bus_name:
        raise RuntimeError("ORDER_EVENTS_BUS_NAME is not set")
    return OutboxPorts(events=deps.events(), bus_name=s.order_events_bus_name, source=s.order_events_source)


def record_handler(record: DynamoDBRecord) -> int:
    raw = record.raw_event.get("dynamodb") or {}
    keys = from_ddb(raw.get("Keys")) or {}
    events = derive(keys, from_ddb(raw.get("OldImage")), from_ddb(raw.get("NewImage")))
    if not events:
        return 0
    return publish(events, _ports())


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

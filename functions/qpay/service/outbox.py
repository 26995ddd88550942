"""The outbox: order events published from the table's stream, so a state change and its event can
never disagree (the event exists because the committed change is in the stream, and only then).

At least once: a record is reported failed (``ReportBatchItemFailures``) when any of its events was
not accepted by ``PutEvents``; Lambda redelivers from that record, and the deterministic event ids
let consumers drop the duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qpay.domain.order_events import OrderEvent, events_for
from qpay.observability import logger


class PublishFailed(Exception):
    """PutEvents did not accept every entry of a record: the record is retried."""


@dataclass(frozen=True)
class OutboxPorts:
    events: Any  # boto3 EventBridge client
    bus_name: str
    source: str


def derive(keys: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[OrderEvent]:
    return events_for(str(keys.get("sk", "")), old, new)


def entries(events: Sequence[OrderEvent], ports: OutboxPorts) -> list[dict[str, Any]]:
    return [
        {
            "Source": ports.source,
            "DetailType": e.detail_type,
            "Detail": json.dumps(e.detail, separators=(",", ":"), sort_keys=True),
            "EventBusName": ports.bus_name,
            "Resources": [],
        }
        for e in events
    ]


def publish(events: Sequence[OrderEvent], ports: OutboxPorts) -> int:
    """Put the events (≤ 10 per call). Raises :class:`PublishFailed` if any entry was refused."""
    if not events:
        return 0
    failed: list[str] = []
    batch = entries(events, ports)
    for start in range(0, len(batch), 10):
        chunk = batch[start : start + 10]
        answer = ports.events.put_events(Entries=chunk)
        if answer.get("FailedEntryCount", 0):
            for entry, result in zip(chunk, answer.get("Entries", []), strict=False):
                if result.get("ErrorCode"):
                    failed.append(f"{entry['DetailType']}: {result.get('ErrorCode')}")
    for e in events:
        logger.info(
            "order event published" if not failed else "order event publish attempted",
            extra={
                "detail_type": e.detail_type,
                "order_event_id": e.event_id,
                "payment_id": e.detail.get("payment_id"),
            },
        )
    if failed:
        raise PublishFailed("; ".join(failed))
    return len(events)

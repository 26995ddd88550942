"""The outbox: order events published from the table's stream, so a state change and its event can
never disagree (the event exists because the committed change is in the stream, and only then).

One ``PutEvents`` call carries up to 10 entries (EventBridge's limit per call, and at most 256 KB), taken
from as many stream records as fill it: the calls fall up to tenfold against one call per record, which
is what the account's ``PutEvents`` quota counts (EventBridge bills per entry, so the price is the same).

At least once: a record is reported failed (``ReportBatchItemFailures``) when any of its events was not
accepted (an entry refused, or its whole call failed); Lambda redelivers from the first failed record,
and the deterministic event ids let consumers drop the duplicates.

Limits: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html (10 entries and 256 KB
per ``PutEvents`` request); entry size as computed in
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qpay.domain.order_events import OrderEvent, events_for
from qpay.observability import logger

MAX_ENTRIES_PER_CALL = 10
MAX_CALL_BYTES = 256 * 1024


@dataclass(frozen=True)
class OutboxPorts:
    events: Any  # boto3 EventBridge client
    bus_name: str
    source: str


@dataclass(frozen=True)
class Pending:
    """One stream record's events, under the id Lambda redelivers it by (its sequence number)."""

    record_id: str
    events: Sequence[OrderEvent]


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


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it (UTF-8 bytes of Source, DetailType, Detail, Resources;
    14 for a Time; EventBusName is not counted: counting it anyway keeps the estimate on the safe side)."""
    parts = [entry["Source"], entry["DetailType"], entry["Detail"], entry["EventBusName"], *entry["Resources"]]
    return sum(len(str(p).encode()) for p in parts)


def calls(tagged: Sequence[tuple[str, dict[str, Any]]]) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """``(record id, entry)`` pairs packed into calls of at most 10 entries and 256 KB, in order."""
    chunk: list[tuple[str, dict[str, Any]]] = []
    size = 0
    for pair in tagged:
        n = entry_size(pair[1])
        if chunk and (len(chunk) == MAX_ENTRIES_PER_CALL or size + n > MAX_CALL_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(pair)
        size += n
    if chunk:
        yield chunk


def publish_records(pending: Sequence[Pending], ports: OutboxPorts) -> tuple[list[str], int]:
    """Publish every record's events in as few calls as they fit. Returns the ids of the records not
    fully accepted (in the order given) and the number of ``PutEvents`` calls made."""
    tagged = [(p.record_id, entry) for p in pending for entry in entries(p.events, ports)]
    failed: set[str] = set()
    made = 0
    for chunk in calls(tagged):
        made += 1
        try:
            answer = ports.events.put_events(Entries=[entry for _, entry in chunk])
        except Exception as exc:  # throttled past the client's retries, or unreachable: the whole call failed
            logger.warning("PutEvents failed", extra={"entries": len(chunk), "error": type(exc).__name__})
            failed.update(record_id for record_id, _ in chunk)
            continue
        if answer.get("FailedEntryCount", 0):
            results = answer.get("Entries", [])
            for i, (record_id, entry) in enumerate(chunk):
                result = results[i] if i < len(results) else {"ErrorCode": "Missing"}
                if result.get("ErrorCode"):
                    failed.add(record_id)
                    logger.warning(
                        "order event refused",
                        extra={"detail_type": entry["DetailType"], "error_code": result.get("ErrorCode")},
                    )
    for p in pending:
        for e in p.events:
            logger.info(
                "order event published" if p.record_id not in failed else "order event publish attempted",
                extra={
                    "detail_type": e.detail_type,
                    "order_event_id": e.event_id,
                    "payment_id": e.detail.get("payment_id"),
                },
            )
    return [p.record_id for p in pending if p.record_id in failed], made

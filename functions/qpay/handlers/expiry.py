"""DynamoDB stream consumer: expiry timers removed by TTL.

The event source mapping's filter passes only ``REMOVE`` records of ``sk = TIMER`` items; a user delete
of a timer matches that filter too, so only removals made by the DynamoDB service (TTL) are acted on.
Each record is processed on its own (``qpay.handlers.stream_batch``): a failure is reported for that record
only, Lambda redelivers from it, and processing is idempotent. A record is only started when the time
left covers Checkout.com's deadline; the rest of the batch is reported failed and redelivered, so a slow
Checkout never times out a whole batch (template: BatchSize times the deadline stays under Timeout).
"""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.adapters.dynamo import from_ddb
from qpay.adapters.store import TIMER_SK
from qpay.domain import ids
from qpay.domain.records import Payment
from qpay.handlers.stream_batch import process
from qpay.observability import logger, metric
from qpay.service.expiry import ExpiryPorts, on_timer_removed
from qpay.settings import get_settings

RESPONSE_MARGIN_S = 2.0


def is_ttl_removal(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == "dynamodb.amazonaws.com"


def _flagged(payment: Payment) -> None:
    metric("PaymentsNeedingAttention", 1)


class OutOfTime(Exception):
    """Too little time left for this record's Checkout call: reported failed, so Lambda redelivers it."""


def record_handler(record: dict[str, Any], lambda_context: Any = None) -> str:
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if callable(remaining) and remaining() / 1000.0 < get_settings().checkout_deadline_s + RESPONSE_MARGIN_S:
        raise OutOfTime("not enough time left for Checkout.com's deadline: redelivered")
    stream = record.get("dynamodb")
    if not stream or record.get("eventName") != "REMOVE":
        return "ignored"
    keys = from_ddb(stream.get("Keys")) or {}
    if keys.get("sk") != TIMER_SK or not str(keys.get("pk", "")).startswith("PAYMENT#"):
        return "ignored"
    if not is_ttl_removal(record):
        logger.info("timer removed by a user, not by TTL: ignored", extra={"pk": keys.get("pk")})
        return "ignored"
    payment_id = str(keys["pk"]).removeprefix("PAYMENT#")
    if not ids.is_payment_id(payment_id):
        # a corrupt timer: fail it so it is retried, then parked on the on-failure queue for a human
        raise ValueError("timer key does not name a payment")
    attempt = int((from_ddb(stream.get("OldImage")) or {}).get("attempt", 0))
    ports = ExpiryPorts(store=deps.store(), checkout=deps.checkout(), settings=get_settings(), on_flag=_flagged)
    outcome = on_timer_removed(payment_id, timer_attempt=attempt, now=clock.now(), ports=ports)
    logger.info("expiry timer handled", extra={"payment_id": payment_id, "outcome": outcome.value})
    return outcome.value


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> Any:
    return process(list((event or {}).get("Records") or []), lambda record: record_handler(record, context))

"""Webhook intake: verify the raw bytes, then one conditional write per event.

Checkout.com delivers at least once and in any order. A duplicate changes nothing, a late event never
moves a payment backwards, and we answer 2xx only once the change is durable (an exception → 5xx →
Checkout retries).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from qpay.adapters.secrets import Keys
from qpay.adapters.store import ApplyResult, PaymentStore
from qpay.domain import ids
from qpay.domain.errors import Unauthorized, ValidationFailed
from qpay.domain.events import MalformedEvent, WebhookEvent, parse_event
from qpay.domain.signature import verify
from qpay.domain.states import PAYMENT_EVENT_TYPES, QPAY_EVENT_TYPES
from qpay.observability import logger
from qpay.service.refund_notify import notify_workflow
from qpay.service.transitions import apply_event, retention
from qpay.settings import Settings


@dataclass(frozen=True)
class WebhookPorts:
    store: PaymentStore
    settings: Settings
    keys: Keys
    stepfunctions: Any  # resolved lazily: only refund outcomes need it


def authenticate(body: bytes, *, signature: str | None, authorization: str | None, keys: Keys) -> None:
    if keys.webhook_authorization is not None and not hmac.compare_digest(
        (authorization or "").encode(), keys.webhook_authorization.encode()
    ):
        raise Unauthorized("webhook authorization header is not valid")
    if not verify(body, signature, keys.webhook_signing_keys):
        raise Unauthorized("Cko-Signature does not match the body")


def handle(body: bytes, *, signature: str | None, authorization: str | None, now: int, ports: WebhookPorts) -> str:
    authenticate(body, signature=signature, authorization=authorization, keys=ports.keys)
    try:
        event = parse_event(json.loads(body))
    except (ValueError, MalformedEvent) as exc:
        raise ValidationFailed(
            f"not a Checkout.com notification: {exc}", details=[{"field": "body", "issue": str(exc)}]
        ) from None
    created = event.created_epoch()
    if created is not None and now - created > (ports.settings.event_retention_days - 1) * 86400:
        # older than the de-duplication window (Checkout retries for ~30 h): a replay, never applied
        logger.warning(
            "webhook older than the de-duplication window: acknowledged, not applied",
            extra={"event_type": event.type, "event_id": event.event_id},
        )
        return "too_old"
    if event.type not in QPAY_EVENT_TYPES:
        logger.info(
            "webhook type not handled: acknowledged",
            extra={"event_type": event.type, "event_id": event.event_id},
        )
        return "ignored"
    if event.payment_id is None:
        logger.warning(
            "webhook for a payment not created here: acknowledged",
            extra={"event_type": event.type, "cko_id": event.cko_payment_id},
        )
        return "unknown_payment"
    logger.append_keys(payment_id=event.payment_id)
    if event.type in PAYMENT_EVENT_TYPES:
        result, _ = apply_event(
            ports.store,
            event.payment_id,
            event_id=event.event_id,
            event_type=event.type,
            cko_id=event.cko_payment_id,
            amount=event.amount,
            now=now,
            settings=ports.settings,
        )
        return result.value
    return _refund_event(event, now=now, ports=ports)


def _refund_event(event: WebhookEvent, *, now: int, ports: WebhookPorts) -> str:
    assert event.payment_id is not None
    refund_id = event.reference if ids.is_refund_id(event.reference) else None
    if event.type == "payment_refund_pending":
        if refund_id:
            ports.store.mark_refund_pending(event.payment_id, refund_id, action_id=event.action_id, now=now)
        return "recorded"
    if not event.action_id or event.amount is None:
        raise ValidationFailed(
            "refund notification without action_id or amount",
            details=[{"field": "data.action_id", "issue": "required"}],
        )
    result = ports.store.apply_refund_outcome(
        event.payment_id,
        action_id=event.action_id,
        amount=event.amount,
        approved=event.type == "payment_refunded",
        refund_id=refund_id,
        event_id=event.event_id,
        now=now,
        retain_until=retention(now, ports.settings),
    )
    logger.info("refund outcome", extra={"event_type": event.type, "refund_id": refund_id, "result": result.value})
    if refund_id and result in (ApplyResult.APPLIED, ApplyResult.DUPLICATE, ApplyResult.STALE):
        # also on a duplicate: the first delivery may have died between the write and the notify
        notify_workflow(ports.store, ports.stepfunctions, event.payment_id, refund_id)
    return result.value

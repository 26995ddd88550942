"""Webhook intake: verify the raw bytes, then one conditional write per event.

Checkout.com delivers at least once and in any order. A duplicate changes nothing, a late event never
moves a payment backwards, and we answer 2xx only once the change is durable (an exception → 5xx →
Checkout retries). An event finds its payment by our id in the metadata, or — for the notifications
Checkout sends without metadata — by Checkout's ``pay_…`` id; either way it only ever applies to the
Checkout payment bound to ours.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from qpay.adapters.secrets import Keys
from qpay.adapters.store import ApplyResult, PaymentStore
from qpay.domain.errors import Unauthorized, ValidationFailed
from qpay.domain.events import MalformedEvent, WebhookEvent, parse_event
from qpay.domain.refund_states import RefundState
from qpay.domain.refunds import match_refund
from qpay.domain.signature import verify
from qpay.domain.states import PAYMENT_EVENT_TYPES, QPAY_EVENT_TYPES
from qpay.observability import logger
from qpay.service.refund_notify import notify_workflow
from qpay.service.refund_outcomes import record_refund_outcome
from qpay.service.transitions import apply_event, retention
from qpay.settings import Settings


@dataclass(frozen=True)
class WebhookPorts:
    store: PaymentStore
    settings: Settings
    keys: Keys
    stepfunctions: Any  # resolved lazily: only refund outcomes need it


def authenticate(body: bytes, *, signature: str | None, authorization: str | None, keys: Keys) -> None:
    keys.require("webhook_signing_keys", "webhook_authorization")
    if keys.webhook_authorization is not None and not hmac.compare_digest(
        (authorization or "").encode(), keys.webhook_authorization.encode()
    ):
        raise Unauthorized("webhook authorization header is not valid")
    if not verify(body, signature, keys.webhook_signing_keys):
        raise Unauthorized("Cko-Signature does not match the body")


def read_event(body: bytes) -> WebhookEvent:
    try:
        return parse_event(json.loads(body))
    except RecursionError:
        raise ValidationFailed(
            "not a Checkout.com notification: nested too deeply", details=[{"field": "body", "issue": "too deep"}]
        ) from None
    except (ValueError, MalformedEvent) as exc:
        raise ValidationFailed(
            f"not a Checkout.com notification: {exc}", details=[{"field": "body", "issue": str(exc)}]
        ) from None


def handle(body: bytes, *, signature: str | None, authorization: str | None, now: int, ports: WebhookPorts) -> str:
    authenticate(body, signature=signature, authorization=authorization, keys=ports.keys)
    event = read_event(body)
    log = {"event_type": event.type, "event_id": event.event_id, "cko_id": event.cko_payment_id}
    created = event.created_epoch()
    if created is not None and now - created > (ports.settings.event_retention_days - 1) * 86400:
        # older than the de-duplication window (Checkout retries for ~30 h): a replay, never applied
        logger.warning("webhook older than the de-duplication window: acknowledged, not applied", extra=log)
        return "too_old"
    if event.type not in QPAY_EVENT_TYPES:
        logger.info("webhook type not handled: acknowledged", extra=log)
        return "ignored"
    payment_id = event.payment_id or ports.store.find_by_cko_id(event.cko_payment_id)
    if payment_id is None:
        logger.warning("webhook for a payment not created here: acknowledged", extra=log)
        return "unknown_payment"
    logger.append_keys(payment_id=payment_id)
    if event.type in PAYMENT_EVENT_TYPES:
        done = apply_event(
            ports.store,
            payment_id,
            event_id=event.event_id,
            event_type=event.type,
            cko_id=event.cko_payment_id,
            amount=event.amount,
            now=now,
            settings=ports.settings,
        )
        return done.result.value
    return _refund_event(event, payment_id, now=now, ports=ports)


def _refund_event(event: WebhookEvent, payment_id: str, *, now: int, ports: WebhookPorts) -> str:
    if event.type == "payment_refund_pending":
        # Checkout accepted a refund (our 202 usually said so already). It carries no reference: only a
        # refund we already know by this action id can be matched; anything else waits for its outcome.
        _, refunds = ports.store.get_payment_with_refunds(payment_id)
        refund = match_refund(refunds, action_id=event.action_id, reference=event.reference)
        if refund is not None:
            ports.store.mark_refund_pending(payment_id, refund.id, action_id=event.action_id, now=now)
            return "recorded"
        return "ignored"
    if not event.action_id:
        raise ValidationFailed(
            "refund notification without action_id", details=[{"field": "data.action_id", "issue": "required"}]
        )
    outcome = record_refund_outcome(
        ports.store,
        payment_id,
        action_id=event.action_id,
        amount=event.amount,
        currency=event.currency,
        approved=event.type == "payment_refunded",
        reference=event.reference,
        event_id=event.event_id,
        now=now,
        retain_until=retention(now, ports.settings),
    )
    refund_id = outcome.refund.id if outcome.refund is not None else None
    logger.info(
        "refund outcome", extra={"event_type": event.type, "refund_id": refund_id, "result": outcome.result.value}
    )
    if refund_id and outcome.result in (ApplyResult.APPLIED, ApplyResult.DUPLICATE):
        # also on a duplicate: the first delivery may have died between the write and the notify
        state = RefundState.REFUNDED if event.type == "payment_refunded" else RefundState.DECLINED
        notify_workflow(
            ports.store,
            ports.stepfunctions,
            payment_id,
            refund_id,
            known=outcome.refund if outcome.result is ApplyResult.APPLIED else None,
            state=state,
            action_id=event.action_id,
        )
    return outcome.result.value

"""POST /webhooks/checkout: Checkout.com's signed notifications. Answers inside its 10 s."""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.domain.errors import PayloadTooLarge, Unauthorized
from qpay.observability import logger, metric
from qpay.service.webhooks import WebhookPorts, handle
from qpay.settings import get_settings


def signature_rejected() -> None:
    """EMF metric for the rejected-signature alarm."""
    metric("WebhookSignatureRejected")


MAX_WEBHOOK_BYTES = 256 * 1024  # Checkout's notifications are a few KB: never hash megabytes for anyone


@http.guarded
def route(event: http.Event) -> http.Response:
    deps.origin_check().verify(event)  # Checkout.com delivers to the edge's WebhookUrl
    body = http.raw_body(event)
    if len(body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge("notification too large", details=[{"field": "body", "issue": "too large"}])
    ports = WebhookPorts(
        store=deps.store(), settings=get_settings(), keys=deps.keys(), stepfunctions=deps.stepfunctions
    )
    try:
        outcome = handle(
            body,
            signature=http.header(event, "Cko-Signature"),
            authorization=http.header(event, "Authorization"),
            now=clock.now(),
            ports=ports,
        )
    except Unauthorized:
        signature_rejected()
        raise
    return http.respond(200, {"received": True, "result": outcome})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

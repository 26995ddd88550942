"""POST /webhooks/checkout: Checkout.com's signed notifications. Answers inside its 10 s."""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.domain.errors import Unauthorized
from qpay.observability import logger
from qpay.service.webhooks import WebhookPorts, handle
from qpay.settings import get_settings


def signature_rejected() -> None:
    """EMF metric for the rejected-signature alarm; imported only on this path (cold start)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric  # noqa: PLC0415

    with single_metric(name="WebhookSignatureRejected", unit=MetricUnit.Count, value=1):
        pass


@http.guarded
def route(event: http.Event) -> http.Response:
    ports = WebhookPorts(
        store=deps.store(), settings=get_settings(), keys=deps.keys(), stepfunctions=deps.stepfunctions
    )
    try:
        outcome = handle(
            http.raw_body(event),
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

"""POST /webhooks/checkout: Checkout.com's signed notifications. Answers inside its 10 s."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from qpay import clock, deps
from qpay.api import http
from qpay.observability import logger
from qpay.service.webhooks import WebhookPorts, handle
from qpay.settings import get_settings


@http.guarded
def route(event: http.Event) -> http.Response:
    ports = WebhookPorts(
        store=deps.store(), settings=get_settings(), keys=deps.keys(), stepfunctions=deps.stepfunctions
    )
    outcome = handle(
        http.raw_body(event),
        signature=http.header(event, "Cko-Signature"),
        authorization=http.header(event, "Authorization"),
        now=clock.now(),
        ports=ports,
    )
    return http.respond(200, {"received": True, "result": outcome})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

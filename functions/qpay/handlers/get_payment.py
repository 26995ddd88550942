"""GET /payments/{id}: the storefront polls a payment's status (and its refunds)."""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.api.views import payment_view
from qpay.domain import ids
from qpay.domain.errors import NotFound
from qpay.observability import logger


@http.guarded
def route(event: http.Event) -> http.Response:
    payment_id = http.path_param(event, "id")
    if not ids.is_payment_id(payment_id):
        raise NotFound("no such payment")
    logger.append_keys(payment_id=payment_id)
    payment, refunds = deps.store().get_payment_with_refunds(payment_id)
    if payment is None:
        raise NotFound("no such payment")
    return http.respond(200, payment_view(payment, refunds, now=clock.now()))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

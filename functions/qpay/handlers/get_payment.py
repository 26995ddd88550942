"""GET /payments/{id}: the storefront polls a payment's status (and its refunds).

Reading needs the merchant key, or the payment's client secret (``X-Client-Secret``, returned by the
create call and handed by the storefront to the shopper's browser)."""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.api.auth import authorize_read
from qpay.api.views import payment_view
from qpay.domain import ids
from qpay.domain.errors import NotFound
from qpay.observability import logger


@http.guarded
def route(event: http.Event) -> http.Response:
    deps.origin_check().verify(event)  # behind the edge: only what came through CloudFront
    payment_id = http.path_param(event, "id")
    keys = deps.keys()
    authorization = http.header(event, "Authorization")

    def expected_secret() -> str:
        keys.require("server_key")
        return ids.client_secret_for(keys.server_key, payment_id)

    def api_keys() -> tuple[str, ...]:
        keys.require("merchant_api_keys")
        return keys.merchant_api_keys

    reader = authorize_read(
        authorization=authorization,
        client_secret=http.header(event, "X-Client-Secret"),
        expected_secret=expected_secret,
        api_keys=api_keys,
    )
    if not ids.is_payment_id(payment_id):
        raise NotFound("no such payment")
    logger.append_keys(payment_id=payment_id)
    payment, refunds = deps.store().get_payment_with_refunds(payment_id)
    if payment is None:
        raise NotFound("no such payment")
    return http.respond(200, payment_view(payment, refunds, now=clock.now(), merchant=reader == "merchant"))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

"""GET /payments/return/{outcome}: the shopper's browser comes back from QPay.

The outcome in the path or query is never trusted: we ask Checkout.com, record what it says and
303 the shopper to a configured storefront page (no open redirect). If anything goes wrong the shopper
still lands on the storefront's result page with the payment id, which polls the real status: a
shopper who has paid is never told it failed.
"""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.domain.errors import DomainError
from qpay.observability import logger
from qpay.service.returns import ReturnPorts, checking_page, record_return
from qpay.settings import get_settings

RESPONSE_MARGIN_S = 1.0  # leave time to answer before the Lambda timeout


def route(event: http.Event, context: Any = None) -> http.Response:
    logger.set_correlation_id(http.request_id(event))
    try:
        deps.origin_check().verify(event)  # the shopper's browser comes back through the edge
    except DomainError as err:  # not through CloudFront (403), or its secret unusable (503): nothing done
        return http.error(err, http.request_id(event))
    q = http.query(event)
    payment_id = q.get("payment_id")
    if payment_id:
        logger.append_keys(payment_id=payment_id)
    s = get_settings()

    def time_left_s() -> float:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return (remaining() / 1000.0 - RESPONSE_MARGIN_S) if callable(remaining) else 60.0

    try:
        ports = ReturnPorts(store=deps.store(), checkout=deps.checkout(), settings=s)
        _, location = record_return(
            payment_id=payment_id,
            session_id=q.get("cko-session-id"),
            now=clock.now(),
            ports=ports,
            recent=deps.recent_returns(),
            time_left_s=time_left_s,
        )
    except Exception:
        # the shopper still lands on the shop, which shows the status as it is and keeps polling
        logger.exception("return handling failed")
        location = checking_page(s, payment_id)
    return http.redirect(location)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event, context)

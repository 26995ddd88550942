"""GET /payments/return/{outcome}: the shopper's browser comes back from QPay.

The outcome in the path or query is never trusted: we ask Checkout.com, record what it says and
303 the shopper to a configured storefront page (no open redirect).
"""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.observability import logger
from qpay.service.payments import Ports, record_return
from qpay.settings import get_settings


def route(event: http.Event) -> http.Response:
    logger.set_correlation_id(http.request_id(event))
    q = http.query(event)
    if q.get("payment_id"):
        logger.append_keys(payment_id=q.get("payment_id"))
    s = get_settings()
    try:
        ports = Ports(store=deps.store(), checkout=deps.checkout(), settings=s, request_hash_key="")
        _, location = record_return(
            payment_id=q.get("payment_id"), session_id=q.get("cko-session-id"), now=clock.now(), ports=ports
        )
    except Exception:
        # the shopper still lands on the shop, which shows the status as it is and keeps polling
        logger.exception("return handling failed")
        location = s.storefront_failure_url
    return http.redirect(location)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

"""POST /payments: the storefront (server, or browser with an order token) creates a QPay payment."""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.api.auth import authenticate
from qpay.api.requests import parse_create
from qpay.domain import ids
from qpay.domain.records import Payment
from qpay.domain.states import Stage
from qpay.observability import logger
from qpay.service.payments import Ports, create_payment
from qpay.settings import get_settings


def _base_url(event: http.Event) -> str:
    configured = get_settings().public_base_url
    if configured:
        return configured
    ctx = event.get("requestContext") or {}
    stage = ctx.get("stage") or "$default"
    return f"https://{ctx.get('domainName')}" + ("" if stage == "$default" else f"/{stage}")


def payable(payment: Payment) -> bool:
    """Only a Pending payment with its QPay link is offered to the shopper (never an ended one: F-3)."""
    return payment.stage is Stage.PENDING and bool(payment.redirect_url)


def view(payment: Payment, server_key: str) -> dict[str, Any]:
    """The create answer (``qpay.api.schemas.CreatePaymentResponse``, checked in the tests)."""
    from qpay.api.views import iso  # noqa: PLC0415

    return {
        "id": payment.id,
        "client_secret": ids.client_secret_for(server_key, payment.id),
        "reference": payment.reference,
        "status": payment.status.value,
        "amount": payment.amount,
        "currency": payment.currency,
        "redirect_url": (payment.redirect_url or "") if payable(payment) else "",
        "expires_at": iso(payment.deadline),
    }


@http.guarded
def route(event: http.Event) -> http.Response:
    deps.origin_check().verify(event)  # behind the edge: only what came through CloudFront
    idem = http.idempotency_key(event)
    doc = http.json_body(event)
    keys = deps.keys()
    keys.require("server_key", "checkout_secret_key")
    now = clock.now()
    s = get_settings()
    authorization = http.header(event, "Authorization")
    keys.require("merchant_api_keys" if authorization else "order_token_keys")
    caller = authenticate(
        authorization=authorization,
        order_token=http.header(event, "X-Order-Token"),
        body=doc,
        api_keys=keys.merchant_api_keys,
        token_key=keys.order_token_key,
        now=now,
        leeway_s=s.order_token_leeway_s,
    )
    req = parse_create(doc)
    ports = Ports(store=deps.store(), checkout=deps.checkout(), settings=s, server_key=keys.server_key)
    payment, created = create_payment(
        req, caller=caller, idempotency_key=idem, base_url=_base_url(event), now=now, ports=ports
    )
    logger.append_keys(payment_id=payment.id)
    headers = {"Location": f"/payments/{payment.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    # 201 carries a payable link; a replay of a payment that was paid or ended is a 200 without one
    return http.respond(201 if payable(payment) else 200, view(payment, keys.server_key), headers)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

"""POST /payments/{id}/refunds: merchant-only (IAM-authorised route). Reserves and starts the workflow."""

from __future__ import annotations

from typing import Any

from qpay import clock, deps
from qpay.api import http
from qpay.api.requests import parse_refund
from qpay.observability import logger
from qpay.service.refunds import RefundPorts, request_refund
from qpay.settings import get_settings


def principal(event: http.Event) -> str | None:
    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    return iam.get("userArn") or iam.get("callerId")


@http.guarded
def route(event: http.Event) -> http.Response:
    idem = http.idempotency_key(event, required=True)
    assert idem is not None
    logger.append_keys(payment_id=http.path_param(event, "id"))
    raw = http.raw_body(event)
    doc = http.json_body(event) if raw.strip() else {}
    req = parse_refund(doc)
    ports = RefundPorts(store=deps.store(), settings=get_settings(), stepfunctions=deps.stepfunctions)
    refund, created = request_refund(
        http.path_param(event, "id"),
        amount=req.amount,
        reference=req.reference,
        reason=req.reason,
        principal=principal(event),
        idempotency_key=idem,
        now=clock.now(),
        ports=ports,
    )
    body = {"id": refund.id, "payment_id": refund.payment_id, "amount": refund.amount, "status": refund.state.value}
    return http.respond(202, body, None if created else {"Idempotent-Replayed": "true"})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> http.Response:
    return route(event)

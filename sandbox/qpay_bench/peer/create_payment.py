"""POST /payments, the typical way: resolver, pydantic, Idempotency on the Idempotency-Key header,
httpx to Checkout.com, a boto3 resource for the table."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

import httpx
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from .common import idempotency_config, logger, persistence, secret, table, tracer
from .models import CreatePaymentRequest, CreatePaymentResponse

app = APIGatewayHttpResolver()
config = idempotency_config('headers."idempotency-key"')
checkout = httpx.Client(base_url=os.environ["CHECKOUT_BASE_URL"], timeout=httpx.Timeout(4.0, connect=1.5))


def _authorized(header: str | None) -> bool:
    token = (header or "").removeprefix("Bearer ")
    return any(hmac.compare_digest(token, k) for k in secret()["merchant_api_keys"])


@tracer.capture_method
def create(req: CreatePaymentRequest, idempotency_key: str) -> CreatePaymentResponse:
    now = int(time.time())
    payment_id = "qpp_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:26]
    table.put_item(
        Item={
            "pk": f"PAYMENT#{payment_id}",
            "sk": "PAYMENT",
            "id": payment_id,
            "reference": req.reference,
            "amount": req.amount,
            "currency": req.currency,
            "description": req.description,
            "stage": "pending",
            "created_at": now,
            "updated_at": now,
        },
        ConditionExpression="attribute_not_exists(pk)",
    )
    answer = checkout.post(
        "/payments",
        json={
            "source": {
                "type": "qpay",
                "description": req.description,
                "quantity": req.quantity,
                "language": req.language,
                "national_id": req.national_id,
            },
            "amount": req.amount,
            "currency": req.currency,
            "reference": req.reference,
            "processing_channel_id": os.environ.get("PROCESSING_CHANNEL_ID"),
            "metadata": {"qpay_payment_id": payment_id},
        },
        headers={"Authorization": f"Bearer {secret()['checkout_secret_key']}", "Cko-Idempotency-Key": payment_id},
    )
    answer.raise_for_status()
    doc = answer.json()
    redirect = doc["_links"]["redirect"]["href"]
    table.update_item(
        Key={"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"},
        UpdateExpression="SET cko_id = :c, redirect_url = :r, updated_at = :now",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":c": doc["id"], ":r": redirect, ":now": now},
    )
    logger.info("payment created", extra={"payment_id": payment_id})
    return CreatePaymentResponse(id=payment_id, reference=req.reference, status="Pending", amount=req.amount,
                                 currency=req.currency, redirect_url=redirect)  # fmt: skip


@app.post("/payments")
@tracer.capture_method
def create_route() -> Response[str]:
    headers = app.current_event.headers
    if not _authorized(headers.get("authorization")):
        return Response(401, content_types.APPLICATION_JSON, '{"code":"unauthorized"}')
    try:
        req = CreatePaymentRequest.model_validate_json(app.current_event.body or "")
    except ValidationError as exc:
        return Response(422, content_types.APPLICATION_JSON, exc.json())
    payment = create(req, headers.get("idempotency-key") or os.urandom(16).hex())
    return Response(201, content_types.APPLICATION_JSON, payment.model_dump_json())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@idempotent(config=config, persistence_store=persistence)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""POST /webhooks/checkout, the typical way: resolver, Logger, Tracer, Idempotency per event id."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from .common import idempotency_config, logger, persistence, secret, table, tracer
from .models import WebhookEvent

app = APIGatewayHttpResolver()
config = idempotency_config("id")
TARGETS = {
    "payment_captured": "captured",
    "payment_capture_pending": "capture_pending",
    "payment_capture_declined": "declined",
    "payment_canceled": "canceled",
    "payment_expired": "expired",
}
SOURCES = ["pending", "capture_pending"]


def _verified(body: str, signature: str | None) -> bool:
    keys = secret()["webhook_signing_keys"]
    expected = [hmac.new(k.encode(), body.encode(), hashlib.sha256).hexdigest() for k in keys]
    return signature is not None and any(hmac.compare_digest(e, signature) for e in expected)


@idempotent_function(data_keyword_argument="event", config=config, persistence_store=persistence)  # type: ignore[untyped-decorator]
@tracer.capture_method
def apply(event: dict[str, Any]) -> dict[str, Any]:
    target = TARGETS.get(event["type"])
    payment_id = event["data"]["metadata"].get("qpay_payment_id")
    if target is None or payment_id is None:
        return {"result": "ignored"}
    try:
        table.update_item(
            Key={"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"},
            UpdateExpression="SET #s = :s, updated_at = :now, cko_id = :cko",
            ConditionExpression="attribute_exists(pk) AND #s IN (:p0, :p1)",
            ExpressionAttributeNames={"#s": "stage"},
            ExpressionAttributeValues={
                ":s": target,
                ":now": int(time.time()),
                ":cko": event["data"]["id"],
                ":p0": SOURCES[0],
                ":p1": SOURCES[1],
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return {"result": "stale"}
    logger.info("payment updated", extra={"payment_id": payment_id, "stage": target})
    return {"result": "applied"}


@app.post("/webhooks/checkout")
@tracer.capture_method
def webhook() -> Response[str]:
    body = app.current_event.body or ""
    if not _verified(body, app.current_event.headers.get("cko-signature")):
        logger.warning("bad signature")
        return Response(401, content_types.APPLICATION_JSON, '{"code":"unauthorized"}')
    try:
        event = WebhookEvent.model_validate_json(body)
    except ValidationError as exc:
        return Response(422, content_types.APPLICATION_JSON, exc.json())
    result = apply(event=event.model_dump())
    return Response(200, content_types.APPLICATION_JSON, f'{{"received":true,"result":"{result["result"]}"}}')


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config.register_lambda_context(context)
    return app.resolve(event, context)

"""What both peer handlers share, set up at import time as the Powertools examples do."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

logger = Logger()
tracer = Tracer()
dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(os.environ["TABLE_NAME"])
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])


def idempotency_config(key: str) -> IdempotencyConfig:
    return IdempotencyConfig(event_key_jmespath=key, expires_after_seconds=24 * 3600)


def secret() -> dict[str, Any]:
    doc = parameters.get_secret(os.environ["SECRET_ID"], transform="json", max_age=300)
    assert isinstance(doc, dict)
    return doc

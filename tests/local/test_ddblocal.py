"""DynamoDB Local: the same stack with real TTL deletions and boto3-cased userIdentity converted."""

from __future__ import annotations

import time

import pytest

from qpay_local import ddb_local
from qpay_local.stack import LocalStack

pytestmark = [
    pytest.mark.ddblocal,
    pytest.mark.skipif(not ddb_local.available(), reason="java or the DynamoDB Local jar is missing"),
]


def test_stack_on_dynamodb_local_creates_the_table_and_streams():
    with LocalStack(api_port=0, sim_port=0, ddb_local=True, time_scale=0.001, schedule_interval_s=None) as stack:
        assert stack.env["AWS_ENDPOINT_URL_DYNAMODB"] == stack.dynamodb_endpoint != stack.aws_endpoint
        t = stack.dynamodb.describe_table(TableName=stack.table_name)["Table"]
        assert t["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        stack.dynamodb.put_item(TableName=stack.table_name, Item={"pk": {"S": "PAYMENT#x"}, "sk": {"S": "TIMER"}})
        stack.dynamodb.delete_item(TableName=stack.table_name, Key={"pk": {"S": "PAYMENT#x"}, "sk": {"S": "TIMER"}})
        consumer = next(c for c in stack.consumers if c.config.function == "ExpiryFunction")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not consumer.delivered:
            time.sleep(0.05)
        rec = consumer.delivered[0][0]
        assert rec["eventName"] == "REMOVE"
        assert "userIdentity" not in rec  # a user delete
        assert stack.sweeper is None  # DynamoDB Local expires items itself

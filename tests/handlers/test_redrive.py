"""The redrive command re-reads a failed batch from the stream (its on-failure message holds only
shard and sequence numbers) and runs it through the expiry consumer again."""

from __future__ import annotations

import json

import boto3

from qpay.ops.redrive import _in_process, redrive
from tests.conftest import REGION, TABLE, body_of, create_body, invoke_create


class TtlStreams:
    """moto's stream records carry no userIdentity; DynamoDB's TTL removals do. Add it as AWS would."""

    def __init__(self, client):
        self._client = client

    def get_shard_iterator(self, **kwargs):
        return self._client.get_shard_iterator(**kwargs)

    def get_records(self, **kwargs):
        page = self._client.get_records(**kwargs)
        for record in page.get("Records", []):
            if record["eventName"] == "REMOVE" and record["dynamodb"]["Keys"]["sk"]["S"] == "TIMER":
                record["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
        return page


def failure_message(stream_arn: str, shard_id: str, first: str, last: str) -> str:
    return json.dumps(
        {
            "requestContext": {
                "requestId": "r-1",
                "functionArn": "arn:aws:lambda:me-central-1:123456789012:function:expiry",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 6,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2026-11-25T10:00:00.000Z",
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "approximateArrivalOfFirstRecord": "2026-11-25T10:00:00Z",
                "approximateArrivalOfLastRecord": "2026-11-25T10:00:00Z",
                "batchSize": 1,
                "streamArn": stream_arn,
            },
        }
    )


def test_redrive_rereads_the_batch_and_reconciles(aws, sim) -> None:
    pid = body_of(invoke_create(create_body()))["id"]
    [cko] = sim.payments.values()
    sim.expire_payment(cko.id)
    aws.ddb.delete_item(TableName=TABLE, Key={"pk": {"S": f"PAYMENT#{pid}"}, "sk": {"S": "TIMER"}})
    stream_arn = aws.ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = streams.get_records(ShardIterator=it)["Records"]
    [removal] = [r for r in records if r["eventName"] == "REMOVE"]
    seq = removal["dynamodb"]["SequenceNumber"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="expiry-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=failure_message(stream_arn, shard["ShardId"], seq, seq))

    dry = redrive(
        sqs=sqs, streams=TtlStreams(streams), queue_url=queue, invoke=_in_process(), region=REGION, dry_run=True
    )
    assert dry.records == 1
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["stage"] == "Pending"
    report = redrive(sqs=sqs, streams=TtlStreams(streams), queue_url=queue, invoke=_in_process(), region=REGION)
    assert report.redriven == 1
    assert report.kept == 0
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["stage"] == "Expired"
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []

"""The stream poller (Lambda's event source mapping) and the TTL sweeper, against moto's stream."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from qpay.ops.stream_records import TTL_IDENTITY
from qpay_local.moto_world import create_table
from qpay_local.streams import ConsumerConfig, StreamConsumer, shape_record
from qpay_local.ttl import TtlMarks, TtlSweeper

PROPS = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
    "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": True},
}


class Recorder:
    """A fake function: records batches; ``fail`` decides per batch what to answer."""

    def __init__(self, fail=None) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail or (lambda pks, records: None)
        self.lock = threading.Lock()

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        records = event["Records"]
        pks = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
        with self.lock:
            self.batches.append(pks)
        return self.fail(pks, records)

    @property
    def seen(self) -> list[str]:
        return [pk for b in self.batches for pk in b]


@pytest.fixture
def table(moto_world):
    name = f"t-{uuid.uuid4().hex[:8]}"
    desc = create_table(moto_world.client("dynamodb"), name, PROPS)
    return name, desc["LatestStreamArn"]


@pytest.fixture
def queue(moto_world):
    return moto_world.client("sqs").create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]


def consumer_for(moto_world, stream_arn, invoke, queue_url=None, marks=None, **cfg) -> StreamConsumer:
    config = ConsumerConfig(
        function="Fn",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        on_failure_queue_url=queue_url,
        retry_delay_s=0.01,
        **cfg,
    )
    return StreamConsumer(
        moto_world.client("dynamodbstreams"),
        moto_world.client("sqs"),
        stream_arn,
        config,
        invoke,
        region="us-east-1",
        ttl_marks=marks,
        ttl_attribute="exp",
        poll_interval_s=0.02,
    )


def put(moto_world, table_name, pk, sk="TIMER", **extra):
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **extra}
    moto_world.client("dynamodb").put_item(TableName=table_name, Item=item)


def run_until_idle(consumer: StreamConsumer) -> None:
    consumer.start()
    try:
        assert consumer.wait_idle(10)
    finally:
        consumer.stop()


def test_batches_in_order_with_batch_size(moto_world, table):
    name, arn = table
    for i in range(5):
        put(moto_world, name, f"p{i}")
    fn = Recorder()
    run_until_idle(consumer_for(moto_world, arn, fn, batch_size=2))
    assert fn.batches == [["p0", "p1"], ["p2", "p3"], ["p4"]]


def test_batch_item_failure_redelivers_from_the_failed_record(moto_world, table):
    name, arn = table
    for i in range(4):
        put(moto_world, name, f"p{i}")
    failed_once = set()

    def fail(pks, records):
        for pk, rec in zip(pks, records, strict=True):
            if pk == "p2" and pk not in failed_once:
                failed_once.add(pk)
                return {"batchItemFailures": [{"itemIdentifier": rec["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    fn = Recorder(fail)
    run_until_idle(consumer_for(moto_world, arn, fn, batch_size=10, report_batch_item_failures=True))
    assert fn.batches == [["p0", "p1", "p2", "p3"], ["p2", "p3"]]  # p0, p1 are not redelivered


def test_poison_record_goes_to_the_on_failure_queue(moto_world, table, queue):
    name, arn = table
    for i in range(4):
        put(moto_world, name, f"p{i}")

    def fail(pks, records):
        if "p1" in pks:
            raise RuntimeError("poison")

    fn = Recorder(fail)
    consumer = consumer_for(moto_world, arn, fn, queue, batch_size=4, bisect_on_error=True, max_retries=2)
    run_until_idle(consumer)
    # bisect: [p0 p1 p2 p3] → [p0 p1] → [p0] ok, [p1] x3 → destination; then [p2 p3] ok
    assert fn.seen.count("p1") == 1 + 1 + 3
    assert [pk for pk in fn.seen if pk != "p1"].count("p0") >= 1
    assert fn.batches[-1] == ["p2", "p3"]
    msgs = moto_world.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1
    body = json.loads(msgs[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["requestContext"]["functionArn"].endswith(":function:fn")
    assert body["responseContext"]["functionError"] == "Unhandled"
    assert body["version"] == "1.0"
    info = body["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"] == arn
    assert info["shardId"] in consumer.shards
    p1_seq = next(b for b in consumer.delivered if b[0]["dynamodb"]["Keys"]["pk"]["S"] == "p1")[0]["dynamodb"][
        "SequenceNumber"
    ]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == p1_seq
    assert consumer.sent_to_destination == 1


def test_filters_drop_records_before_batching(moto_world, table):
    name, arn = table
    put(moto_world, name, "p0", sk="PAYMENT")
    put(moto_world, name, "p1")
    fn = Recorder()
    consumer = consumer_for(moto_world, arn, fn, filters=[{"dynamodb": {"Keys": {"sk": {"S": ["TIMER"]}}}}])
    run_until_idle(consumer)
    assert fn.batches == [["p1"]]
    assert consumer.filtered_out == 1


def test_lambda_record_shape_and_ttl_identity(moto_world, table):
    name, arn = table
    ddb = moto_world.client("dynamodb")
    past = str(int(time.time()) - 5)
    put(moto_world, name, "expired", exp={"N": past})
    put(moto_world, name, "user-deleted", exp={"N": past})
    put(moto_world, name, "future", exp={"N": str(int(time.time()) + 3600)})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "user-deleted"}, "sk": {"S": "TIMER"}})
    marks = TtlMarks()
    sweeper = TtlSweeper(ddb, name, "exp", ["pk", "sk"], marks)
    assert sweeper.sweep_once() == 1  # only "expired" is left expired
    assert sweeper.sweep_once() == 0
    fn = Recorder()
    consumer = consumer_for(moto_world, arn, fn, marks=marks, filters=[{"eventName": ["REMOVE"]}])
    run_until_idle(consumer)
    removes = {r["dynamodb"]["Keys"]["pk"]["S"]: r for b in consumer.delivered for r in b}
    assert set(removes) == {"expired", "user-deleted"}
    ttl_rec = removes["expired"]
    assert ttl_rec["userIdentity"] == TTL_IDENTITY == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert "userIdentity" not in removes["user-deleted"]
    assert set(ttl_rec) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
        "userIdentity",
    }
    assert ttl_rec["eventVersion"] == "1.1"
    assert ttl_rec["eventSource"] == "aws:dynamodb"
    assert ttl_rec["eventSourceARN"] == arn
    d = ttl_rec["dynamodb"]
    assert isinstance(d["ApproximateCreationDateTime"], int)
    assert d["Keys"] == {"pk": {"S": "expired"}, "sk": {"S": "TIMER"}}
    assert d["OldImage"]["exp"] == {"N": past}
    assert "NewImage" not in d
    assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(d["SequenceNumber"], str)
    assert isinstance(d["SizeBytes"], int)
    assert len(marks) == 0


def test_boto3_user_identity_casing_is_converted():
    raw = {
        "eventID": "1",
        "eventName": "REMOVE",
        "dynamodb": {"Keys": {"pk": {"S": "a"}}, "SequenceNumber": "5", "SizeBytes": 3, "StreamViewType": "KEYS_ONLY"},
        "userIdentity": {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"},
    }
    rec = shape_record(raw, stream_arn="arn:s", region="eu-west-1")
    assert rec["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert rec["awsRegion"] == "eu-west-1"


def test_config_from_template_event():
    props = {
        "BatchSize": 25,
        "MaximumBatchingWindowInSeconds": 5,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 5,
        "MaximumRecordAgeInSeconds": 21600,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]},
    }
    cfg = ConsumerConfig.from_event(props, function="F", function_arn="arn", on_failure_queue_url="q", time_scale=0.01)
    assert (cfg.batch_size, cfg.batching_window_s, cfg.bisect_on_error, cfg.max_retries) == (25, 0.05, True, 5)
    assert cfg.report_batch_item_failures
    assert cfg.filters == [{"eventName": ["REMOVE"]}]

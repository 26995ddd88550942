"""Redrive what the expiry consumer gave up on.

Lambda's on-failure destination receives only where the failed batch was (``DDBStreamBatchInfo``:
stream, shard, first and last sequence number), not the records. This reads those records back from
the stream (retained 24 h), invokes the expiry function with them (the deployed function, or the
handler in-process), and deletes the queue message only when every record succeeded. Safe to run
again: the consumer is idempotent.

    python -m qpay.ops.redrive --queue-url URL --function-name qpay-prod-ExpiryFunction-…
    python -m qpay.ops.redrive --queue-url URL --in-process        # runs the handler here
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qpay.ops.stream_records import to_lambda_record

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Report:
    messages: int = 0
    records: int = 0
    redriven: int = 0  # messages whose records all succeeded (message deleted)
    kept: int = 0  # messages left on the queue (a record failed again, or the stream no longer has them)
    details: list[dict[str, Any]] = field(default_factory=list)


def read_batch(streams: Any, info: dict[str, Any], region: str) -> list[dict[str, Any]]:
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    out: list[dict[str, Any]] = []
    for _ in range(1000):  # bounded: a batch is at most 10,000 records
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for raw in page.get("Records", []):
            seq = int(raw["dynamodb"]["SequenceNumber"])
            if seq > end:
                return out
            if seq >= start:
                out.append(to_lambda_record(raw, stream_arn=info["streamArn"], region=region))
        iterator = page.get("NextShardIterator")
        if not iterator or not page.get("Records"):
            return out
    return out


def redrive(
    *,
    sqs: Any,
    streams: Any,
    queue_url: str,
    invoke: Invoke,
    region: str,
    max_messages: int = 100,
    dry_run: bool = False,
) -> Report:
    report = Report()
    release: list[str] = []  # dry run: hand the messages back at once
    while report.messages < max_messages:
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, max_messages - report.messages),
            WaitTimeSeconds=0,
            VisibilityTimeout=120,
        )
        messages = got.get("Messages", [])
        if not messages:
            break
        for message in messages:
            report.messages += 1
            info = json.loads(message["Body"]).get("DDBStreamBatchInfo") or {}
            records = read_batch(streams, info, region) if info else []
            report.records += len(records)
            detail = {"shard": info.get("shardId"), "records": len(records)}
            if dry_run or not records:
                report.kept += 1
                detail["result"] = "dry-run" if dry_run else "records no longer in the stream"
                if dry_run:
                    release.append(message["ReceiptHandle"])
            else:
                result = invoke({"Records": records})
                failures = result.get("batchItemFailures") or []
                if failures or result.get("FunctionError"):
                    report.kept += 1
                    detail["result"] = f"{len(failures)} records failed again"
                else:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    report.redriven += 1
                    detail["result"] = "redriven"
            report.details.append(detail)
    for handle in release:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return report


def _lambda_invoker(function_name: str) -> Invoke:
    import boto3  # noqa: PLC0415

    client = boto3.client("lambda")

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"{}")
        if answer.get("FunctionError"):
            return {"FunctionError": answer["FunctionError"], "payload": payload}
        return dict(payload) if isinstance(payload, dict) else {}

    return invoke


def _in_process() -> Invoke:
    from qpay.handlers import expiry  # noqa: PLC0415

    class _Context:
        function_name = "redrive"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:local:000000000000:function:redrive"
        aws_request_id = "redrive"

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(expiry.handler(event, _Context()))
        except Exception as exc:  # all records failed: Powertools raises
            return {"FunctionError": type(exc).__name__}

    return invoke


def main(argv: list[str] | None = None) -> int:
    import boto3  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m qpay.ops.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("--queue-url", required=True, help="the ExpiryFailureQueueUrl stack output")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--function-name", help="invoke the deployed expiry function")
    target.add_argument("--in-process", action="store_true", help="run the expiry handler in this process")
    parser.add_argument("--max", type=int, default=100, help="messages to take at most (default 100)")
    parser.add_argument("--dry-run", action="store_true", help="read and count, invoke nothing, delete nothing")
    args = parser.parse_args(argv)
    session = boto3.session.Session()
    region = session.region_name or "us-east-1"
    invoke = _in_process() if args.in_process else _lambda_invoker(args.function_name)
    report = redrive(
        sqs=session.client("sqs"),
        streams=session.client("dynamodbstreams"),
        queue_url=args.queue_url,
        invoke=invoke,
        region=region,
        max_messages=args.max,
        dry_run=args.dry_run,
    )
    print(
        json.dumps(
            {
                "messages": report.messages,
                "records": report.records,
                "redriven": report.redriven,
                "kept": report.kept,
                "details": report.details,
            },
            indent=2,
        )
    )
    return 0 if report.kept == 0 or args.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())

"""Wiring: the API gateway's configuration, and the stream consumers (one per DynamoDB event source, plus
the dashboard's reader) and the TTL sweeper (moto only: DynamoDB Local deletes by itself)."""

from __future__ import annotations

import dataclasses
import string
from typing import TYPE_CHECKING, Any

from qpay_local.apigw import Cors, GatewayConfig
from qpay_local.ids import ACCOUNT_ID, rand
from qpay_local.streams import ConsumerConfig, StreamConsumer
from qpay_local.template import Resolver
from qpay_local.ttl import TtlSweeper

if TYPE_CHECKING:
    from qpay_local.stack import LocalStack


def gateway_config(stack: LocalStack, resolver: Resolver) -> GatewayConfig:
    cors_cfg = stack.template.cors()
    cors = Cors.from_config(resolver.resolve(cors_cfg)) if cors_cfg else None
    return GatewayConfig(
        routes=stack.template.http_routes(),
        invoke=stack.invoke,
        credentials=stack.botocore_credentials,
        region=stack.region,
        account_id=ACCOUNT_ID,
        api_id=stack.api_id,
        cors=cors,
        iam_user_arn=f"arn:aws:iam::{ACCOUNT_ID}:user/qpay-local-merchant",
        iam_user_id="AIDA" + rand(17, string.ascii_uppercase + "234567"),
        extra_apps=dict(stack.extra_apps),
    )


def start_streams(stack: LocalStack, resolver: Resolver) -> None:
    streams_client = stack.client("dynamodbstreams")
    ttl_tables: dict[str, str] = {}
    for logical_id, res in stack.template.of_type("AWS::DynamoDB::Table").items():
        spec = res.get("Properties", {}).get("TimeToLiveSpecification") or {}
        if spec.get("Enabled"):
            ttl_tables[logical_id] = str(spec["AttributeName"])
    for source in stack.template.stream_sources():
        stream_arn = str(resolver.resolve(source.stream))
        table_logical = next((k for k, v in stack.stream_arns.items() if v == stream_arn), None)
        dest = (((source.properties.get("DestinationConfig") or {}).get("OnFailure")) or {}).get("Destination")
        queue_url = None
        if dest is not None:
            dest_arn = str(resolver.resolve(dest))
            queue_url = next(
                (stack.queue_urls[k] for k in stack.queue_urls if resolver.getatt(k, "Arn") == dest_arn), None
            )
        cfg = ConsumerConfig.from_event(
            source.properties,
            function=source.function,
            function_arn=stack.functions[source.function].arn,
            on_failure_queue_url=queue_url,
            time_scale=stack.time_scale,
        )
        if source.function in order_event_publishers(stack):
            if stack.events_batching_window_s is not None:
                cfg = dataclasses.replace(cfg, batching_window_s=stack.events_batching_window_s)
            stack.events_batching = (
                float(source.properties.get("MaximumBatchingWindowInSeconds", 0)),
                cfg.batching_window_s,
            )
        consumer = StreamConsumer(
            streams_client,
            stack.client("sqs"),
            stream_arn,
            cfg,
            stack.invoke,
            region=stack.region,
            ttl_marks=stack.ttl_marks.reader(),
            ttl_attribute=ttl_tables.get(table_logical or ""),
            poll_interval_s=stack.stream_poll_interval_s,
        )
        consumer.start()
        stack.consumers.append(consumer)
    if stack.activity is not None and stack.stream_arns:
        table_logical, stream_arn = next(iter(stack.stream_arns.items()))
        stack.activity_reader = StreamConsumer(
            streams_client,
            stack.client("sqs"),
            stream_arn,
            ConsumerConfig(function="LocalDashboard", function_arn=""),
            stack.activity.on_stream_batch,
            region=stack.region,
            ttl_marks=stack.ttl_marks.reader(),
            ttl_attribute=ttl_tables.get(table_logical),
            poll_interval_s=0.1,
        )
        stack.activity_reader.start()
    # moto never deletes expired items, and DynamoDB Local (the bundled 2025-03-14 jar) deletes none on a
    # table with a global secondary index (measured: ../shared/local-aws.md): on both, the stack reaps
    # them itself and its marks give the REMOVE records TTL's userIdentity. Where DynamoDB Local does reap
    # (a table without an index), its own delete wins and ours fails its condition: nothing twice.
    for logical_id, attribute in ttl_tables.items():
        props = stack.template.properties(logical_id)
        view = (props.get("StreamSpecification") or {}).get("StreamViewType", "")
        stack.sweeper = TtlSweeper(
            stack.client("dynamodb"),
            stack.table_names[logical_id],
            attribute,
            [k["AttributeName"] for k in props["KeySchema"]],
            stack.ttl_marks,
            interval_s=stack.ttl_interval_s,
            keys_only_stream=view == "KEYS_ONLY",
        )
        if stack.ttl_interval_s > 0:
            stack.sweeper.start()


def order_event_publishers(stack: LocalStack) -> set[str]:
    """The functions that put order events on an event bus of the template (their environment names it)."""
    buses = set(stack.template.of_type("AWS::Events::EventBus"))

    def names_a_bus(value: Any) -> bool:
        return isinstance(value, dict) and (value.get("Ref") in buses or str(value.get("Fn::GetAtt", [""])[0]) in buses)

    return {
        logical_id
        for logical_id, fn in stack.template.functions().items()
        if any(names_a_bus(v) for v in fn.environment.values())
    }

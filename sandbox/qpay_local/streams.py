"""Plays the part of Lambda's DynamoDB event source mapping: read every shard, filter, batch, invoke.

Per consumer (a ``Type: DynamoDB`` event of a function in the template) and per shard, in order:

- records are shaped as Lambda delivers them (``eventVersion`` "1.1", numeric
  ``ApproximateCreationDateTime``, lowercase ``userIdentity`` only on TTL deletions);
- the template's ``FilterCriteria`` drop non-matching records (Lambda's filter rules);
- batches of up to ``BatchSize``, waiting up to ``MaximumBatchingWindowInSeconds`` (scaled) to fill;
- ``ReportBatchItemFailures``: checkpoint before the first failed record, redeliver from it;
- a function error: ``BisectBatchOnFunctionError`` splits the batch, ``MaximumRetryAttempts`` bounds
  retries, ``MaximumRecordAgeInSeconds`` discards old records; what is given up on goes to the
  on-failure destination (SQS) as Lambda's invocation record, and the shard moves on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qpay.ops.stream_records import TTL_IDENTITY, to_lambda_record
from qpay_local.filters import matches_any, parse_filters
from qpay_local.ttl import TtlMarks

log = logging.getLogger("qpay_local.streams")

Invoke = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class ConsumerConfig:
    function: str  # logical id
    function_arn: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    bisect_on_error: bool = False
    max_retries: int = -1  # -1: until the record expires
    max_record_age_s: float = -1
    report_batch_item_failures: bool = False
    filters: list[dict[str, Any]] = field(default_factory=list)
    on_failure_queue_url: str | None = None
    starting_position: str = "TRIM_HORIZON"
    retry_delay_s: float = 0.05

    @classmethod
    def from_event(
        cls,
        props: dict[str, Any],
        *,
        function: str,
        function_arn: str,
        on_failure_queue_url: str | None,
        time_scale: float = 1.0,
        retry_delay_s: float = 0.05,
    ) -> ConsumerConfig:
        return cls(
            function=function,
            function_arn=function_arn,
            batch_size=int(props.get("BatchSize", 100)),
            batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)) * time_scale,
            bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
            max_retries=int(props.get("MaximumRetryAttempts", -1)),
            max_record_age_s=float(props.get("MaximumRecordAgeInSeconds", -1)),
            report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            filters=parse_filters(props.get("FilterCriteria")),
            on_failure_queue_url=on_failure_queue_url,
            starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
            retry_delay_s=retry_delay_s,
        )


def shape_record(
    raw: dict[str, Any],
    *,
    stream_arn: str,
    region: str,
    ttl_marks: TtlMarks | None = None,
    ttl_attribute: str | None = None,
) -> dict[str, Any]:
    """A ``GetRecords`` record (as boto3 returns it) → the record Lambda delivers (the product's own
    conversion, shared with its redrive command). moto gives TTL removals no ``userIdentity``: the
    sweeper's marks add the service identity to exactly the removals it made."""
    record = to_lambda_record(raw, stream_arn=stream_arn, region=region)
    record["awsRegion"] = region
    if "userIdentity" not in record and record["eventName"] == "REMOVE" and ttl_marks is not None:
        out_ddb = record["dynamodb"]
        old = out_ddb.get("OldImage", {})
        ttl_value = old.get(ttl_attribute, {}).get("N") if ttl_attribute else None
        if ttl_marks.claim(out_ddb.get("Keys", {}), ttl_value):
            record["userIdentity"] = dict(TTL_IDENTITY)
    return record


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


@dataclass
class _Buffered:
    record: dict[str, Any]
    arrived: float  # when the poller read it (epoch seconds)


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: list[_Buffered] = field(default_factory=list)
    closed: bool = False


@dataclass
class Outcome:
    ok: bool
    failed_index: int | None = None  # partial batch failure: first failed record
    function_error: str | None = None


class StreamConsumer:
    """One event source mapping: a thread that reads all shards of ``stream_arn`` for one function."""

    def __init__(
        self,
        streams: Any,
        sqs: Any,
        stream_arn: str,
        config: ConsumerConfig,
        invoke: Invoke,
        *,
        region: str,
        ttl_marks: TtlMarks | None = None,
        ttl_attribute: str | None = None,
        poll_interval_s: float = 0.1,
        shard_refresh_s: float = 1.0,
    ) -> None:
        self.streams = streams
        self.sqs = sqs
        self.stream_arn = stream_arn
        self.config = config
        self.invoke_fn = invoke
        self.region = region
        self.ttl_marks = ttl_marks
        self.ttl_attribute = ttl_attribute
        self.poll_interval_s = poll_interval_s
        self.shard_refresh_s = shard_refresh_s
        self.shards: dict[str, _Shard] = {}
        self.delivered: list[list[dict[str, Any]]] = []  # every batch handed to the function (inspection)
        self.filtered_out = 0
        self.sent_to_destination = 0
        self._cycle = 0
        self._idle_cycle = -1  # last cycle that found nothing to do
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_refresh = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"qpay-local-esm-{self.config.function}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until a full poll cycle that started after this call found nothing to do."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._cycle + 1
            while self._idle_cycle < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("stream poll failed (%s)", self.config.function)
                busy = False
            if not busy:
                self._stop.wait(self.poll_interval_s)

    # -- polling -----------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        now = time.monotonic()
        if self.shards and now - self._last_refresh < self.shard_refresh_s:
            return
        self._last_refresh = now
        desc = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in desc.get("Shards", []):
            sid = shard["ShardId"]
            if sid in self.shards:
                continue
            it = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=sid, ShardIteratorType=self.config.starting_position
            )["ShardIterator"]
            self.shards[sid] = _Shard(sid, it)

    def poll_once(self) -> bool:
        """One cycle over every shard; returns True if anything was read or delivered."""
        with self._cond:
            self._cycle += 1
            cycle = self._cycle
        self._refresh_shards()
        busy = False
        for shard in list(self.shards.values()):
            if self._stop.is_set():
                return busy
            if shard.iterator and not shard.closed:
                resp = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
                shard.iterator = resp.get("NextShardIterator")
                if not shard.iterator:
                    shard.closed = True
                now = time.time()
                for raw in resp.get("Records", []):
                    busy = True
                    record = shape_record(
                        raw,
                        stream_arn=self.stream_arn,
                        region=self.region,
                        ttl_marks=self.ttl_marks,
                        ttl_attribute=self.ttl_attribute,
                    )
                    if matches_any(record, self.config.filters):
                        shard.buffer.append(_Buffered(record, now))
                    else:
                        self.filtered_out += 1
            if shard.buffer:
                busy = True
                self._process(shard)
        with self._cond:
            if not busy and not any(s.buffer for s in self.shards.values()):
                self._idle_cycle = cycle
            self._cond.notify_all()
        return busy

    def _process(self, shard: _Shard) -> None:
        cfg = self.config
        while shard.buffer and not self._stop.is_set():
            self._expire_old(shard)
            if not shard.buffer:
                return
            if len(shard.buffer) < cfg.batch_size and time.time() - shard.buffer[0].arrived < cfg.batching_window_s:
                return  # the batching window is still open: wait for more records
            batch = [b.record for b in shard.buffer[: cfg.batch_size]]
            self._deliver(shard, batch)

    def _expire_old(self, shard: _Shard) -> None:
        max_age = self.config.max_record_age_s
        if max_age < 0:
            return
        now = time.time()
        old = [b.record for b in shard.buffer if now - b.record["dynamodb"]["ApproximateCreationDateTime"] > max_age]
        if old:
            self._checkpoint(shard, old)
            self._send_to_destination(shard, old, attempts=0, condition="RecordAgeExceeded", function_error=None)

    def _checkpoint(self, shard: _Shard, records: list[dict[str, Any]]) -> None:
        done = {r["dynamodb"]["SequenceNumber"] for r in records}
        shard.buffer = [b for b in shard.buffer if b.record["dynamodb"]["SequenceNumber"] not in done]

    def _deliver(self, shard: _Shard, batch: list[dict[str, Any]]) -> None:
        cfg = self.config
        attempts = 0
        while batch and not self._stop.is_set():
            attempts += 1
            outcome = self._call(batch)
            if outcome.ok:
                self._checkpoint(shard, batch)
                return
            if outcome.failed_index is not None:
                self._checkpoint(shard, batch[: outcome.failed_index])
                batch = batch[outcome.failed_index :]
            elif cfg.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(shard, batch[:half])
                self._deliver(shard, batch[half:])
                return
            if cfg.max_retries >= 0 and attempts > cfg.max_retries:
                self._checkpoint(shard, batch)
                self._send_to_destination(
                    shard,
                    batch,
                    attempts=attempts,
                    condition="RetryAttemptsExhausted",
                    function_error=outcome.function_error,
                )
                return
            self._stop.wait(cfg.retry_delay_s * min(2 ** (attempts - 1), 20))

    def _call(self, batch: list[dict[str, Any]]) -> Outcome:
        self.delivered.append(batch)
        try:
            result = self.invoke_fn(self.config.function, {"Records": batch})
        except Exception as exc:
            log.warning("%s failed on a batch of %d: %s: %s", self.config.function, len(batch), type(exc).__name__, exc)
            return Outcome(ok=False, function_error="Unhandled")
        if not self.config.report_batch_item_failures or not isinstance(result, dict):
            return Outcome(ok=True)
        failures = result.get("batchItemFailures")
        if not failures:
            return Outcome(ok=True)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in batch]
        indexes: list[int] = []
        for f in failures:
            ident = f.get("itemIdentifier") if isinstance(f, dict) else None
            if not ident or ident not in seqs:
                log.warning(
                    "%s reported an invalid batchItemFailure %r: the whole batch failed", self.config.function, f
                )
                return Outcome(ok=False, failed_index=0)
            indexes.append(seqs.index(ident))
        return Outcome(ok=False, failed_index=min(indexes))

    def _send_to_destination(
        self, shard: _Shard, records: list[dict[str, Any]], *, attempts: int, condition: str, function_error: str | None
    ) -> None:
        self.sent_to_destination += len(records)
        log.warning(
            "%s: giving up on %d record(s) of %s (%s)", self.config.function, len(records), shard.shard_id, condition
        )
        if not self.config.on_failure_queue_url:
            return
        created = [r["dynamodb"]["ApproximateCreationDateTime"] for r in records]
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response_context["functionError"] = function_error
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.config.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(min(created)),
                "approximateArrivalOfLastRecord": _iso(max(created)),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.config.on_failure_queue_url, MessageBody=json.dumps(message))

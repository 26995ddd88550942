"""The stack's EventBridge buses in moto, and a tap that shows every event put on them.

Each ``AWS::Events::EventBus`` of the template is created in moto (so ``PutEvents`` from the handlers
really goes through EventBridge's API). The tap adds a catch-all rule per bus whose target is an SQS
queue, like a consumer would; :meth:`EventTap.events` drains that queue into memory, logs each event
and returns everything seen so far. The API server shows it at ``GET /_local/events``
(``?detail-type=Payment%20Captured`` filters). Started, the tap also drains the queue in the background
and hands each new event to its subscribers (the forwarder, the dashboard).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("qpay_local.events")

CATCH_ALL = json.dumps({"source": [{"exists": True}]})


class EventTap:
    def __init__(self, events_client: Any, sqs_client: Any, *, queue_name: str = "qpay-local-event-tap") -> None:
        self._events = events_client
        self._sqs = sqs_client
        self.queue_name = queue_name
        self.queue_url = ""
        self.buses: list[str] = []
        self._seen: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Call ``callback(event)`` for every event that arrives from now on (from the polling thread)."""
        self._subscribers.append(callback)

    def start(self, interval_s: float = 0.2) -> None:
        """Drain the tap queue every ``interval_s`` in the background."""

        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.poll()
                except Exception:
                    if not self._stop.is_set():
                        log.exception("event tap poll failed")

        self._thread = threading.Thread(target=run, name="qpay-local-event-tap", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def create_bus(self, name: str) -> str:
        """Create the bus and tap it; returns its ARN."""
        arn = str(self._events.create_event_bus(Name=name)["EventBusArn"])
        if not self.queue_url:
            self.queue_url = self._sqs.create_queue(QueueName=self.queue_name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        rule = f"{name}-local-tap"
        self._events.put_rule(Name=rule, EventBusName=name, EventPattern=CATCH_ALL, State="ENABLED")
        self._events.put_targets(Rule=rule, EventBusName=name, Targets=[{"Id": "local-tap", "Arn": queue_arn}])
        self.buses.append(name)
        return arn

    def poll(self) -> int:
        """Move what the tap queue holds into memory (and the log). Returns how many arrived."""
        if not self.queue_url:
            return 0
        arrived: list[dict[str, Any]] = []
        with self._lock:
            while True:
                answer = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
                messages = answer.get("Messages", [])
                if not messages:
                    break
                for m in messages:
                    event = json.loads(m["Body"])
                    self._seen.append(event)
                    arrived.append(event)
                    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
                    log.info(
                        "order event %s %s %s",
                        event.get("detail-type"),
                        detail.get("payment_id", ""),
                        json.dumps({k: detail[k] for k in ("status", "event_id") if k in detail}),
                    )
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
            for event in arrived:  # under the lock: subscribers see events in arrival order (they are quick)
                for callback in list(self._subscribers):
                    try:
                        callback(event)
                    except Exception:
                        log.exception("order event subscriber failed")
        return len(arrived)

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Every event put on the stack's buses so far, in arrival order."""
        self.poll()
        with self._lock:
            seen = list(self._seen)
        return [e for e in seen if detail_type is None or e.get("detail-type") == detail_type]

    def clear(self) -> None:
        self.poll()
        with self._lock:
            self._seen.clear()

    def wait_for(self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            seen = self.events()
            if check(seen) or time.monotonic() > deadline:
                return seen
            time.sleep(0.05)

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or (environ.get("PATH_INFO") or "/") not in ("", "/"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"message":"Not Found"}']
        query = parse_qs(environ.get("QUERY_STRING", ""))
        detail_type = (query.get("detail-type") or [None])[0]
        body = json.dumps({"buses": self.buses, "events": self.events(detail_type)}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

"""What happened to each payment, for the local dashboard: a timeline per payment id.

Three sources, each observed where the local stack already sees it:

- the table's stream (a reader of its own, like one more event source mapping): our status changes
  (the payment item's images and versions), refunds (``REFUND#`` items), expiry timers (``TIMER``
  items armed, and removed by TTL or by hand);
- the local gateway: every Checkout.com webhook received (event id and type, Checkout's payment id)
  and the handler's answer, and the merchant's API calls that change a payment (never a request
  body: the create request carries the shopper's national ID);
- the order-events bus (through the event tap).

Entries are ordered by when the request arrived (gateway) or when the stream reader saw the change
(the stream's own timestamps are whole seconds), so a webhook comes before the status change it caused.
Memory is bounded (the newest payments and entries are kept).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

MAX_PAYMENTS = 2000
MAX_ENTRIES = 300

_deserializer = TypeDeserializer()


def plain(image: dict[str, Any] | None) -> dict[str, Any]:
    """A stream image (DynamoDB JSON) as plain values (numbers as int/float)."""
    out: dict[str, Any] = {}
    for key, value in (image or {}).items():
        out[key] = _number(_deserializer.deserialize(value))
    return out


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | list | tuple):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return value


@dataclass
class Entry:
    at: float  # epoch seconds: when the request arrived, or when the stream reader saw the change
    kind: str  # "status" | "webhook" | "api" | "refund" | "event" | "timer"
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    seq: int = 0


def status_of(item: dict[str, Any]) -> str:
    """The public status, derived as the product derives it."""
    from qpay.domain.states import Stage, derive_status  # noqa: PLC0415 - the product's own rule

    try:
        stage = Stage(str(item.get("stage")))
    except ValueError:
        return str(item.get("stage", "?"))
    return derive_status(stage, int(item.get("captured_amount") or 0), int(item.get("refunded_amount") or 0)).value


class Activity:
    def __init__(self, *, ttl_attribute: str = "expires_at_epoch") -> None:
        self.ttl_attribute = ttl_attribute
        self._timelines: OrderedDict[str, deque[Entry]] = OrderedDict()
        self._by_cko: dict[str, str] = {}
        self._lock = threading.Lock()
        self._seq = 0

    # -- recording ------------------------------------------------------------------------

    def add(self, payment_id: str, entry: Entry) -> None:
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            timeline = self._timelines.get(payment_id)
            if timeline is None:
                timeline = self._timelines[payment_id] = deque(maxlen=MAX_ENTRIES)
                while len(self._timelines) > MAX_PAYMENTS:
                    self._timelines.popitem(last=False)
            timeline.append(entry)

    def payment_for_cko(self, cko_id: str) -> str | None:
        with self._lock:
            return self._by_cko.get(cko_id)

    def timeline(self, payment_id: str) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._timelines.get(payment_id, ()))
        return [asdict(e) for e in sorted(entries, key=lambda e: (e.at, e.seq))]

    # -- the table's stream ----------------------------------------------------------------

    def on_stream_batch(self, _function: str, event: dict[str, Any]) -> dict[str, Any]:
        """The stream reader's "handler": records every change; never fails the batch."""
        for record in event.get("Records", []):
            try:
                self._stream_record(record)
            except Exception:  # noqa: S112 - a record we cannot read is left out of the timeline
                continue
        return {"batchItemFailures": []}

    def _stream_record(self, record: dict[str, Any]) -> None:
        ddb = record.get("dynamodb", {})
        keys = plain(ddb.get("Keys"))
        pk, sk = str(keys.get("pk", "")), str(keys.get("sk", ""))
        if not pk.startswith("PAYMENT#"):
            return
        payment_id = pk.removeprefix("PAYMENT#")
        new, old = plain(ddb.get("NewImage")), plain(ddb.get("OldImage"))
        name = record.get("eventName")
        now = time.time()
        if sk == "PAYMENT":
            self._payment_change(payment_id, name, old, new, now)
        elif sk.startswith("REFUND#"):
            self._refund_change(payment_id, sk.removeprefix("REFUND#"), old, new, now)
        elif sk == "TIMER":
            self._timer_change(payment_id, name, old, new, record.get("userIdentity"), now)

    def _payment_change(self, pid: str, name: Any, old: dict[str, Any], new: dict[str, Any], now: float) -> None:
        if new.get("cko_id"):
            with self._lock:
                self._by_cko[str(new["cko_id"])] = pid
        if name == "INSERT":
            self.add(pid, Entry(now, "status", f"created: {status_of(new)}", _money(new)))
            return
        if name != "MODIFY":
            return
        before, after = status_of(old), status_of(new)
        detail = {"version": new.get("version"), "last_event": new.get("last_event"), **_money(new)}
        if before != after:
            self.add(pid, Entry(now, "status", f"{before} → {after}", detail))
        elif new.get("cko_id") and not old.get("cko_id"):
            self.add(pid, Entry(now, "status", f"accepted by Checkout.com ({new['cko_id']})", detail))
        elif new.get("attention") and not old.get("attention"):
            self.add(
                pid,
                Entry(now, "status", "needs attention", {**detail, "reason": new.get("attention_reason")}, ok=False),
            )

    def _refund_change(self, pid: str, refund_id: str, old: dict[str, Any], new: dict[str, Any], now: float) -> None:
        state, before = new.get("state"), old.get("state")
        if not new or state == before:
            return
        title = f"refund {refund_id}: {state}" if not before else f"refund {refund_id}: {before} → {state}"
        detail = {"amount": new.get("amount"), "reference": new.get("reference"), "failure": new.get("failure")}
        self.add(pid, Entry(now, "refund", title, detail, ok=state not in ("Failed", "Declined")))

    def _timer_change(
        self, pid: str, name: Any, old: dict[str, Any], new: dict[str, Any], identity: Any, now: float
    ) -> None:
        if name in ("INSERT", "MODIFY"):
            due = new.get(self.ttl_attribute)
            when = time.strftime("%H:%M:%S", time.localtime(int(due))) if due else "?"
            attempt = int(new.get("attempt") or 0)
            title = f"expiry timer armed for {when}" + (f" (re-armed, attempt {attempt})" if attempt else "")
            self.add(pid, Entry(now, "timer", title, {"due": due, "attempt": attempt}))
        elif name == "REMOVE":
            by_ttl = isinstance(identity, dict) and identity.get("principalId") == "dynamodb.amazonaws.com"
            title = (
                "expiry timer fired (TTL deleted it: the expiry function asks Checkout.com)"
                if by_ttl
                else "expiry timer removed"
            )
            self.add(pid, Entry(now, "timer", title, {"attempt": old.get("attempt")}))

    # -- the gateway ------------------------------------------------------------------------

    def on_gateway_call(self, function: str, route_key: str, event: dict[str, Any], status: int, body: bytes) -> None:
        """A request that reached a function, and its answer."""
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        epoch_ms = (event.get("requestContext") or {}).get("timeEpoch")
        arrived = epoch_ms / 1000 if isinstance(epoch_ms, int | float) else time.time()
        if "webhook" in route_key.lower():
            self._webhook(event, status, answer, arrived)
            return
        method = route_key.split(" ", 1)[0]
        if method == "GET" and "return" not in route_key:
            return  # status reads are not events
        pid = (event.get("pathParameters") or {}).get("id") or answer.get("payment_id") or answer.get("id")
        if route_key.startswith("GET") and "return" in route_key:
            pid = pid or self._pid_from_return(event)
        if not pid or not str(pid).startswith("qpp_"):
            return
        detail = {"status": status, "code": answer.get("code"), "message": answer.get("message")}
        path = event.get("rawPath", route_key)
        self.add(str(pid), Entry(arrived, "api", f"{method} {path} → {status}", detail, ok=status < 400))

    def _pid_from_return(self, event: dict[str, Any]) -> str | None:
        query = event.get("queryStringParameters") or {}
        return query.get("payment_id")

    def _webhook(self, event: dict[str, Any], status: int, answer: dict[str, Any], arrived: float) -> None:
        try:
            doc = json.loads(event.get("body") or "{}")
        except ValueError:
            doc = {}
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict):
            return
        cko = str(data.get("id", ""))
        metadata = data.get("metadata")
        pid = (metadata.get("qpay_payment_id") if isinstance(metadata, dict) else None) or self.payment_for_cko(cko)
        if not pid:
            return
        result = answer.get("result") or answer.get("code") or ""
        title = f"Checkout webhook {doc.get('type')} → {status}" + (f" ({result})" if result else "")
        detail = {
            "event_id": doc.get("id"),
            "type": doc.get("type"),
            "checkout_payment_id": cko,
            "action_id": data.get("action_id"),
            "amount": data.get("amount"),
            "response_code": data.get("response_code"),
            "status": status,
            "result": result,
        }
        self.add(str(pid), Entry(arrived, "webhook", title, detail, ok=status < 400))

    # -- the order-events bus ---------------------------------------------------------------

    def on_delivery(self, delivery: Any) -> None:
        if delivery.payment_id:
            self.add(str(delivery.payment_id), delivery_entry(delivery))

    def on_order_event(self, event: dict[str, Any]) -> None:
        detail = event.get("detail")
        if not isinstance(detail, dict):
            return
        pid = detail.get("payment_id")
        if pid:
            title = f"order event {event.get('detail-type')}"
            shown = ("status", "previous_status", "amount", "refunded_amount", "event_id")
            self.add(
                str(pid),
                Entry(time.time(), "event", title, {"id": event.get("id"), **{k: detail.get(k) for k in shown}}),
            )


def delivery_entry(delivery: Any) -> Entry:
    """One attempt of ``--forward-events-to`` (a :class:`qpay_local.forwarder.Delivery`)."""
    outcome = str(delivery.status) if delivery.status is not None else (delivery.error or "no answer")
    again = "resent, " if delivery.resend else ""
    title = f"forwarded {delivery.detail_type}: {outcome} in {delivery.duration_ms:.0f} ms ({again}attempt {delivery.attempt})"
    detail = {"id": delivery.event_id, "status": delivery.status, "error": delivery.error, "attempt": delivery.attempt}
    return Entry(delivery.at, "delivery", title, detail, ok=bool(delivery.ok))


def _money(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item.get(k) for k in ("amount", "captured_amount", "refunded_amount") if item.get(k) is not None}

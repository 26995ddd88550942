"""The outbox packs a batch's order events into as few PutEvents calls as EventBridge allows (10 entries,
256 KB per call) and maps every refused entry, or failed call, back to the stream record it came from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qpay.adapters.dynamo import to_ddb
from qpay.domain.order_events import OrderEvent
from qpay.handlers import outbox
from qpay.service import outbox as service
from qpay.service.outbox import OutboxPorts, Pending
from tests.support.apigw import FakeContext


def pid(i: int) -> str:
    return f"qpp_{i:026d}"


def captured_record(i: int) -> dict[str, Any]:
    """A MODIFY record of payment ``i``: Capture Pending → Captured (one order event)."""
    base = {"pk": f"PAYMENT#{pid(i)}", "sk": "PAYMENT", "id": pid(i), "reference": f"ORD-{i}", "amount": 12500,
            "currency": "QAR", "refunded_amount": 0, "updated_at": 1795600800}  # fmt: skip
    old = {**base, "stage": "Capture Pending", "captured_amount": 0, "version": 2}
    new = {**base, "stage": "Captured", "captured_amount": 12500, "version": 3}
    return {
        "eventName": "MODIFY",
        "dynamodb": {
            "Keys": to_ddb({"pk": base["pk"], "sk": "PAYMENT"}),
            "OldImage": to_ddb(old),
            "NewImage": to_ddb(new),
            "SequenceNumber": f"{1000 + i}",
        },
    }


class Bus:
    """PutEvents: records each call; refuses the entries of the payments in ``refuse``; raises on the
    calls whose (1-based) number is in ``broken``."""

    def __init__(self, refuse: set[str] = frozenset(), broken: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.refuse, self.broken = refuse, broken
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if len(self.calls) in self.broken:
            raise ConnectionError("throttled past the client's retries")
        results = [
            {"ErrorCode": "ThrottlingException"}
            if json.loads(e["Detail"])["payment_id"] in self.refuse
            else {"EventId": "x"}
            for e in Entries
        ]
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Bus:
    b = Bus()
    monkeypatch.setattr(outbox, "_ports", lambda: OutboxPorts(events=b, bus_name="orders", source="qpay.payments"))
    return b


def test_23_records_go_out_in_3_calls_of_at_most_10(bus: Bus) -> None:
    records = [captured_record(i) for i in range(23)]
    assert outbox.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    assert [len(c) for c in bus.calls] == [10, 10, 3]
    published = [json.loads(e["Detail"])["payment_id"] for c in bus.calls for e in c]
    assert published == [pid(i) for i in range(23)]  # each once, in stream order


def test_a_refused_entry_fails_only_the_record_it_came_from(bus: Bus, capfd: pytest.CaptureFixture[str]) -> None:
    bus.refuse = {pid(4), pid(12)}
    result = outbox.handler({"Records": [captured_record(i) for i in range(15)]}, FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "1004"}, {"itemIdentifier": "1012"}]}
    assert '"OrderEventsNotPublished":[2.0]' in capfd.readouterr().out  # EMF: the PutEvents throttle alarm


def test_a_call_that_fails_outright_fails_each_record_it_carried_and_no_other(bus: Bus) -> None:
    bus.broken = {2}
    result = outbox.handler({"Records": [captured_record(i) for i in range(25)]}, FakeContext())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [str(1000 + i) for i in range(10, 20)]
    assert len(bus.calls) == 3  # the third call was still made


def test_an_unreadable_record_fails_alone_and_the_others_are_published(bus: Bus) -> None:
    records = [captured_record(i) for i in range(3)]
    records[1]["dynamodb"]["NewImage"] = {"stage": {"Q": "not a DynamoDB type"}}
    result = outbox.handler({"Records": records}, FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "1001"}]}
    assert [json.loads(e["Detail"])["payment_id"] for c in bus.calls for e in c] == [pid(0), pid(2)]


def test_records_without_events_make_no_call(bus: Bus) -> None:
    record = captured_record(0)
    record["dynamodb"]["OldImage"] = record["dynamodb"]["NewImage"]  # nothing the merchant acts on
    assert outbox.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
    assert bus.calls == []


def test_a_call_never_exceeds_256_kb() -> None:
    big = OrderEvent(event_id="e", detail_type="Payment Captured", detail={"payment_id": "p", "pad": "x" * 60_000})
    pending = [Pending(str(i), [big]) for i in range(9)]
    b = Bus()
    ports = OutboxPorts(events=b, bus_name="orders", source="qpay.payments")
    assert service.publish_records(pending, ports) == ([], 3)
    sizes = [sum(service.entry_size(e) for e in call) for call in b.calls]
    assert all(size <= service.MAX_CALL_BYTES for size in sizes) and [len(c) for c in b.calls] == [4, 4, 1]

"""Expiry: the TTL removal of a payment's timer makes Checkout.com decide; the sweep is the safety net."""

from __future__ import annotations

import time

import pytest

from qpay import deps
from qpay.handlers import expiry, sweep
from tests.conftest import body_of, create_body, invoke_create, invoke_get
from tests.support.apigw import FakeContext
from tests.support.streams import remove_record, seq


def new_payment(sim, reference="ORD-EXP-1"):
    body = body_of(invoke_create(create_body(reference=reference)))
    [cko] = [p for p in sim.payments.values() if p.reference == reference]
    sim.webhooks.clear()  # the webhooks are "lost": only reconciliation can tell
    return body["id"], cko.id


def expire_timer(aws, pid) -> dict:
    """What DynamoDB's TTL does: delete the timer item; return the stream record Lambda would get."""
    timer = aws.item(f"PAYMENT#{pid}", "TIMER")
    assert timer is not None
    aws.ddb.delete_item(TableName="qpay-test-payments", Key={"pk": {"S": f"PAYMENT#{pid}"}, "sk": {"S": "TIMER"}})
    return remove_record(timer)


def run(*records) -> dict:
    return expiry.handler({"Records": list(records)}, FakeContext())


def stage(aws, pid) -> str:
    return aws.item(f"PAYMENT#{pid}", "PAYMENT")["stage"]


def test_checkout_says_expired_so_it_expires(aws, sim) -> None:
    pid, cko = new_payment(sim)
    sim.expire_payment(cko)
    assert run(expire_timer(aws, pid)) == {"batchItemFailures": []}
    assert stage(aws, pid) == "Expired"
    assert "pending_pk" not in aws.item(f"PAYMENT#{pid}", "PAYMENT")


def test_missed_capture_ends_captured(aws, sim) -> None:
    pid, cko = new_payment(sim)
    sim.pay(cko, card="4166390419570368", expiry="06/22", pin="0000")
    sim.webhooks.clear()  # payment_captured never reached us
    run(expire_timer(aws, pid))
    assert stage(aws, pid) == "Captured"
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["refundable_amount"] == 12500


def test_still_pending_rearms_then_flags_at_max_age(aws, sim, monkeypatch, capsys) -> None:
    pid, _ = new_payment(sim)
    before = int(time.time())
    run(expire_timer(aws, pid))
    timer = aws.item(f"PAYMENT#{pid}", "TIMER")
    payment = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    assert payment["stage"] == "Pending"
    assert timer["attempt"] == 1
    assert timer["expires_at_epoch"] >= before + 300  # backoff base
    assert payment["deadline"] == timer["expires_at_epoch"]
    assert payment["attention"] is False
    # past the maximum age: flagged for a human, never silently expired, still watched
    monkeypatch.setenv("EXPIRY_MAX_AGE_S", "1")
    deps.reset()
    time.sleep(1.1)
    run(expire_timer(aws, pid))
    payment = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    assert payment["stage"] == "Pending"
    assert payment["attention"] is True
    assert aws.item(f"PAYMENT#{pid}", "TIMER")["attempt"] == 2
    out = capsys.readouterr().out
    assert '"PaymentsNeedingAttention":[1' in out.replace(" ", "") or '"PaymentsNeedingAttention":1' in out.replace(
        " ", ""
    )


def test_already_final_is_untouched_and_checkout_not_asked(aws, sim) -> None:
    pid, cko = new_payment(sim)
    from qpay.domain.states import TRANSITIONS

    deps.store().apply_transition(
        pid,
        event_id="evt_x",
        event_type="payment_canceled",
        rule=TRANSITIONS["payment_canceled"],
        cko_id=cko,
        amount=None,
        now=int(time.time()),
    )
    version = aws.item(f"PAYMENT#{pid}", "PAYMENT")["version"]
    calls = len(sim.requests)
    run(expire_timer(aws, pid))
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["version"] == version
    assert len(sim.requests) == calls


def test_user_delete_is_ignored(aws, sim) -> None:
    pid, _ = new_payment(sim)
    timer = aws.item(f"PAYMENT#{pid}", "TIMER")
    calls = len(sim.requests)
    assert run(remove_record(timer, ttl=False)) == {"batchItemFailures": []}
    assert len(sim.requests) == calls
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT")["expiry_attempts"] == 0


def test_checkout_down_fails_only_that_record_and_redelivery_is_idempotent(aws, sim) -> None:
    payments = [new_payment(sim, f"ORD-EXP-{i}") for i in range(3)]
    for _, cko in payments:
        sim.expire_payment(cko)
    sim.webhooks.clear()
    records = [expire_timer(aws, pid) for pid, _ in payments]
    sim.faults.fail_next(10, status=503, path_prefix=f"/payments/{payments[1][1]}")
    result = run(*records)
    assert result == {"batchItemFailures": [{"itemIdentifier": seq(records[1])}]}
    assert [stage(aws, pid) for pid, _ in payments] == ["Expired", "Pending", "Expired"]
    versions = [aws.item(f"PAYMENT#{pid}", "PAYMENT")["version"] for pid, _ in payments]
    # Lambda resends the failed record and every later one of the shard; the earlier one is not resent
    sim.faults.reset()
    assert run(records[1], records[2]) == {"batchItemFailures": []}
    assert [stage(aws, pid) for pid, _ in payments] == ["Expired", "Expired", "Expired"]
    assert aws.item(f"PAYMENT#{payments[2][0]}", "PAYMENT")["version"] == versions[2]


def test_duplicate_delivery_changes_nothing_twice(aws, sim) -> None:
    pid, _ = new_payment(sim)
    record = expire_timer(aws, pid)
    run(record)
    after_first = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    timer_first = aws.item(f"PAYMENT#{pid}", "TIMER")
    run(record)
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT") == after_first
    assert aws.item(f"PAYMENT#{pid}", "TIMER") == timer_first


def test_past_deadline_reads_as_awaiting_confirmation(aws, sim, monkeypatch) -> None:
    monkeypatch.setenv("EXPIRY_WINDOW_S", "1")
    deps.reset()
    pid, _ = new_payment(sim)
    time.sleep(1.1)
    view = body_of(invoke_get(pid))
    assert view["status"] == "Pending"
    assert view["awaiting_confirmation"] is True


def test_sweep_reconciles_payments_the_stream_never_reported(aws, sim, monkeypatch) -> None:
    monkeypatch.setenv("EXPIRY_WINDOW_S", "1")
    deps.reset()
    expired_pid, expired_cko = new_payment(sim, "ORD-SW-1")
    captured_pid, captured_cko = new_payment(sim, "ORD-SW-2")
    pending_pid, _ = new_payment(sim, "ORD-SW-3")
    sim.expire_payment(expired_cko)
    sim.pay(captured_cko, card="4215375500883243", expiry="12/30", pin="123456")
    sim.webhooks.clear()
    time.sleep(1.1)
    counts = sweep.sweep(now=int(time.time()), grace_s=0)
    assert counts == {"settled": 2, "rearmed": 1}
    assert stage(aws, expired_pid) == "Expired"
    assert stage(aws, captured_pid) == "Captured"
    assert stage(aws, pending_pid) == "Pending"
    # the re-armed one is not due again right away
    assert sweep.sweep(now=int(time.time()), grace_s=0) == {}


@pytest.mark.parametrize("attempts", [0])
def test_sweep_reads_the_index_not_the_table(aws, sim, attempts) -> None:
    from qpay.adapters.store.keys import PENDING_INDEX, SHARDS

    calls: list[tuple[str, str | None]] = []
    client = deps.dynamodb()
    client.meta.events.register(
        "before-parameter-build.dynamodb.*",
        lambda model, params, **_: calls.append((model.name, params.get("IndexName"))),
    )
    sweep.sweep(now=int(time.time()), grace_s=0)
    assert calls == [("Query", PENDING_INDEX)] * SHARDS  # every shard of the index, never a scan

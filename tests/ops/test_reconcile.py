"""Daily reconciliation against the Checkout.com simulator: each kind of drift is found and repaired
through the same store methods as the live paths, the report says what was found, a second run finds
nothing, and payments are found through the changed-by-day index (never a scan)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.store import CHANGED_INDEX, change_day
from qpay.adapters.store.keys import SHARDS, changed_key
from qpay.domain.records import Refund
from qpay.domain.states import Stage
from qpay.handlers import reconcile as reconcile_handler
from qpay.ops import reconcile as reconcile_cli
from qpay.service import reconcile, refunds
from tests.conftest import body_of, invoke_get
from tests.ops.conftest import CARD, captured, deliver, new_payment, settle_refunds
from tests.support.apigw import FakeContext

HOUR = 3600


def run(now: int | None = None, **kwargs: Any) -> reconcile.Report:
    return reconcile.run(now=now or int(time.time()), ports=reconcile_handler.ports(), **kwargs)


def kinds(report: reconcile.Report) -> list[tuple[str, bool]]:
    return sorted((f.kind, f.fixed) for f in report.findings)


def test_lost_capture_webhook_is_repaired(aws, sim) -> None:
    pid, cko = new_payment(sim, "ORD-R1")
    sim.pay(cko, **CARD)  # Captured at Checkout; both webhooks lost
    report = run()
    assert kinds(report) == [("status", True)]
    view = body_of(invoke_get(pid))
    assert view["status"] == "Captured"
    assert deps.store().get_payment(pid).captured_amount == 12500
    assert run().findings == []  # nothing left


@pytest.mark.parametrize(("act", "status"), [("cancel", "Canceled"), ("expire_payment", "Expired")])
def test_lost_ending_webhook_is_repaired(aws, sim, act, status) -> None:
    pid, cko = new_payment(sim, f"ORD-R-{act}")
    getattr(sim, act)(cko)
    assert kinds(run()) == [("status", True)]
    assert body_of(invoke_get(pid))["status"] == status


def test_late_capture_after_we_expired_it_wins(aws, sim) -> None:
    pid, cko = new_payment(sim, "ORD-R2")
    sim.pay(cko, **CARD)
    deliver("payment_expired", pid, cko)  # we recorded Expired; Checkout captured it after all
    assert deps.store().get_payment(pid).stage is Stage.EXPIRED
    report = run()
    assert [(f.kind, f.fixed, f.detail) for f in report.findings] == [
        ("status", True, "Expired -> Captured (Checkout.com: Captured)")
    ]
    assert body_of(invoke_get(pid))["status"] == "Captured"


def test_dashboard_refund_whose_webhook_was_lost_is_counted_once(aws, sim) -> None:
    pid, cko = captured(sim, "ORD-R3")
    action = sim.dashboard_refund(cko, 3000)
    settle_refunds(sim)
    report = run()
    assert kinds(report) == [("refund", True)]
    assert action in report.findings[0].detail
    payment = deps.store().get_payment(pid)
    assert (payment.refunded_amount, payment.refundable_amount) == (3000, 9500)
    assert body_of(invoke_get(pid))["status"] == "Partially Refunded"
    assert run().findings == []  # the action is counted once, however often we look
    # and the late webhook, if it ever comes, is a duplicate
    late = deliver("payment_refunded", pid, cko, 3000, action_id=action, reference="DASHBOARD-X")
    assert body_of(late)["result"] == "duplicate"
    assert deps.store().get_payment(pid).refunded_amount == 3000


def test_our_refund_whose_webhook_was_lost_is_settled_after_the_grace(aws, sim) -> None:
    pid, cko = captured(sim, "ORD-R4")
    now = int(time.time())
    store = deps.store()
    refund = Refund(id="qrf_" + "q" * 26, payment_id=pid, amount=2500, created_at=now, updated_at=now)
    store.reserve_refund(refund, now=now)
    ports = refunds.RefundPorts(store=store, settings=reconcile_handler.ports().settings, checkout=deps.checkout())
    assert refunds.task_request(pid, refund.id, now=now, ports=ports)["state"] == "Pending"
    settle_refunds(sim)  # Checkout refunded it; the webhook was lost
    assert run(now).findings == []  # young: left to its own workflow
    later = now + 7 * HOUR
    report = run(later)
    assert kinds(report) == [("refund", True)]
    got = store.get_refund(pid, refund.id)
    assert got.state.value == "Refunded"
    payment = store.get_payment(pid)
    assert (payment.refunded_amount, payment.refundable_amount) == (2500, 10000)
    assert run(later).findings == []


def test_declined_refund_releases_the_reservation(aws, sim) -> None:
    pid, cko = captured(sim, "ORD-R5")
    now = int(time.time())
    store = deps.store()
    refund = Refund(id="qrf_" + "d" * 26, payment_id=pid, amount=2500, created_at=now, updated_at=now)
    store.reserve_refund(refund, now=now)
    ports = refunds.RefundPorts(store=store, settings=reconcile_handler.ports().settings, checkout=deps.checkout())
    sim.faults.decline_refunds = True
    refunds.task_request(pid, refund.id, now=now, ports=ports)
    settle_refunds(sim)
    report = run(now + 7 * HOUR)
    assert kinds(report) == [("refund", True)]
    assert store.get_refund(pid, refund.id).state.value == "Declined"
    assert store.get_payment(pid).refundable_amount == 12500


def test_dry_run_reports_and_changes_nothing(aws, sim) -> None:
    pid, cko = new_payment(sim, "ORD-R6")
    sim.pay(cko, **CARD)
    before = aws.item(f"PAYMENT#{pid}", "PAYMENT")
    report = run(fix=False)
    assert kinds(report) == [("status", False)]
    assert aws.item(f"PAYMENT#{pid}", "PAYMENT") == before


def test_unknown_at_checkout_and_attention_are_reported_not_fixed(aws, sim) -> None:
    pid, cko = new_payment(sim, "ORD-R7")
    now = int(time.time())
    assert deps.store().flag_attention(pid, now=now, reason="still pending")
    sim.reset()  # Checkout.com no longer knows it
    report = run()
    assert kinds(report) == [("attention", False), ("unknown_at_checkout", False)]
    assert report.unfixed == 2


def test_window_comes_from_the_index_never_a_scan(aws, sim) -> None:
    old_pid, old_cko = new_payment(sim, "ORD-OLD")
    sim.pay(old_cko, **CARD)
    # age the old payment's last change by 10 days: outside a 3-day window
    ten_days_ago = int(time.time()) - 10 * 86400
    aws.ddb.update_item(
        TableName="qpay-test-payments",
        Key={"pk": {"S": f"PAYMENT#{old_pid}"}, "sk": {"S": "PAYMENT"}},
        UpdateExpression="SET updated_at = :t, changed_day = :d",
        ExpressionAttributeValues={":t": {"N": str(ten_days_ago)}, ":d": {"S": changed_key(old_pid, ten_days_ago)}},
    )
    fresh = [new_payment(sim, f"ORD-W{i}") for i in range(5)]
    calls: Counter[str] = Counter()
    deps.dynamodb().meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: calls.update([f"{model.name}:{params.get('IndexName', '')}"]),
    )
    ids, cut = reconcile.changed_since(
        deps.store(), since=int(time.time()) - 3 * 86400, now=int(time.time()), max_items=100
    )
    assert sorted(ids) == sorted(p for p, _ in fresh)
    assert not cut
    assert calls[f"Query:{CHANGED_INDEX}"] == 4 * SHARDS  # each shard of each day of the window (3 days + today)
    assert not any(k.startswith("Scan") for k in calls)
    ids, cut = reconcile.changed_since(
        deps.store(), since=int(time.time()) - 3 * 86400, now=int(time.time()), max_items=2
    )
    assert len(ids) == 2 and cut
    report = run(days=3, max_items=2)
    assert report.truncated and report.checked == 2
    assert all(f.payment_id != old_pid for f in run(days=3).findings)
    assert [f.payment_id for f in run(days=11).findings] == [old_pid]


def test_pagination_crosses_pages(aws, monkeypatch) -> None:
    from qpay.adapters.store import indexes
    from qpay.domain import ids as id_scheme

    monkeypatch.setattr(indexes, "INDEX_PAGE", 3)
    now = int(time.time())
    made = []
    while len(made) < 8:  # eight payments that land in one shard of today's partition
        pid = id_scheme.new_payment_id()
        if changed_key(pid, now) == changed_key("qpp_" + "a" * 26, now):
            made.append(pid)
    for pid in made:
        aws.ddb.put_item(
            TableName="qpay-test-payments",
            Item={"pk": {"S": f"PAYMENT#{pid}"}, "sk": {"S": "PAYMENT"}, "changed_day": {"S": changed_key(pid, now)}},
        )
    got, cut = reconcile.changed_since(deps.store(), since=now - 60, now=now, max_items=100)
    assert sorted(got) == sorted(made) and not cut


def test_scheduled_handler_writes_the_report_item_and_log(aws, sim, capfd) -> None:
    pid, cko = new_payment(sim, "ORD-R8")
    sim.pay(cko, **CARD)
    result = reconcile_handler.handler({}, FakeContext(900))
    assert (result["checked"], result["fixed"], result["unfixed"]) == (1, 1, 0)
    out = capfd.readouterr().out
    assert "reconciliation report" in [json.loads(line).get("message") for line in out.splitlines()]
    assert '"ReconcileDriftFixed":[1.0]' in out  # EMF for the alarm
    item = aws.item(f"REPORT#{change_day(int(time.time()))}", "REPORT")
    assert item is not None and item["fixed"] == 1
    assert item["findings"][0]["payment_id"] == pid
    assert item["expires_at_epoch"] > time.time()


def test_cli_reconciles_one_payment_and_a_window(aws, sim, capsys) -> None:
    from qpay.observability import logger

    pid, cko = new_payment(sim, "ORD-R9")
    sim.pay(cko, **CARD)
    capsys.readouterr()
    assert reconcile_cli.main(["--payment-id", pid, "--dry-run"]) == 1  # drift found, nothing changed
    assert json.loads(capsys.readouterr().out)["unfixed"] == 1
    assert deps.store().get_payment(pid).stage is Stage.PENDING
    assert reconcile_cli.main(["--payment-id", pid]) == 0
    assert json.loads(capsys.readouterr().out)["fixed"] == 1
    assert deps.store().get_payment(pid).stage is Stage.CAPTURED
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    assert reconcile_cli.main(["--since", since, "--write-report"]) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == 1
    logger.use_stderr(False)


def _age(aws: Any, pid: str, when: int) -> None:
    aws.ddb.update_item(
        TableName="qpay-test-payments",
        Key={"pk": {"S": f"PAYMENT#{pid}"}, "sk": {"S": "PAYMENT"}},
        UpdateExpression="SET updated_at = :t, changed_day = :d",
        ExpressionAttributeValues={":t": {"N": str(when)}, ":d": {"S": changed_key(pid, when)}},
    )


def _report_of_yesterday(now: int, **doc: Any) -> None:
    deps.store().put_report(change_day(now - 86400), doc, now=now - 86400, retain_until=now + 86400)


@pytest.mark.parametrize(
    ("yesterday", "checked_old"),
    [
        ({"truncated": True}, True),  # cut short: today's run starts where that one started
        ({"partial": True, "truncated": False}, True),  # killed: only its checkpoint exists
        ({"truncated": False}, False),  # complete: today's window is the default one
        (None, False),  # no report (the first run): the default window
    ],
)
def test_a_cut_run_is_caught_up_by_the_next(aws, sim, yesterday, checked_old) -> None:
    now = int(time.time())
    old_pid, old_cko = new_payment(sim, "ORD-CATCH")
    sim.pay(old_cko, **CARD)  # Captured at Checkout, webhooks lost
    _age(aws, old_pid, now - 3 * 86400)  # outside the 1-day window
    if yesterday is not None:
        _report_of_yesterday(now, since=now - 4 * 86400, **yesterday)
    report = run(now)
    assert ([f.payment_id for f in report.findings] == [old_pid]) is checked_old
    assert report.since == (now - 4 * 86400 if checked_old else now - 86400)


def test_catch_up_reaches_back_at_most_35_days(aws) -> None:
    now = int(time.time())
    _report_of_yesterday(now, since=now - 90 * 86400, truncated=True)
    assert reconcile.catch_up_since(deps.store(), start=now - 86400, now=now) == now - 35 * 86400
    _report_of_yesterday(now, since="not a time", truncated=True)
    assert reconcile.catch_up_since(deps.store(), start=now - 86400, now=now) == now - 86400


def test_an_explicit_window_is_not_widened(aws, sim) -> None:
    now = int(time.time())
    _report_of_yesterday(now, since=now - 9 * 86400, truncated=True)
    assert run(now, days=2).since == now - 2 * 86400
    assert run(now, since=now - 100).since == now - 100


def test_payments_are_checked_concurrently_and_each_once(aws, sim, monkeypatch) -> None:
    """Four checks must be in Checkout.com at the same moment to pass the barrier; one at a time, each
    would wait for the others in vain (BrokenBarrierError → an error finding)."""
    import threading

    made = [new_payment(sim, f"ORD-PAR{i}") for i in range(8)]
    for _, cko in made:
        sim.pay(cko, **CARD)
    ports = reconcile_handler.ports()
    barrier = threading.Barrier(4, timeout=10)
    seen: Counter[str] = Counter()
    real_get = ports.checkout.get_payment

    def get_payment(cko_id: str) -> dict[str, Any]:
        seen[cko_id] += 1
        barrier.wait()
        return real_get(cko_id)

    monkeypatch.setattr(ports.checkout, "get_payment", get_payment)
    report = reconcile.run(now=int(time.time()), ports=ports, concurrency=4)
    assert report.checked == 8 and report.errors == 0
    assert sorted(f.payment_id for f in report.findings) == sorted(p for p, _ in made)
    assert all(f.kind == "status" and f.fixed for f in report.findings)
    assert seen == Counter({cko: 1 for _, cko in made})


def test_out_of_time_stops_starting_checks_and_says_so(aws, sim) -> None:
    made = [new_payment(sim, f"ORD-T{i}") for i in range(5)]
    budget = iter([100.0, 100.0, 1.0])  # time for two payments, then not enough for a third
    report = run(time_left_s=lambda: next(budget, 0.0), concurrency=1)
    assert report.truncated and report.checked == 2
    assert len(made) == 5


def test_a_run_that_dies_before_its_first_checkpoint_is_caught_up_by_the_next(aws, sim, monkeypatch) -> None:
    """F5: the run leaves a partial report before it reads the index or checks anything, so a run killed
    before its first checkpoint (here: the index read fails) is still seen as cut by the next morning's run."""
    now = int(time.time())
    old_pid, old_cko = new_payment(sim, "ORD-DIED")
    sim.pay(old_cko, **CARD)  # Captured at Checkout, webhooks lost
    _age(aws, old_pid, now - 86400 - 2 * HOUR)  # in yesterday's window, outside today's
    yesterday = now - 86400

    def dies(*_: Any, **__: Any) -> Any:
        raise RuntimeError("index read failed")

    with monkeypatch.context() as m:
        m.setattr(reconcile, "changed_since", dies)
        with pytest.raises(RuntimeError):
            reconcile.run(
                now=yesterday, ports=reconcile_handler.ports(), checkpoint=reconcile_handler.checkpoint(yesterday)
            )
    left = deps.store().get_report(change_day(yesterday))
    assert left is not None and left["partial"] is True and left["checked"] == 0
    assert left["since"] == yesterday - 86400
    report = run(now)
    assert report.since == yesterday - 86400
    assert [f.payment_id for f in report.findings] == [old_pid]


def test_a_day_without_any_report_is_caught_up_from_the_last_report(aws, sim) -> None:
    """F5: no report for yesterday at all (the schedule did not fire, or the function died before writing
    anything): the run starts from the last day that has a report, not from the default window."""
    now = int(time.time())
    old_pid, old_cko = new_payment(sim, "ORD-GAP")
    sim.pay(old_cko, **CARD)
    _age(aws, old_pid, now - 2 * 86400)  # changed the day before yesterday, after that day's run
    deps.store().put_report(
        change_day(now - 3 * 86400), {"since": now - 4 * 86400, "truncated": False}, now=now, retain_until=now + 86400
    )
    report = run(now)
    assert report.since == now - 3 * 86400 - (now - 3 * 86400) % 86400  # from the start of that report's day
    assert [f.payment_id for f in report.findings] == [old_pid]


def test_at_scale_only_what_needs_it_is_asked_and_drift_is_still_found(aws, sim) -> None:
    """sample_every: quiet captured payments outside today's share are not asked; a payment whose capture
    webhook was lost (still open here) always is, and is repaired."""
    from qpay.service.reconcile_select import sampled

    quiet = [captured(sim, f"ORD-Q{i}")[0] for i in range(6)]
    lost, lost_cko = new_payment(sim, "ORD-LOST")
    sim.pay(lost_cko, **CARD)  # Captured at Checkout; its webhooks lost
    now = int(time.time())
    before = len(sim.requests)
    report = run(now, sample_every=10**6)
    asked_quiet = [p for p in quiet if sampled(p, day=change_day(now), sample_every=10**6)]
    assert report.checked == 7
    assert report.asked == {"open": 1, "skipped": 6 - len(asked_quiet), **({"sample": 1} if asked_quiet else {})}
    assert [(f.payment_id, f.kind, f.fixed) for f in report.findings] == [(lost, "status", True)]
    gets = [r for r in sim.requests[before:] if r.method == "GET"]
    assert len(gets) == 1 + len(asked_quiet)


def test_checkout_reads_go_through_the_runs_pace(aws, sim) -> None:
    made = [captured(sim, f"ORD-P{i}")[0] for i in range(3)]
    taken: list[int] = []

    class Pace:
        def acquire(self) -> None:
            taken.append(1)

    ports = reconcile_handler.ports()
    ports = reconcile.ReconcilePorts(ports.store, ports.checkout, ports.settings, ports.stepfunctions, Pace())  # type: ignore[arg-type]
    before = len(sim.requests)
    report = reconcile.run(now=int(time.time()), ports=ports)
    assert report.checked == len(made)
    assert len(taken) == len([r for r in sim.requests[before:] if r.method == "GET"]) == 3


def test_a_fanned_out_run_covers_its_shards_and_keeps_its_own_report(aws, sim) -> None:
    from qpay.adapters.store.keys import shard

    made = [new_payment(sim, f"ORD-S{i}")[0] for i in range(6)]
    mine = shard(made[0])
    now = int(time.time())
    report = run(now, shards=[mine])
    assert report.scope == f"shards-{mine}"
    assert report.checked == sum(1 for p in made if shard(p) == mine)
    result = reconcile_handler.handler({"shards": [mine]}, FakeContext(900))
    assert result["scope"] == f"shards-{mine}"
    assert aws.item(f"REPORT#{change_day(now)}#shards-{mine}", "REPORT") is not None
    assert aws.item(f"REPORT#{change_day(now)}", "REPORT") is None  # the whole-day report is not overwritten
    with pytest.raises(ValueError, match="shards"):
        reconcile_handler.handler({"shards": [32]}, FakeContext(900))


def test_a_shard_too_big_for_one_invocation_is_read_in_parts(aws, sim) -> None:
    from qpay.service.reconcile import pk_range

    made = [new_payment(sim, f"ORD-PT{i}")[0] for i in range(8)]
    now = int(time.time())
    checked = []
    for k in range(4):
        report = run(now, part=(k, 4))
        lo, hi = pk_range((k, 4))
        assert report.scope == f"part-{k}-of-4"
        assert report.checked == sum(1 for p in made if lo <= f"PAYMENT#{p}" <= hi)
        checked.append(report.checked)
    assert sum(checked) == len(made)  # every payment in exactly one part
    result = reconcile_handler.handler({"shards": [0, 1], "part": [1, 2]}, FakeContext(900))
    assert result["scope"] == "shards-0-1/part-1-of-2"
    with pytest.raises(ValueError, match="part"):
        reconcile_handler.handler({"part": [1, 3]}, FakeContext(900))

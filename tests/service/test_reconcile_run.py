"""service/reconcile.run, the orchestration: how many checks are in flight, what a failing check becomes,
when the report is checkpointed, when the run stops starting checks, and that each check runs with the
invocation's log fields. The per-payment check is replaced by a scripted one (it has its own tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutUnavailable
from qpay.domain.states import Stage
from qpay.observability import logger
from qpay.service import reconcile
from qpay.service.reconcile import PER_PAYMENT_BUDGET_S, Finding, ReconcilePorts, Report
from tests.service.helpers import NOW, pending_payment, settings


def ports(**s: Any) -> ReconcilePorts:
    return ReconcilePorts(store=deps.store(), checkout=None, settings=settings(**s))  # type: ignore[arg-type]


def with_check(monkeypatch: pytest.MonkeyPatch, check: Callable[[str], list[Finding]]) -> None:
    monkeypatch.setattr(reconcile, "reconcile_payment", lambda pid, **_: check(pid))


class InFlight:
    def __init__(self, hold_s: float = 0.03) -> None:
        self.lock, self.now, self.most, self.hold_s = threading.Lock(), 0, 0, hold_s

    def __call__(self, payment_id: str) -> list[Finding]:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.hold_s)
        with self.lock:
            self.now -= 1
        return []


def ids(n: int) -> list[str]:
    return [f"qpp_{i:026d}" for i in range(n)]


@pytest.mark.parametrize(("concurrency", "configured", "most"), [(3, 8, 3), (1, 8, 1), (None, 2, 2), (0, 1, 1)])
def test_checks_in_flight_are_bounded(
    aws: Any, monkeypatch: pytest.MonkeyPatch, concurrency: int | None, configured: int, most: int
) -> None:
    in_flight = InFlight()
    with_check(monkeypatch, in_flight)
    report = reconcile.run(
        now=NOW, ports=ports(reconcile_concurrency=configured), payment_ids=ids(9), concurrency=concurrency
    )
    assert report.checked == 9 and report.findings == []
    assert in_flight.most == most  # the bound is reached, never passed


def test_a_slow_check_does_not_hold_back_the_others(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    others_done = threading.Event()
    finished: list[str] = []
    order = ids(5)

    def check(payment_id: str) -> list[Finding]:
        if payment_id == order[0]:
            # released once the four others are through: only if the run kept starting checks meanwhile
            return [] if others_done.wait(timeout=5) else [Finding(payment_id, "blocked", False, "")]
        finished.append(payment_id)
        if len(finished) == 4:
            others_done.set()
        return []

    with_check(monkeypatch, check)
    report = reconcile.run(now=NOW, ports=ports(), payment_ids=order, concurrency=2)
    assert report.findings == [] and report.checked == 5
    assert finished == order[1:]


def test_a_failing_check_is_an_error_finding_and_the_run_goes_on(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = ids(3)

    def check(payment_id: str) -> list[Finding]:
        if payment_id == a:
            raise CheckoutUnavailable(last_status=503, attempts=3)
        if payment_id == b:
            raise KeyError("balances")
        return [Finding(payment_id, "status", True, "Pending -> Captured")]

    with_check(monkeypatch, check)
    report = reconcile.run(now=NOW, ports=ports(), payment_ids=[a, b, c], concurrency=1)
    assert report.findings == [
        Finding(a, "error", False, "Checkout.com: Checkout.com unavailable after 3 attempts (503)"),
        Finding(b, "error", False, "KeyError"),
        Finding(c, "status", True, "Pending -> Captured"),
    ]
    assert (report.checked, report.errors, report.fixed, report.unfixed) == (3, 2, 1, 2)


def test_the_report_is_checkpointed_every_100_checks(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with_check(monkeypatch, lambda pid: [])
    seen: list[int] = []
    report = reconcile.run(
        now=NOW, ports=ports(), payment_ids=ids(250), concurrency=4, checkpoint=lambda r: seen.append(r.checked)
    )
    assert seen == [0, 100, 200] and report.checked == 250  # 0: before the first check (F5)


def test_exactly_the_budget_left_is_enough_to_start_a_check(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with_check(monkeypatch, lambda pid: [])
    report = reconcile.run(
        now=NOW, ports=ports(), payment_ids=ids(3), concurrency=1, time_left_s=lambda: PER_PAYMENT_BUDGET_S
    )
    assert (report.checked, report.truncated) == (3, False)
    short = reconcile.run(
        now=NOW, ports=ports(), payment_ids=ids(3), concurrency=1, time_left_s=lambda: PER_PAYMENT_BUDGET_S - 0.001
    )
    assert (short.checked, short.truncated) == (0, True)


def test_each_check_logs_with_the_invocations_fields(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    with_check(monkeypatch, lambda pid: seen.append(dict(logger.fields())) or [])
    logger.append_keys(function_request_id="req-reconcile-1")
    try:
        reconcile.run(now=NOW, ports=ports(), payment_ids=ids(3), concurrency=2)
    finally:
        logger.append_keys(function_request_id=None)
    assert [f.get("function_request_id") for f in seen] == ["req-reconcile-1"] * 3


def test_the_report_names_the_day_and_the_window(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with_check(monkeypatch, lambda pid: [])
    report = reconcile.run(now=NOW, ports=ports(), payment_ids=[], since=NOW - 3600)
    assert isinstance(report, Report) and (report.day, report.since, report.checked) == ("2027-01-15", NOW - 3600, 0)


class Checkout:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def get_payment(self, cko_id: str) -> dict[str, Any]:
        return {**self.doc, "id": cko_id}

    def get_actions(self, cko_id: str) -> list[dict[str, Any]]:
        return []


def _payment_ports(doc: dict[str, Any]) -> ReconcilePorts:
    return ReconcilePorts(store=deps.store(), checkout=Checkout(doc), settings=settings())  # type: ignore[arg-type]


def test_a_status_checkout_cannot_move_us_to_is_a_conflict_not_a_change(aws: Any) -> None:
    payment = pending_payment()
    captured = {"status": "Captured", "amount": payment.amount}
    assert reconcile.reconcile_payment(payment.id, now=NOW + 60, ports=_payment_ports(captured))[0].fixed
    findings = reconcile.reconcile_payment(payment.id, now=NOW + 120, ports=_payment_ports({"status": "Declined"}))
    detail = "ours Captured, Checkout.com Declined: not moved (a stage is never left backwards)"
    assert findings == [Finding(payment.id, "status_conflict", False, detail)]
    assert deps.store().get_payment(payment.id).stage is Stage.CAPTURED


def test_a_status_repair_is_applied_by_default_and_recorded_as_the_reconciliations(aws: Any) -> None:
    payment = pending_payment()
    findings = reconcile.reconcile_payment(payment.id, now=NOW + 60, ports=_payment_ports({"status": "Declined"}))
    assert findings == [Finding(payment.id, "status", True, "Pending -> Declined (Checkout.com: Declined)")]
    item = aws.item(f"PAYMENT#{payment.id}", "PAYMENT")
    assert item["stage"] == "Declined" and "reconcile:payment_capture_declined" in item["applied_events"]


def test_a_flagged_payment_is_reported_beside_its_repair(aws: Any) -> None:
    payment = pending_payment()
    assert deps.store().flag_attention(payment.id, now=NOW, reason="still pending")
    findings = reconcile.reconcile_payment(payment.id, now=NOW + 60, ports=_payment_ports({"status": "Expired"}))
    assert findings == [
        Finding(payment.id, "attention", False, "flagged: still pending at Checkout.com"),
        Finding(payment.id, "status", True, "Pending -> Expired (Checkout.com: Expired)"),
    ]


def test_days_between_includes_both_ends() -> None:
    midnight = NOW - NOW % reconcile.DAY
    assert reconcile.days_between(midnight, midnight) == ["2027-01-15"]
    assert reconcile.days_between(midnight - 1, midnight) == ["2027-01-14", "2027-01-15"]
    assert reconcile.days_between(midnight + 5, midnight + 2 * reconcile.DAY) == [
        "2027-01-15",
        "2027-01-16",
        "2027-01-17",
    ]


class Index:
    """The changed-by-day index as changed_since reads it, recording the limit of each read."""

    def __init__(self, by_day: dict[str, list[str]]) -> None:
        self.by_day, self.limits = by_day, []  # type: list[tuple[str, int]]

    def changed_payments(self, *, day: str, limit: int) -> list[str]:
        self.limits.append((day, limit))
        return self.by_day.get(day, [])[:limit]


def test_changed_since_reads_no_more_than_it_can_keep() -> None:
    midnight = NOW - NOW % reconcile.DAY
    index = Index({"2027-01-15": ["qpp_a", "qpp_b"], "2027-01-14": ["qpp_c", "qpp_d", "qpp_e", "qpp_f"]})
    found, cut = reconcile.changed_since(index, since=midnight - 1, now=midnight + 60, max_items=4)  # type: ignore[arg-type]
    assert (found, cut) == (["qpp_a", "qpp_b", "qpp_c", "qpp_d"], True)
    assert index.limits == [("2027-01-15", 5), ("2027-01-14", 3)]  # one more than room is left: to know it is cut
    index.limits.clear()
    found, cut = reconcile.changed_since(index, since=midnight - 1, now=midnight + 60, max_items=10)  # type: ignore[arg-type]
    assert (found, cut) == (["qpp_a", "qpp_b", "qpp_c", "qpp_d", "qpp_e", "qpp_f"], False)
    assert index.limits == [("2027-01-15", 11), ("2027-01-14", 9)]

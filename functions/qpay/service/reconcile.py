"""Daily reconciliation: payments changed in the last N days against what Checkout.com says.

Which payments: the sparse ``changed-by-day`` index (``changed_day`` = UTC date of the payment's last
change, ``updated_at`` sort key), maintained by the store writes that already happen; one bounded,
paginated query per day of the window, never a table scan. Refund changes touch their payment's
``updated_at`` too (reserve, outcome, close), so refunds are covered through their payment.

What is repaired goes through the same store methods as the live paths:

- Checkout's ``GET /payments/{id}`` status implies a stage we have not recorded (a lost
  ``payment_captured``/``declined``/``canceled``/``expired`` webhook, a late capture after we expired
  it) → :func:`qpay.service.transitions.apply_checkout_status`;
- Checkout's refunded balance differs from ours, or one of our refunds is still open long after it
  was requested → ``GET /payments/{id}/actions`` and every decided refund action goes through
  ``store.apply_refund_outcome`` (counted once per action id: a refund made in Checkout's Dashboard
  whose webhook was lost, a lost ``payment_refunded``/``payment_refund_declined``).

At scale it asks Checkout only about the payments that need it (:mod:`qpay.service.reconcile_select`:
open, expired, flagged, an open refund, and a ``1/sample_every`` share of the quiet final ones) and paces
its Checkout reads (:class:`qpay.service.pacing.TokenBucket`, ``ReconcilePorts.pace``) so a run stays
inside its share of Checkout's 100 requests/s read limit whatever the traffic.

What cannot be repaired automatically is reported (a capture Checkout now calls Declined, a payment
Checkout does not know, a refunded total that still differs, a payment flagged for attention).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from qpay.adapters.checkout import CheckoutClient, CheckoutError, CheckoutNotFound
from qpay.adapters.store import ApplyResult, PaymentStore, change_day
from qpay.domain.records import Payment, Refund
from qpay.domain.refund_states import OPEN_REFUND_STATES
from qpay.domain.refunds import match_refund
from qpay.domain.states import CHECKOUT_STATUS_EVENTS, TRANSITIONS, Stage, next_stage
from qpay.observability import logger
from qpay.service.pacing import TokenBucket
from qpay.service.reconcile_select import why_ask
from qpay.service.refund_notify import notify_workflow
from qpay.service.refund_outcomes import record_refund_outcome
from qpay.service.transitions import apply_checkout_status, retention
from qpay.settings import Settings

DAY = 86400
PER_PAYMENT_BUDGET_S = 30.0  # two Checkout calls at their deadline, plus the writes
CHECKPOINT_EVERY = 100
MAX_FINDINGS_IN_REPORT = 200
MAX_WINDOW_DAYS = 35  # how far a catch-up reaches back


@dataclass(frozen=True)
class ReconcilePorts:
    store: PaymentStore
    checkout: CheckoutClient
    settings: Settings
    stepfunctions: Any = None  # wakes a refund workflow still waiting for an outcome we repaired
    pace: TokenBucket | None = None  # Checkout.com reads per second this run may make (None: unpaced)


@dataclass(frozen=True)
class Finding:
    payment_id: str
    kind: (
        str  # status | status_conflict | refund | refund_total | refund_open | unknown_at_checkout | attention | error
    )
    fixed: bool
    detail: str


ID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # a payment id's characters after "qpp_", in key order


def scope_of(shards: list[int] | None, part: tuple[int, int] | None = None) -> str:
    """The part of the index a fanned-out run covers ("" for all of it): its reports are kept apart."""
    scope = "" if shards is None else "shards-" + "-".join(str(n) for n in sorted(set(shards)))
    if part is not None:
        scope += f"{'/' if scope else ''}part-{part[0]}-of-{part[1]}"
    return scope


def pk_range(part: tuple[int, int]) -> tuple[str, str]:
    """Table keys of part ``k`` of ``n`` (``n`` divides 32): payments whose id starts with the k-th n-th of
    the id alphabet. Ids are random, so each part holds ~1/n of a shard: a shard too big for one
    invocation is read by ``n`` invocations at once."""
    k, n = part
    if n < 1 or 32 % n or not 0 <= k < n:
        raise ValueError("part must be (k, n) with n dividing 32 and 0 <= k < n")
    width = 32 // n
    first, last = ID_ALPHABET[k * width], ID_ALPHABET[(k + 1) * width - 1]
    return f"PAYMENT#qpp_{first}", f"PAYMENT#qpp_{last}~"


def report_key(day: str, scope: str = "") -> str:
    return f"{day}#{scope}" if scope else day


@dataclass
class Report:
    day: str
    since: int
    scope: str = ""  # which index shards (a fanned-out run); "" = all
    checked: int = 0
    truncated: bool = False
    findings: list[Finding] = field(default_factory=list)
    asked: dict[str, int] = field(default_factory=dict)  # why Checkout.com was asked, per reason; "skipped"

    @property
    def fixed(self) -> int:
        return sum(1 for f in self.findings if f.fixed)

    @property
    def unfixed(self) -> int:
        return sum(1 for f in self.findings if not f.fixed)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.kind == "error")

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            key = f"{f.kind}_{'fixed' if f.fixed else 'open'}"
            out[key] = out.get(key, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "since": self.since,
            **({"scope": self.scope} if self.scope else {}),
            "checked": self.checked,
            "truncated": self.truncated,
            "drift": len(self.findings),
            "fixed": self.fixed,
            "unfixed": self.unfixed,
            "errors": self.errors,
            "counts": self.counts(),
            "asked": dict(self.asked),
            "findings": [asdict(f) for f in self.findings[:MAX_FINDINGS_IN_REPORT]],
        }


def days_between(since: int, now: int) -> list[str]:
    """UTC dates from ``since``'s day to ``now``'s day, inclusive, oldest first."""
    out: list[str] = []
    t = since - since % DAY
    while t <= now:
        out.append(change_day(t))
        t += DAY
    return out


def changed_since(
    store: PaymentStore,
    *,
    since: int,
    now: int,
    max_items: int,
    shards: list[int] | None = None,
    part: tuple[int, int] | None = None,
) -> tuple[list[str], bool]:
    """Ids of payments whose last change was on a day from ``since``'s to today's (deduplicated), the
    newest day first (every day's changes get their first check the next morning even when the run is
    cut), and whether the list was cut at ``max_items``."""
    seen: dict[str, None] = {}
    for day in reversed(days_between(since, now)):
        limit = max_items + 1 - len(seen)
        if shards is None and part is None:
            found = store.changed_payments(day=day, limit=limit)
        else:
            found = store.changed_payments(
                day=day, limit=limit, shards=shards, pk_between=pk_range(part) if part else None
            )
        for payment_id in found:
            if len(seen) >= max_items:
                return list(seen), True
            seen.setdefault(payment_id, None)
    return list(seen), False


def catch_up_since(store: PaymentStore, *, start: int, now: int, scope: str = "") -> int:
    """Where this run starts: the window's start, or earlier when the last run did not finish.

    The last run is the newest report of the ``MAX_WINDOW_DAYS`` before today (yesterday's, normally):
    cut (``truncated``) or killed (``partial``: every run writes one before its first check) → from where
    that run started; a day or more without any report (the schedule did not fire) → from the start of
    the last report's day, so nothing changed since that run waits for a payment's next change. No
    report at all (the first run) → the window's start. Never more than ``MAX_WINDOW_DAYS`` back."""
    floor = now - MAX_WINDOW_DAYS * DAY
    for back in range(1, MAX_WINDOW_DAYS + 1):
        day_start = now - back * DAY - (now - back * DAY) % DAY
        previous = store.get_report(report_key(change_day(day_start), scope))
        if previous is None:
            continue
        since = start if back == 1 else min(start, day_start)
        if previous.get("truncated") or previous.get("partial"):
            prev_since = previous.get("since")
            if isinstance(prev_since, int) and not isinstance(prev_since, bool):
                since = min(since, prev_since)
        return max(since, floor)
    return start


def run(
    *,
    now: int,
    ports: ReconcilePorts,
    since: int | None = None,
    days: int | None = None,
    payment_ids: list[str] | None = None,
    max_items: int | None = None,
    fix: bool = True,
    time_left_s: Callable[[], float] = lambda: float("inf"),
    checkpoint: Callable[[Report], None] | None = None,
    concurrency: int | None = None,
    sample_every: int = 1,
    shards: list[int] | None = None,
    part: tuple[int, int] | None = None,
) -> Report:
    """Reconcile, within the time left: ``concurrency`` payments at once (each check is two Checkout.com
    round trips at most, mostly waiting); stops starting new ones (``truncated``) rather than being
    killed, and hands the report so far to ``checkpoint`` before the first check and every
    ``CHECKPOINT_EVERY`` payments, so a report always exists. The default window catches up after a cut run (:func:`catch_up_since`)."""
    s = ports.settings
    start = since if since is not None else now - (days or s.reconcile_window_days) * DAY
    scope = scope_of(shards, part)
    if since is None and days is None and payment_ids is None:
        start = catch_up_since(ports.store, start=start, now=now, scope=scope)
    report = Report(day=change_day(now), since=start, scope=scope)
    if checkpoint is not None:
        checkpoint(report)  # before anything can fail: a run that dies now still leaves a (partial) report
    if payment_ids is None:
        payment_ids, report.truncated = changed_since(
            ports.store,
            since=start,
            now=now,
            max_items=max_items or s.reconcile_max_payments,
            shards=shards,
            part=part,
        )
    workers = max(1, concurrency or s.reconcile_concurrency)
    tally = threading.Lock()

    def count(reason: str) -> None:
        with tally:
            report.asked[reason] = report.asked.get(reason, 0) + 1

    def check(payment_id: str) -> list[Finding]:
        try:
            return reconcile_payment(payment_id, now=now, ports=ports, fix=fix, sample_every=sample_every, count=count)
        except CheckoutError as exc:
            return [Finding(payment_id, "error", False, f"Checkout.com: {exc}")]
        except Exception as exc:
            logger.exception("reconciliation failed for a payment", extra={"payment_id": payment_id})
            return [Finding(payment_id, "error", False, type(exc).__name__)]

    def collect(done: Future[list[Finding]]) -> None:
        report.checked += 1
        report.findings += done.result()
        if checkpoint is not None and report.checked % CHECKPOINT_EVERY == 0:
            checkpoint(report)

    pending = iter(payment_ids)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile") as pool:
        running: set[Future[list[Finding]]] = set()
        for payment_id in pending:
            if time_left_s() < PER_PAYMENT_BUDGET_S:
                report.truncated = True
                logger.warning("reconciliation stopped early: out of time", extra={"checked": report.checked})
                break
            running.add(pool.submit(contextvars.copy_context().run, check, payment_id))
            if len(running) >= workers:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for done in finished:
                    collect(done)
        for done in as_completed(running):
            collect(done)
    return report


def _paced(ports: ReconcilePorts) -> None:
    if ports.pace is not None:
        ports.pace.acquire()


def reconcile_payment(
    payment_id: str,
    *,
    now: int,
    ports: ReconcilePorts,
    fix: bool = True,
    sample_every: int = 1,
    count: Callable[[str], None] = lambda reason: None,
) -> list[Finding]:
    payment, refunds = ports.store.get_payment_with_refunds(payment_id)
    if payment is None:
        return []
    findings: list[Finding] = []
    if payment.attention:
        findings.append(Finding(payment.id, "attention", False, "flagged: still pending at Checkout.com"))
    if not payment.cko_id:
        return findings  # Checkout.com never accepted it (or the create is in flight)
    reason = why_ask(payment, refunds, day=change_day(now), sample_every=sample_every)
    count(reason or "skipped")
    if reason is None:
        return findings  # final, quiet and not in today's share: Checkout.com is not asked
    _paced(ports)
    try:
        doc = ports.checkout.get_payment(payment.cko_id)
    except CheckoutNotFound:
        return [*findings, Finding(payment.id, "unknown_at_checkout", False, f"{payment.cko_id} not found")]
    payment, status_findings = _reconcile_status(payment, doc, now=now, ports=ports, fix=fix)
    findings += status_findings
    if payment.stage is Stage.CAPTURED:
        findings += _reconcile_refunds(payment, refunds, doc, now=now, ports=ports, fix=fix)
    return findings


def _reconcile_status(
    payment: Payment, doc: dict[str, Any], *, now: int, ports: ReconcilePorts, fix: bool
) -> tuple[Payment, list[Finding]]:
    status = str(doc.get("status"))
    event_type = CHECKOUT_STATUS_EVENTS.get(status)
    if event_type is None:
        return payment, []  # Checkout says Pending: the expiry timer and the sweep own open payments
    target = next_stage(payment.stage, event_type)
    if target is None:
        if TRANSITIONS[event_type].target is not payment.stage:
            detail = f"ours {payment.stage.value}, Checkout.com {status}: not moved (a stage is never left backwards)"
            return payment, [Finding(payment.id, "status_conflict", False, detail)]
        return payment, []
    detail = f"{payment.stage.value} -> {target.value} (Checkout.com: {status})"
    if not fix:
        return payment, [Finding(payment.id, "status", False, detail)]
    updated = apply_checkout_status(ports.store, payment, doc, now=now, settings=ports.settings, source="reconcile")
    logger.info("reconciliation moved a payment", extra={"payment_id": payment.id, "detail": detail})
    return updated, [Finding(payment.id, "status", updated.stage is target, detail)]


def _reconcile_refunds(
    payment: Payment,
    refunds: list[Refund],
    doc: dict[str, Any],
    *,
    now: int,
    ports: ReconcilePorts,
    fix: bool,
) -> list[Finding]:
    grace = ports.settings.reconcile_open_refund_grace_s
    balances = doc.get("balances") or {}
    cko_refunded = balances.get("total_refunded")
    stale_open = [r for r in refunds if r.state in OPEN_REFUND_STATES and now - r.updated_at >= grace]
    in_flight = any(r.state in OPEN_REFUND_STATES and now - r.updated_at < grace for r in refunds)
    if cko_refunded == payment.refunded_amount and not stale_open:
        return []
    assert payment.cko_id is not None
    _paced(ports)
    actions = ports.checkout.get_actions(payment.cko_id)
    findings: list[Finding] = []
    if not fix:
        if isinstance(cko_refunded, int) and cko_refunded != payment.refunded_amount and not in_flight:
            detail = f"refunded here {payment.refunded_amount}, at Checkout.com {cko_refunded}"
            findings.append(Finding(payment.id, "refund_total", False, detail))
        return findings + [Finding(payment.id, "refund_open", False, f"{r.id} {r.state.value}") for r in stale_open]
    decided = [a for a in reversed(actions) if a.get("type") == "Refund" and a.get("approved") is not None]
    for action in decided:
        action_id, reference = str(action.get("id")), action.get("reference")
        mine = match_refund(refunds, action_id=action_id, reference=reference if isinstance(reference, str) else None)
        if mine is not None and mine.state in OPEN_REFUND_STATES and now - mine.updated_at < grace:
            continue  # young: its own workflow is on it
        amount = action.get("amount")
        approved = bool(action.get("approved"))
        outcome = record_refund_outcome(
            ports.store,
            payment.id,
            action_id=action_id,
            amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            currency=None,
            approved=approved,
            reference=reference if isinstance(reference, str) else None,
            event_id=None,
            now=now,
            retain_until=retention(now, ports.settings),
        )
        if outcome.result is ApplyResult.APPLIED:
            refund = outcome.refund
            what = "our refund " + refund.id if refund is not None else f"refund made elsewhere ({reference})"
            detail = f"{what}: {action_id} {'approved' if approved else 'declined'} {amount}"
            findings.append(Finding(payment.id, "refund", True, detail))
            logger.info("reconciliation counted a refund", extra={"payment_id": payment.id, "detail": detail})
            if refund is not None and ports.stepfunctions is not None:
                notify_workflow(ports.store, ports.stepfunctions, payment.id, refund.id)
        elif outcome.result is ApplyResult.PARKED:
            findings.append(Finding(payment.id, "refund_parked", False, f"{action_id}: does not add up"))
    after, refunds_after = ports.store.get_payment_with_refunds(payment.id)
    if after is not None and isinstance(cko_refunded, int) and after.refunded_amount != cko_refunded and not in_flight:
        detail = f"refunded here {after.refunded_amount}, at Checkout.com {cko_refunded}"
        findings.append(Finding(payment.id, "refund_total", False, detail))
    for r in refunds_after:
        if r.state in OPEN_REFUND_STATES and now - r.updated_at >= grace:
            findings.append(Finding(payment.id, "refund_open", False, f"{r.id} still {r.state.value} at Checkout.com"))
    return findings

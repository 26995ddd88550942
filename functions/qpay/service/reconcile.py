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

What cannot be repaired automatically is reported (a capture Checkout now calls Declined, a payment
Checkout does not know, a refunded total that still differs, a payment flagged for attention).
"""

from __future__ import annotations

import contextvars
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


@dataclass(frozen=True)
class Finding:
    payment_id: str
    kind: (
        str  # status | status_conflict | refund | refund_total | refund_open | unknown_at_checkout | attention | error
    )
    fixed: bool
    detail: str


@dataclass
class Report:
    day: str
    since: int
    checked: int = 0
    truncated: bool = False
    findings: list[Finding] = field(default_factory=list)

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
            "checked": self.checked,
            "truncated": self.truncated,
            "drift": len(self.findings),
            "fixed": self.fixed,
            "unfixed": self.unfixed,
            "errors": self.errors,
            "counts": self.counts(),
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


def changed_since(store: PaymentStore, *, since: int, now: int, max_items: int) -> tuple[list[str], bool]:
    """Ids of payments whose last change was on a day from ``since``'s to today's (deduplicated), the
    newest day first (every day's changes get their first check the next morning even when the run is
    cut), and whether the list was cut at ``max_items``."""
    seen: dict[str, None] = {}
    for day in reversed(days_between(since, now)):
        for payment_id in store.changed_payments(day=day, limit=max_items + 1 - len(seen)):
            if len(seen) >= max_items:
                return list(seen), True
            seen.setdefault(payment_id, None)
    return list(seen), False


def catch_up_since(store: PaymentStore, *, start: int, now: int) -> int:
    """Where this run starts: the window's start, or earlier when yesterday's run was cut (or killed,
    leaving only its partial report): from where that run started, so nothing it did not reach waits
    for a payment's next change. Never more than ``MAX_WINDOW_DAYS`` back."""
    previous = store.get_report(change_day(now - DAY))
    if previous is None or not (previous.get("truncated") or previous.get("partial")):
        return start
    prev_since = previous.get("since")
    if not isinstance(prev_since, int) or isinstance(prev_since, bool):
        return start
    return max(min(start, prev_since), now - MAX_WINDOW_DAYS * DAY)


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
) -> Report:
    """Reconcile, within the time left: ``concurrency`` payments at once (each check is two Checkout.com
    round trips at most, mostly waiting); stops starting new ones (``truncated``) rather than being
    killed, and hands the report so far to ``checkpoint`` every ``CHECKPOINT_EVERY`` payments, so a
    report always exists. The default window catches up after a cut run (:func:`catch_up_since`)."""
    s = ports.settings
    start = since if since is not None else now - (days or s.reconcile_window_days) * DAY
    if since is None and days is None and payment_ids is None:
        start = catch_up_since(ports.store, start=start, now=now)
    report = Report(day=change_day(now), since=start)
    if payment_ids is None:
        payment_ids, report.truncated = changed_since(
            ports.store, since=start, now=now, max_items=max_items or s.reconcile_max_payments
        )
    workers = max(1, concurrency or s.reconcile_concurrency)

    def check(payment_id: str) -> list[Finding]:
        try:
            return reconcile_payment(payment_id, now=now, ports=ports, fix=fix)
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


def reconcile_payment(payment_id: str, *, now: int, ports: ReconcilePorts, fix: bool = True) -> list[Finding]:
    payment, refunds = ports.store.get_payment_with_refunds(payment_id)
    if payment is None:
        return []
    findings: list[Finding] = []
    if payment.attention:
        findings.append(Finding(payment.id, "attention", False, "flagged: still pending at Checkout.com"))
    if not payment.cko_id:
        return findings  # Checkout.com never accepted it (or the create is in flight)
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

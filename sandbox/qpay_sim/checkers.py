"""Named invariants. Each checker is a pure function of plain facts (:class:`PaymentFacts`, answers,
order events) and returns the violations it sees, so the unit tests can hand it a made-up violation.

Sources of the facts: the product's own records (the real store on moto), Checkout's (the simulator's
payments, actions and pending refunds), what callers were told, what the outbox published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

DEAD = {"Declined", "Canceled", "Expired"}
PAYABLE = {"Pending"}
#: rank of a stage: it never decreases (a capture after an end is Checkout's word and raises the rank)
STAGE_RANK = {"Pending": 0, "Capture Pending": 1, "Declined": 2, "Canceled": 2, "Expired": 2, "Captured": 3}
OPEN_REFUND = {"Requested", "Pending"}
FINAL_REFUND = {"Refunded", "Declined", "Failed"}


@dataclass(frozen=True)
class Violation:
    checker: str
    subject: str  # a payment id (qpp_…) or an order reference
    message: str


@dataclass
class CkoRefund:
    action_id: str
    amount: int
    reference: str | None
    state: str  # "pending" / "approved" / "declined"
    at: int = 0  # requested (pending) or processed (settled) at Checkout, epoch seconds


@dataclass
class CkoPayment:
    id: str
    reference: str
    status: str
    captured: int
    refunds: list[CkoRefund] = field(default_factory=list)


@dataclass
class RefundFacts:
    id: str
    amount: int
    state: str


@dataclass
class PaymentFacts:
    """One of our payments as we hold it and as Checkout holds it."""

    id: str
    reference: str
    stage: str
    status: str
    created_at: int
    captured_amount: int
    refunded_amount: int
    refundable_amount: int
    attention: bool
    cko_id: str | None
    refunds: list[RefundFacts]
    cko: list[CkoPayment]  # every Checkout payment carrying our id (a 5xx-after-accept makes two)

    def bound(self) -> CkoPayment | None:
        return next((c for c in self.cko if c.id == self.cko_id), None)


# ------------------------------------------------------------------------------ money
def _span(seconds: int) -> str:
    """A duration as a person reads it: seconds apart is a retried request (fidelity F-2), past 24 h a
    request repeated after Checkout forgot its key (F-1)."""
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def one_checkout_refund_per_request(p: PaymentFacts) -> list[Violation]:
    """Never two Checkout refunds for one refund request (its id is the refund's reference there)."""
    out = []
    for c in p.cko:
        counts = Counter(r.reference for r in c.refunds if r.reference and r.reference.startswith("qrf_"))
        for ref, n in counts.items():
            if n > 1:
                amounts = [r.amount for r in c.refunds if r.reference == ref]
                times = sorted(r.at for r in c.refunds if r.reference == ref)
                gap = f", the second {_span(times[1] - times[0])} after the first" if times[0] else ""
                out.append(Violation("money.one_checkout_refund_per_request", p.id,
                                     f"Checkout holds {n} refunds {amounts} for refund request {ref} on {c.id}{gap}"))  # fmt: skip
    return out


def never_more_than_captured(p: PaymentFacts) -> list[Violation]:
    """Refunded (ours and Checkout's) never exceeds what was captured; the ledger balances."""
    out = []
    if p.refunded_amount > p.captured_amount:
        out.append(Violation("money.never_more_than_captured", p.id,
                             f"ledger refunded {p.refunded_amount} > captured {p.captured_amount}"))  # fmt: skip
    for c in p.cko:
        taken = sum(r.amount for r in c.refunds if r.state == "approved")
        if taken > c.captured:
            out.append(Violation("money.never_more_than_captured", p.id,
                                 f"Checkout refunded {taken} > captured {c.captured} on {c.id}"))  # fmt: skip
    if p.stage == "Captured":
        reserved = sum(r.amount for r in p.refunds if r.state in OPEN_REFUND)
        if p.refundable_amount + p.refunded_amount + reserved != p.captured_amount:
            out.append(Violation("money.never_more_than_captured", p.id,
                                 f"ledger does not balance: refundable {p.refundable_amount} + refunded "
                                 f"{p.refunded_amount} + reserved {reserved} != captured {p.captured_amount}"))  # fmt: skip
    return out


def refunds_match_checkout(p: PaymentFacts) -> list[Violation]:
    """At rest (nothing pending anywhere): the refunds Checkout made equal the ledger's."""
    c = p.bound()
    if c is None or any(r.state == "pending" for r in c.refunds):
        return []
    taken = sum(r.amount for r in c.refunds if r.state == "approved")
    if taken != p.refunded_amount:
        return [Violation("money.refunds_match_checkout", p.id,
                          f"Checkout refunded {taken} on {c.id}, the ledger says {p.refunded_amount}")]  # fmt: skip
    return []


# ------------------------------------------------------------------------------ state
@dataclass
class StateHistory:
    """What each payment looked like at the last check (the state checker's memory)."""

    seen: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (stage, refunded)

    def never_backwards(self, p: PaymentFacts) -> list[Violation]:
        before = self.seen.get(p.id)
        self.seen[p.id] = (p.stage, p.refunded_amount)
        if before is None:
            return []
        stage, refunded = before
        out = []
        if STAGE_RANK[p.stage] < STAGE_RANK[stage] or (stage in DEAD and p.stage in DEAD and p.stage != stage):
            out.append(Violation("state.never_backwards", p.id, f"stage went {stage} -> {p.stage}"))
        if p.refunded_amount < refunded:
            out.append(Violation("state.never_backwards", p.id, f"refunded went {refunded} -> {p.refunded_amount}"))
        return out


def final_by_deadline(p: PaymentFacts, *, now: int, max_age_s: int) -> list[Violation]:
    """Every payment is final, or flagged for a human, once it is older than the product's own limit."""
    if now - p.created_at <= max_age_s or p.stage not in ("Pending", "Capture Pending") or p.attention:
        return []
    return [Violation("state.final_by_deadline", p.id,
                      f"still {p.stage} {(now - p.created_at) // 3600} h after creation, not flagged")]  # fmt: skip


# ------------------------------------------------------------------------------ orders
def one_capture_per_reference(reference: str, cko: Iterable[CkoPayment]) -> list[Violation]:
    taken = [c.id for c in cko if c.reference == reference and c.captured > 0]
    if len(taken) > 1:
        return [Violation("orders.one_capture_per_reference", reference, f"order paid {len(taken)} times: {taken}")]
    return []


def answer_consistent(reference: str, status: int, body: dict[str, Any], *, payable: bool) -> list[Violation]:
    """A create answer never says it ended while carrying a link the shopper can still pay, and a 201
    always carries the link (fidelity F-3)."""
    if status not in (200, 201):
        return []
    state, link = body.get("status"), body.get("redirect_url") or ""
    if state in DEAD and link and payable:
        return [Violation("orders.answer_consistent", reference,
                          f"{status} says {state} with a payable redirect_url {link}")]  # fmt: skip
    if state == "Pending" and not link:
        return [Violation("orders.answer_consistent", reference, f"{status} Pending without a redirect_url")]
    return []


# ------------------------------------------------------------------------------ events
def one_event_per_transition(p: PaymentFacts, events: list[dict[str, Any]]) -> list[Violation]:
    """Each status the payment reached has exactly one order event (ids dedupe redeliveries), and each
    refund's final state has one."""
    out = []
    mine = [e for e in events if e["Detail"].get("payment_id") == p.id]
    by_type: dict[str, set[str]] = {}
    for e in mine:
        by_type.setdefault(e["DetailType"], set()).add(str(e["Detail"].get("event_id", e.get("EventId"))))
    wanted = {"Captured": "Payment Captured", "Declined": "Payment Declined", "Canceled": "Payment Canceled",
              "Expired": "Payment Expired", "Refunded": "Payment Refunded"}  # fmt: skip
    if p.status in wanted and not by_type.get(wanted[p.status]):
        out.append(Violation("events.one_per_transition", p.id, f"status {p.status} but no '{wanted[p.status]}' event"))
    for kind, ids in by_type.items():
        if (
            kind not in ("Payment Partially Refunded", "Refund Succeeded", "Refund Declined", "Refund Failed")
            and len(ids) > 1
        ):
            out.append(
                Violation("events.one_per_transition", p.id, f"{len(ids)} different '{kind}' events: {sorted(ids)}")
            )
    for r in p.refunds:
        if r.state in FINAL_REFUND:
            n = len({str(e["Detail"].get("event_id")) for e in mine if e["Detail"].get("refund_id") == r.id})
            if n != 1:
                out.append(Violation("events.one_per_transition", p.id, f"refund {r.id} {r.state}: {n} events"))
    return out


# ------------------------------------------------------------------------------ in flight
def nothing_in_flight(p: PaymentFacts, running: list[str]) -> list[Violation]:
    """At rest: every refund settled or released (or its payment flagged), every workflow ended, except the
    workflow of a refund handed to a human (open, its payment flagged): the sweeper restarts that one twice
    a day, by design, in case Checkout lists the refund after all (docs/money-over-time.md)."""
    out = []
    for r in p.refunds:
        if r.state in OPEN_REFUND and not p.attention:
            out.append(Violation("inflight.settled", p.id, f"refund {r.id} still {r.state}, not flagged"))
    handed_over = {r.id for r in p.refunds if r.state in OPEN_REFUND} if p.attention else set()
    for name in running:
        if name.split("-", 1)[0] not in handed_over:
            out.append(Violation("inflight.settled", p.id, f"workflow {name} still running"))
    return out


PER_STEP: tuple[Callable[[PaymentFacts], list[Violation]], ...] = (
    one_checkout_refund_per_request,
    never_more_than_captured,
)

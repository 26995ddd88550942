"""Read the facts the checkers need from the product's store and from the simulator."""

from __future__ import annotations

from datetime import datetime

from qpay import deps
from qpay_sim.checkers import CkoPayment, CkoRefund, PaymentFacts, RefundFacts
from qpay_sim.world import World

METADATA_KEY = "qpay_payment_id"


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def checkout_payments(w: World) -> list[CkoPayment]:
    out = []
    with w.sim.lock:
        for p in w.sim._payments.values():  # read under the simulator's lock, no deep copies
            refunds = [
                CkoRefund(a.id, a.amount, a.reference, "approved" if a.approved else "declined", _epoch(a.processed_on))
                for a in p.actions
                if a.type == "Refund"
            ]
            refunds += [
                CkoRefund(r.action_id, r.amount, r.reference, "pending", _epoch(r.requested_on))
                for r in p.pending_refunds
            ]
            out.append(CkoPayment(p.id, p.reference or "", p.status.value, p.total_captured, refunds))
    return out


def checkout_by_ours(w: World) -> dict[str, list[CkoPayment]]:
    by: dict[str, list[CkoPayment]] = {}
    with w.sim.lock:
        ours = {p.id: str(p.metadata.get(METADATA_KEY, "")) for p in w.sim._payments.values()}
    for c in checkout_payments(w):
        by.setdefault(ours.get(c.id, ""), []).append(c)
    return by


def payment_facts(w: World, payment_id: str, cko: dict[str, list[CkoPayment]] | None = None) -> PaymentFacts | None:
    payment, refunds = deps.store().get_payment_with_refunds(payment_id)
    if payment is None:
        return None
    cko = cko if cko is not None else checkout_by_ours(w)
    return PaymentFacts(
        id=payment.id,
        reference=payment.reference,
        stage=payment.stage.value,
        status=payment.status.value,
        created_at=payment.created_at,
        captured_amount=payment.captured_amount,
        refunded_amount=payment.refunded_amount,
        refundable_amount=payment.refundable_amount,
        attention=payment.attention,
        cko_id=payment.cko_id,
        refunds=[RefundFacts(r.id, r.amount, r.state.value) for r in refunds],
        cko=cko.get(payment.id, []),
    )

"""Which payments the reconciliation asks Checkout.com about, so it scales with traffic.

Asking Checkout about every payment does not scale: its published read limit is 100 requests per second
per account (shared/reviews/fidelity.md S6), i.e. 8.6 million a day for everything, live paths included.
Most payments need no question: their end came from Checkout itself (a webhook or a GET: the product
never ends a payment on its own clock) and nothing has moved since. Always asked (few, and where drift
hides):

- a payment still open (``Pending``/``Capture Pending``): a lost ``payment_captured``/``declined``/…;
- one flagged for attention, or with a refund still open (a lost refund outcome);

and a deterministic share ``1/sample_every`` of the quiet final ones (``Captured``, ``Declined``,
``Canceled``, ``Expired`` with no open refund): what can still hide there needs a second lost webhook (a
refund made in Checkout's Dashboard, a capture after Checkout's own ``payment_expired``), so the share is
a coverage choice, stated in docs/capacity.md. The share rotates with the
day, so across ``sample_every`` days every quiet payment of a day has its turn with the same odds.
``sample_every = 1`` asks about every payment (the default below a few hundred thousand a day).
"""

from __future__ import annotations

import hashlib

from qpay.domain.records import Payment, Refund
from qpay.domain.refund_states import OPEN_REFUND_STATES
from qpay.domain.states import OPEN_STAGES

ALWAYS = ("open", "attention", "refund_open")


def sampled(payment_id: str, *, day: str, sample_every: int) -> bool:
    """Whether a quiet payment is in today's share (stable for a day, uniform across ids)."""
    if sample_every <= 1:
        return True
    digest = hashlib.blake2b(f"{day}/{payment_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % sample_every == 0


def why_ask(payment: Payment, refunds: list[Refund], *, day: str, sample_every: int) -> str | None:
    """The reason to ask Checkout.com about this payment today, or None to leave it."""
    if payment.stage in OPEN_STAGES:
        return "open"
    if payment.attention:
        return "attention"
    if any(r.state in OPEN_REFUND_STATES for r in refunds):
        return "refund_open"
    return "sample" if sampled(payment.id, day=day, sample_every=sample_every) else None

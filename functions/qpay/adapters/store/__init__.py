"""Payment state in one DynamoDB table. Every state change is one conditional write or one transaction.

The store is split by aggregate behind one interface, :class:`PaymentStore`: payments (create, reads,
transitions), refunds (reservation, workflow writes, outcomes), timers (expiry), and indexes (the sparse
indexes and reconciliation reports). Keys live in :mod:`.keys`, item shapes in :mod:`.items`.

Items (``pk`` / ``sk``):
- ``PAYMENT#<id>`` / ``PAYMENT``: the payment (stage, money counters, version, and the ids of the
  payment notifications applied to it, ``applied_events``: a duplicate fails the same condition that
  guards the stage). Carries the sparse pending-index keys (``pending_pk``, ``pending_sk`` = deadline)
  only while it is open.
- ``PAYMENT#<id>`` / ``EVENT#<evt_…>``: an applied refund notification, written in the same transaction
  as the money it moved, so a duplicate fails the condition and changes nothing.
- ``PAYMENT#<id>`` / ``ACTION#<act_…>``: a refund outcome counted once, whichever path saw it first
  (webhook or reconciliation).
- ``PAYMENT#<id>`` / ``REFUND#<qrf_…>``: a refund we requested (amount, state, task token).
- ``PAYMENT#<id>`` / ``TIMER``: the expiry timer. Its TTL removal is what the stream consumer acts
  on (the event source mapping's filter passes only ``sk = TIMER`` removals). Refund-notification records
  carry the same TTL attribute so they age out, but the filter never lets them through.
- ``REFERENCE#<merchant reference>`` / ``REFERENCE``: one live payment per order reference.
"""

from __future__ import annotations

from qpay.adapters.store.errors import (
    ApplyResult,
    CreateConflict,
    ReferenceTaken,
    RefundExists,
    RefundReserveRejected,
)
from qpay.adapters.store.indexes import IndexesMixin
from qpay.adapters.store.keys import (
    CHANGED_INDEX,
    CUSTOMER_SK,
    PAYMENT_SK,
    PENDING_INDEX,
    TIMER_SK,
    TTL_ATTRIBUTE,
    change_day,
    payment_pk,
    reference_pk,
)
from qpay.adapters.store.payments import PaymentsMixin
from qpay.adapters.store.refunds import RefundsMixin
from qpay.adapters.store.timers import TimersMixin
from qpay.domain.refund_states import OPEN_REFUND_STATES


class PaymentStore(PaymentsMixin, RefundsMixin, TimersMixin, IndexesMixin):
    """The one interface the services use; each aggregate's writes live in their own module."""


__all__ = [
    "CHANGED_INDEX",
    "CUSTOMER_SK",
    "OPEN_REFUND_STATES",
    "PAYMENT_SK",
    "PENDING_INDEX",
    "TIMER_SK",
    "TTL_ATTRIBUTE",
    "ApplyResult",
    "CreateConflict",
    "PaymentStore",
    "ReferenceTaken",
    "RefundExists",
    "RefundReserveRejected",
    "change_day",
    "payment_pk",
    "reference_pk",
]

"""A refund's states: a leaf module, so the records and the refund arithmetic both import it and neither
imports the other's importer (it used to be a records <-> refunds import circle)."""

from __future__ import annotations

from enum import StrEnum


class RefundState(StrEnum):
    REQUESTED = "Requested"  # reserved here, not yet accepted by Checkout.com
    PENDING = "Pending"  # Checkout.com accepted it (202); the outcome comes by webhook
    REFUNDED = "Refunded"
    DECLINED = "Declined"  # Checkout.com declined it asynchronously
    FAILED = "Failed"  # Checkout.com refused the request (4xx): nothing was refunded


OPEN_REFUND_STATES = frozenset({RefundState.REQUESTED, RefundState.PENDING})
FINAL_REFUND_STATES = frozenset({RefundState.REFUNDED, RefundState.DECLINED, RefundState.FAILED})

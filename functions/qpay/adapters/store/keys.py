"""Keys and key attributes of the payments table: one place for every ``pk``/``sk`` shape and index key."""

from __future__ import annotations

import time

PAYMENT_SK = "PAYMENT"
TIMER_SK = "TIMER"
CUSTOMER_SK = "CUSTOMER"
REFERENCE_SK = "REFERENCE"
PENDING_INDEX = "pending-by-deadline"
PENDING_PK = "PENDING"
TTL_ATTRIBUTE = "expires_at_epoch"
CHANGED_INDEX = "changed-by-day"
DEFAULT_CUSTOMER_RETENTION_S = 30 * 86400


def change_day(epoch: int) -> str:
    """The ``changed_day`` partition of the changed-by-day index (UTC date of the last change)."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def payment_pk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def reference_pk(reference: str) -> str:
    return f"REFERENCE#{reference}"


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"

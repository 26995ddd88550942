"""Keys and key attributes of the payments table: one place for every ``pk``/``sk`` shape and index key.

The indexes' partition keys are sharded. A constant partition key (``PENDING``, today's date) puts every
payment of the moment in one GSI partition, about 1,000 writes/s, and a throttled GSI throttles the table:
a ceiling near 200-250 payments/s. Each key below spreads over ``SHARDS`` values by a stable hash of the
payment id (never Python's ``hash``: it changes between processes), and readers query every shard.
"""

from __future__ import annotations

import hashlib
import time

PAYMENT_SK = "PAYMENT"
TIMER_SK = "TIMER"
CUSTOMER_SK = "CUSTOMER"
REFERENCE_SK = "REFERENCE"
TTL_ATTRIBUTE = "expires_at_epoch"
DEFAULT_CUSTOMER_RETENTION_S = 30 * 86400

SHARDS = 32
PENDING_INDEX = "pending-by-deadline"  # pending_pk = PENDING#<shard>, pending_sk = deadline (open payments)
CHANGED_INDEX = "changed-by-day"  # changed_day = <YYYY-MM-DD>#<shard>, sort key pk (stable within a day)
OPEN_REFUNDS_INDEX = "open-refunds"  # open_refund_pk = OPENREFUND#<shard>, open_refund_sk = requested at
BY_CKO_INDEX = "by-cko-id"  # cko_id (Checkout's pay_…), written once per payment


def shard(value: str, shards: int = SHARDS) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=4).digest(), "big") % shards


def change_day(epoch: int) -> str:
    """The UTC date of a change (the day part of the changed-by-day key)."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def changed_key(payment_id: str, epoch: int) -> str:
    """The ``changed_day`` partition of a payment changed at ``epoch``. Within a day it does not change,
    so further writes that day cost no index write (the index's sort key is the table's ``pk``)."""
    return f"{change_day(epoch)}#{shard(payment_id)}"


def changed_keys_of_day(day: str) -> list[str]:
    return [f"{day}#{n}" for n in range(SHARDS)]


def pending_pk(payment_id: str) -> str:
    return f"PENDING#{shard(payment_id)}"


def pending_keys() -> list[str]:
    return [f"PENDING#{n}" for n in range(SHARDS)]


def open_refund_pk(refund_id: str) -> str:
    return f"OPENREFUND#{shard(refund_id)}"


def open_refund_keys() -> list[str]:
    return [f"OPENREFUND#{n}" for n in range(SHARDS)]


def payment_pk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def reference_pk(reference: str) -> str:
    return f"REFERENCE#{reference}"


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def action_sk(action_id: str) -> str:
    return f"ACTION#{action_id}"


def anomaly_sk(key: str) -> str:
    return f"ANOMALY#{key}"

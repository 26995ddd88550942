"""The sharded index keys under a million payments: no partition key value takes more than its share.

A GSI partition takes 1,000 write units a second. The index keys spread payments over ``SHARDS`` values by a
stable hash of the id; this simulates the keys of 1 M payments (ids as the product makes them, keyed by the
server key and an idempotency key, and random ones) and checks each value's load against its share, then the
busiest value's writes at 10,000 payments a second against the partition limit (docs/capacity.md).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from qpay.adapters.store import keys
from qpay.domain import ids

PAYMENTS = 1_000_000
SERVER_KEY = "sk_sbox_m3ujaanbc6amcjc6ddh7pxhs5mg"  # the documented test-key shape, not a real key
PARTITION_WCU = 1_000
TARGET_PAYMENTS_PER_S = 10_000
# GSI writes per payment (the bench's measured figures): entering pending-by-deadline and leaving it
WRITES_PER_PAYMENT = {"pending": 2.02, "changed": 1.0}


@pytest.fixture(scope="module")
def payment_ids() -> list[str]:
    keyed = [ids.payment_id_for_key(SERVER_KEY, "merchant", f"idem-{i}") for i in range(PAYMENTS // 2)]
    random_ = [ids.new_payment_id() for _ in range(PAYMENTS - len(keyed))]
    return keyed + random_


def _spread(values: Counter[str], expected_keys: list[str]) -> tuple[int, int]:
    assert set(values) == set(expected_keys), "every shard is used and no other value appears"
    return max(values.values()), min(values.values())


def test_pending_index_shards_take_their_share(payment_ids: list[str]) -> None:
    load = Counter(keys.pending_pk(p) for p in payment_ids)
    busiest, quietest = _spread(load, keys.pending_keys())
    share = PAYMENTS / keys.SHARDS  # 31,250; one standard deviation is about 174
    assert busiest <= share * 1.03 and quietest >= share * 0.97
    per_partition = TARGET_PAYMENTS_PER_S * WRITES_PER_PAYMENT["pending"] * busiest / PAYMENTS
    assert per_partition < PARTITION_WCU  # about 650 WCU/s at 10,000 payments/s


def test_changed_by_day_shards_take_their_share_on_the_busiest_day(payment_ids: list[str]) -> None:
    now = int(time.time())
    load = Counter(keys.changed_key(p, now) for p in payment_ids)  # every payment changed the same day
    busiest, quietest = _spread(load, keys.changed_keys_of_day(keys.change_day(now)))
    share = PAYMENTS / keys.SHARDS
    assert busiest <= share * 1.03 and quietest >= share * 0.97
    assert TARGET_PAYMENTS_PER_S * WRITES_PER_PAYMENT["changed"] * busiest / PAYMENTS < PARTITION_WCU


def test_open_refunds_shards_take_their_share(payment_ids: list[str]) -> None:
    refunds = [ids.refund_id_for_key(p, "refund-1") for p in payment_ids[:200_000]] + [
        ids.new_refund_id() for _ in range(200_000)
    ]
    load = Counter(keys.open_refund_pk(r) for r in refunds)
    busiest, quietest = _spread(load, keys.open_refund_keys())
    share = len(refunds) / keys.SHARDS  # 12,500; one standard deviation is about 110
    assert busiest <= share * 1.05 and quietest >= share * 0.95


def test_a_payments_shard_is_pinned() -> None:
    # blake2b of the id, never Python's salted hash(): a reader in another process, or after a deploy,
    # must compute the same shard as the writer did (values computed once and pinned here)
    assert [keys.shard(f"qpp_{c * 26}") for c in "abcdefgh"] == [18, 14, 8, 20, 8, 4, 27, 18]
    assert keys.pending_pk("qpp_" + "a" * 26) == "PENDING#18"
    assert keys.changed_key("qpp_" + "b" * 26, 1_795_910_400) == "2026-11-29#14"

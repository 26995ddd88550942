"""What lets the reconciliation scale: which payments it asks Checkout.com about (a pure policy), and the
pace of its Checkout reads (a token bucket on an injected clock: no real time in these tests)."""

from __future__ import annotations

import threading

import pytest

from qpay.domain.records import Payment, Refund
from qpay.domain.refund_states import RefundState
from qpay.domain.states import Stage
from qpay.service.pacing import TokenBucket
from qpay.service.reconcile_select import sampled, why_ask

DAY = "2026-12-07"


def payment(stage: Stage, i: int = 0, **kw: object) -> Payment:
    return Payment(id=f"qpp_{i:026d}", reference="ORD-1", amount=12500, currency="QAR", description="d",
                   language="en", quantity=1, stage=stage, cko_id="pay_x", **kw)  # type: ignore[arg-type]  # fmt: skip


def refund(state: RefundState) -> Refund:
    return Refund(id="qrf_" + "a" * 26, payment_id=payment(Stage.CAPTURED).id, amount=100, state=state)


@pytest.mark.parametrize(
    ("p", "refunds", "reason"),
    [
        (payment(Stage.PENDING), [], "open"),
        (payment(Stage.CAPTURE_PENDING), [], "open"),
        (payment(Stage.CAPTURED, attention=True), [], "attention"),
        (payment(Stage.CAPTURED), [refund(RefundState.PENDING)], "refund_open"),
        (payment(Stage.CAPTURED), [refund(RefundState.REQUESTED)], "refund_open"),
    ],
)
def test_what_may_hide_drift_is_always_asked_whatever_the_share(p: Payment, refunds: list[Refund], reason: str) -> None:
    assert why_ask(p, refunds, day=DAY, sample_every=10**9) == reason


@pytest.mark.parametrize("stage", [Stage.CAPTURED, Stage.DECLINED, Stage.CANCELED, Stage.EXPIRED])
def test_quiet_final_payments_are_asked_in_their_share_only(stage: Stage) -> None:
    done = [refund(RefundState.REFUNDED)]
    assert why_ask(payment(stage), done, day=DAY, sample_every=1) == "sample"  # every one, by default
    asked = sum(why_ask(payment(stage, i), done, day=DAY, sample_every=50) is not None for i in range(20_000))
    assert 300 <= asked <= 500  # 1 in 50 of 20,000 = 400 (hash-uniform; deterministic for these ids)


def test_the_share_is_stable_within_a_day_and_rotates_across_days() -> None:
    ids = [f"qpp_{i:026d}" for i in range(5_000)]
    today = {i for i in ids if sampled(i, day=DAY, sample_every=10)}
    assert today == {i for i in ids if sampled(i, day=DAY, sample_every=10)}
    tomorrow = {i for i in ids if sampled(i, day="2026-12-08", sample_every=10)}
    assert len(today & tomorrow) < len(today) / 4  # mostly other payments the next day


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_the_bucket_lets_a_burst_through_then_paces_at_its_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(10, burst=10, clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        bucket.acquire()
    assert t.now == 1000.0  # the burst costs no wait
    for _ in range(90):
        bucket.acquire()
    assert t.now == pytest.approx(1009.0)  # 90 more at 10 per second
    assert bucket.waited_s > 0


def test_idle_time_refills_the_bucket_but_never_beyond_its_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(5, burst=5, clock=t.clock, sleep=t.sleep)
    t.now += 3600  # an hour idle
    for _ in range(10):
        bucket.acquire()
    assert t.now == pytest.approx(1000.0 + 3600 + 1.0)  # 5 free, then 5 at 5/s


def test_threads_share_one_budget() -> None:
    t = FakeTime()
    bucket = TokenBucket(20, burst=1, clock=t.clock, sleep=lambda s: None)  # nobody sleeps: count the debt

    def take() -> None:
        for _ in range(50):
            bucket.acquire()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # 200 tokens at 20/s with a burst of 1: the last caller was told to wait for the 199 owed, i.e. 9.95 s
    assert bucket._reserve() == pytest.approx(200 / 20)


def test_a_bucket_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32])
def test_the_parts_of_the_id_space_cover_every_payment_id_exactly_once(n: int) -> None:
    from qpay.domain import ids
    from qpay.service.reconcile import pk_range

    ranges = [pk_range((k, n)) for k in range(n)]
    for _ in range(2_000):
        pk = "PAYMENT#" + ids.new_payment_id()
        assert sum(lo <= pk <= hi for lo, hi in ranges) == 1


@pytest.mark.parametrize("part", [(0, 3), (4, 4), (-1, 4), (0, 0)])
def test_a_part_that_does_not_divide_the_id_space_is_refused(part: tuple[int, int]) -> None:
    from qpay.service.reconcile import pk_range

    with pytest.raises(ValueError, match="part"):
        pk_range(part)

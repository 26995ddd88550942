"""The traffic of one seed: orders over the days, what each shopper does, returns, refunds, Dashboard
refunds. Every draw comes from the seed's RNG; nothing here knows what the product will answer.

Refunds (the merchant's and the Dashboard's) are asked for only while traffic runs: the quiet days after it
(``run.QUIET_DAYS``) are longer than a refund can stay pending (3 days at most here) plus Checkout's
webhook retries (about 30 h) plus the sweeper's longest wait between restarts (12 h), so every refund has
settled, and been seen to settle, by the end."""

from __future__ import annotations

import random

from qpay_sim.actors import Actors, Order
from qpay_sim.world import START

DAY = 86_400
BEHAVIOURS = ("pay", "decline", "cancel", "vanish")
BEHAVIOUR_WEIGHTS = (60, 10, 10, 20)


def plan(actors: Actors, *, days: int, per_day: tuple[int, int] = (2, 6)) -> list[Order]:
    w = actors.w
    rng = random.Random(f"{w.seed}/workload")
    orders: list[Order] = []
    until = START + days * DAY  # the last moment a refund is asked for
    # buggify: how often a first create attempt dies inside its Checkout POST (then retried with the same
    # key as a sweep runs: correctness F4's setting), per seed
    die_rate = random.Random(f"{w.seed}/buggify").choice([0.08, 0.15, 0.3])
    for day in range(days):
        for _ in range(rng.randint(*per_day)):
            at = START + day * DAY + rng.randint(0, DAY - 1)
            n = len(orders) + 1
            behaviour = rng.choices(BEHAVIOURS, BEHAVIOUR_WEIGHTS)[0]
            order = Order(reference=f"ORD-{w.seed}-{n:04d}", amount=rng.randint(100, 500_000), behaviour=behaviour)
            orders.append(order)
            actors.orders[order.reference] = order
            _order(actors, rng, order, at, until, die_rate)
    return orders


def _order(actors: Actors, rng: random.Random, order: Order, at: int, until: int, die_rate: float) -> None:
    w = actors.w
    key = f"{order.reference}-k1"
    order.keys.append(key)
    actors.start_create(order, key, 1, delay=at - w.clock.now(), die_in_post=rng.random() < die_rate)
    if rng.random() < 0.05:  # a buggy storefront: a second key for the same live order
        dup = Order(order.reference, order.amount, order.behaviour, order.payment_ids, order.keys)
        actors.start_create(dup, f"{order.reference}-dup", 1, delay=at - w.clock.now() + rng.randint(0, 30))
    if order.behaviour in ("decline", "cancel") and rng.random() < 0.5:
        # the shopper tries again: same order reference, a new key, and pays this time
        again = Order(order.reference, order.amount, "pay", order.payment_ids, order.keys)
        key2 = f"{order.reference}-k2"
        order.keys.append(key2)
        actors.start_create(again, key2, 1, delay=at - w.clock.now() + rng.randint(1800, 7200))
    if order.behaviour != "decline" and rng.random() < 0.45:
        _refunds(actors, rng, order, at, until)
    if rng.random() < 0.05:
        when = at + rng.randint(3600, 5 * DAY)
        if when > until:
            return
        w.sched.at(when, f"dashboard refund {order.reference}", lambda: _dashboard(actors, order, rng.random()),
                   subjects=(order.reference,))  # fmt: skip


def _latest(order: Order) -> str | None:
    return order.payment_ids[-1] if order.payment_ids else None


def _refunds(actors: Actors, rng: random.Random, order: Order, at: int, until: int) -> None:
    w = actors.w
    count = 1 if rng.random() < 0.7 else 2
    when = at
    for i in range(count):
        when += rng.choice([rng.randint(3600, 6 * 3600), rng.randint(6 * 3600, 10 * DAY)])
        partial = count > 1 or rng.random() < 0.5
        amount = max(1, order.amount // rng.randint(2, 5)) if partial else None
        key = f"{order.reference}-r{i + 1}"
        if when > until:
            return

        def request(amount: int | None = amount, key: str = key) -> None:
            pid = _latest(order)
            if pid:
                actors.refund(pid, amount, key)

        w.sched.at(when, f"refund {order.reference} {amount or 'full'} key={key}", request, subjects=(order.reference,))
        if rng.random() < 0.15:  # the merchant's tool retries the same request (same key)
            w.sched.at(when + rng.randint(1, 7200), f"refund retry {order.reference} key={key}", request,
                       subjects=(order.reference,))  # fmt: skip


def _dashboard(actors: Actors, order: Order, fraction: float) -> None:
    pid = _latest(order)
    if pid:
        actors.dashboard_refund(pid, max(0.1, fraction))

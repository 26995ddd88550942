"""The shop's own orders (a real shop keeps them in its database): what was ordered and for how much,
so "Try again with QPay" opens a new payment for the same order at the amount the server decided,
never at one the browser sends. In memory, bounded; never the shopper's national ID."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Order:
    reference: str
    amount: int  # minor units
    description: str
    language: str
    attempts: int = 1


class OrderBook:
    def __init__(self, size: int = 1000) -> None:
        self._orders: OrderedDict[str, Order] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, order: Order) -> None:
        with self._lock:
            self._orders[order.reference] = order
            self._orders.move_to_end(order.reference)
            while len(self._orders) > self._size:
                self._orders.popitem(last=False)

    def get(self, reference: str) -> Order | None:
        with self._lock:
            return self._orders.get(reference)

    def next_attempt(self, reference: str, language: str) -> Order | None:
        """The order with one more payment attempt (each attempt gets its own order token and key)."""
        with self._lock:
            order = self._orders.get(reference)
            if order is None:
                return None
            order = replace(order, attempts=order.attempts + 1, language=language)
            self._orders[reference] = order
            return order

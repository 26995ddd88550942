"""Deadlines and the re-arm schedule for payments Checkout.com still reports as Pending. Pure."""

from __future__ import annotations

import random


def rearm_delay(attempt: int, base_s: int, cap_s: int, rng: random.Random | None = None) -> int:
    """Exponential backoff with full jitter (at least ``base_s``), for the ``attempt``-th re-arm (1-based)."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    r = rng or random
    return max(base_s, int(r.uniform(0, ceiling)))


def should_flag(created_at: int, now: int, max_age_s: int) -> bool:
    """Past the maximum age a still-pending payment is flagged for a human, never silently expired."""
    return now - created_at >= max_age_s

"""Time compression for the local stack (``--time-scale``): the product's timers, the schedules and the
refund workflow's waits, so expiry and reconciliation can be watched in a minute.

Only configuration changes: the product reads its windows from environment variables, the workflow
its waits from ``DefinitionSubstitutions`` and the schedules their rate from the template.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

#: The product's timing settings and their defaults (``functions/qpay/settings.py``; a test pins them).
PRODUCT_TIMERS: dict[str, int] = {
    "EXPIRY_WINDOW_S": 20 * 60,
    "EXPIRY_REARM_BASE_S": 5 * 60,
    "EXPIRY_REARM_CAP_S": 60 * 60,
    "EXPIRY_MAX_AGE_S": 48 * 3600,
    "CREATE_LEASE_S": 30,
    "REFUND_SWEEP_AFTER_S": 15 * 60,  # an open refund nobody owns is restarted by the sweep
    "RECONCILE_OPEN_REFUND_GRACE_S": 6 * 3600,  # reconciliation leaves younger open refunds alone
}
#: Lower bounds after scaling (the product needs ≥ 1 s; a create lease shorter than a local Checkout
#: call would let a retry take over a request still in flight).
TIMER_FLOORS: dict[str, int] = {"CREATE_LEASE_S": 5}
#: Checkout's own QPay payment lifetime in the simulator (simulated seconds; ``SimConfig``'s default).
SIM_PAYMENT_EXPIRY_S = 3600.0

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def scale_seconds(value: float, scale: float, floor: int = 1) -> int:
    return max(floor, math.ceil(value * scale))


def product_env(env: Mapping[str, str], scale: float) -> dict[str, str]:
    """The product's timing variables, scaled (values already in ``env`` — e.g. the template's
    ``EXPIRY_WINDOW_S`` — are the base, else the product's defaults)."""
    out: dict[str, str] = {}
    for name, default in PRODUCT_TIMERS.items():
        try:
            base = float(env.get(name, default))
        except ValueError:
            base = float(default)
        out[name] = str(scale_seconds(base, scale, TIMER_FLOORS.get(name, 1)))
    return out


def workflow_substitutions(substitutions: Mapping[str, Any], scale: float) -> dict[str, Any]:
    """``DefinitionSubstitutions`` with every ``…Seconds`` value scaled (ASL's minimum is 1 s)."""
    out = dict(substitutions)
    for name, value in substitutions.items():
        if name.endswith("Seconds") and isinstance(value, int | float | str) and str(value).isdigit():
            out[name] = scale_seconds(float(value), scale)
    return out


def schedule_period_s(expression: str) -> float:
    """The period of a ``rate(...)`` or ``cron(...)`` schedule expression, in seconds.

    ``cron`` with fixed minutes and hours fires daily (or on the listed days: still treated as daily,
    locally); a ``*`` or list in the hours field, hourly; in the minutes field, every minute.
    """
    text = expression.strip()
    m = _RATE.match(text)
    if m:
        return float(int(m.group(1)) * _UNIT_S[m.group(2).rstrip("s")])
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) >= 2:
            minutes, hours = fields[0], fields[1]
            if not minutes.isdigit():
                return 60.0
            if not hours.isdigit():
                return 3600.0
        return 86400.0
    raise ValueError(f"unsupported schedule expression {expression!r}")

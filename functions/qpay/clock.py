"""Wall-clock seconds, in one place so tests can move time."""

from __future__ import annotations

import time


def now() -> int:
    return int(time.time())

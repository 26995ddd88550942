"""``Schedule``/``ScheduleV2`` events of the template on a local schedule.

Either every schedule fires every ``interval_s`` (whatever its ``rate()``/``cron()`` says), or, with
``time_scale``, each at its own period (``rate(15 minutes)``: 900 s; a daily ``cron``: 86400 s) times
the scale; tests call :meth:`Scheduler.trigger` instead. The event is what the service sends: EventBridge
rules (``Schedule``) send a "Scheduled Event"; EventBridge Scheduler (``ScheduleV2``) sends the
target's ``Input`` (``{}`` when none is set).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from qpay_local.template import ScheduleSource
from qpay_local.timing import schedule_period_s

log = logging.getLogger("qpay_local.schedules")

Invoke = Callable[[str, dict[str, Any]], Any]


def schedule_event(source: ScheduleSource, *, region: str, account_id: str, rule_arn: str = "") -> dict[str, Any]:
    raw_input = source.properties.get("Input")
    if raw_input is not None:
        parsed: dict[str, Any] = json.loads(raw_input) if isinstance(raw_input, str) else dict(raw_input)
        return parsed
    if source.kind == "ScheduleV2":
        return {}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn] if rule_arn else [],
        "detail": {},
    }


class Scheduler:
    def __init__(
        self,
        sources: list[ScheduleSource],
        invoke: Invoke,
        *,
        region: str,
        account_id: str,
        interval_s: float | None = 60.0,
        time_scale: float | None = None,
    ) -> None:
        self.sources = sources
        self.invoke = invoke
        self.region = region
        self.account_id = account_id
        self.interval_s = interval_s
        self.time_scale = time_scale
        self.fired = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = threading.Lock()

    def period_s(self, source: ScheduleSource) -> float | None:
        """Seconds between runs of ``source`` (``None``: never by itself)."""
        if self.time_scale is not None:
            return max(0.05, schedule_period_s(source.expression) * self.time_scale)
        return self.interval_s or None

    def periods(self) -> dict[str, float]:
        """``{"<function>.<event>": seconds}`` for the schedules that fire by themselves."""
        out: dict[str, float] = {}
        for source in self.sources:
            period = self.period_s(source)
            if period:
                out[f"{source.function}.{source.event_name}"] = period
        return out

    def start(self) -> None:
        if not self.periods():
            return
        self._thread = threading.Thread(target=self._run, name="qpay-local-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        now = time.monotonic()
        due: dict[int, float] = {}
        for i, source in enumerate(self.sources):
            period = self.period_s(source)
            if period:
                due[i] = now + period
        while due:
            wait = max(0.0, min(due.values()) - time.monotonic())
            if self._stop.wait(wait):
                return
            now = time.monotonic()
            for i, at in list(due.items()):
                if at > now:
                    continue
                source = self.sources[i]
                try:
                    self._fire(source)
                except Exception:
                    log.exception("scheduled %s failed", source.function)
                period = self.period_s(source) or 0.0
                due[i] = max(at + period, time.monotonic())

    def trigger(self, function: str) -> list[Any]:
        """Run every schedule of ``function`` (logical id) now; returns the handlers' results."""
        results = [self._fire(source) for source in self.sources if source.function == function]
        if not results:
            raise KeyError(f"{function} has no Schedule/ScheduleV2 event in the template")
        return results

    def _fire(self, source: ScheduleSource) -> Any:
        with self._running:  # like one schedule target: no overlapping runs
            event = schedule_event(source, region=self.region, account_id=self.account_id)
            log.info("schedule %s.%s (%s) fires", source.function, source.event_name, source.expression)
            result = self.invoke(source.function, event)
            self.fired += 1
            return result

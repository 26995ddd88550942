"""``Schedule``/``ScheduleV2`` events of the template on a compressed local schedule.

Every schedule fires every ``interval_s`` (default 60 s, whatever its ``rate()``/``cron()`` says);
tests call :meth:`Scheduler.trigger` instead. The event is what the service sends: EventBridge
rules (``Schedule``) send a "Scheduled Event"; EventBridge Scheduler (``ScheduleV2``) sends the
target's ``Input`` (``{}`` when none is set).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from qpay_local.template import ScheduleSource

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
    ) -> None:
        self.sources = sources
        self.invoke = invoke
        self.region = region
        self.account_id = account_id
        self.interval_s = interval_s
        self.fired = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = threading.Lock()

    def start(self) -> None:
        if not self.sources or not self.interval_s:
            return
        self._thread = threading.Thread(target=self._run, name="qpay-local-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        assert self.interval_s
        while not self._stop.wait(self.interval_s):
            for source in self.sources:
                try:
                    self.trigger(source.function)
                except Exception:
                    log.exception("scheduled %s failed", source.function)

    def trigger(self, function: str) -> list[Any]:
        """Run every schedule of ``function`` (logical id) now; returns the handlers' results."""
        results = []
        for source in self.sources:
            if source.function != function:
                continue
            with self._running:  # like one schedule target: no overlapping runs
                event = schedule_event(source, region=self.region, account_id=self.account_id)
                log.info("schedule %s.%s (%s) fires", source.function, source.event_name, source.expression)
                results.append(self.invoke(source.function, event))
                self.fired += 1
        if not results:
            raise KeyError(f"{function} has no Schedule/ScheduleV2 event in the template")
        return results

"""Run one seed: build the world, plan the traffic, run the schedules, check after every step and at
rest, and tell the story of the first violation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qpay_sim import checkers
from qpay_sim.actors import RECONCILE_AT_S, SWEEP_EVERY_S, Actors
from qpay_sim.checkers import StateHistory, Violation
from qpay_sim.facts import checkout_by_ours, checkout_payments, payment_facts
from qpay_sim.scheduler import LambdaKilled, Process
from qpay_sim.trace import Trace
from qpay_sim.workload import DAY, plan
from qpay_sim.world import START, World, world

_QPP = re.compile(r"qpp_[a-z2-7]{26}")
#: a quiet tail after the traffic stops: refunds settle (≤ 3 days here), webhooks finish their ~30 h of
#: retries, the sweeper and two daily reconciliations run
QUIET_DAYS = 5


@dataclass
class Result:
    seed: int
    days: int
    violations: list[Violation]
    story: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


class Run:
    def __init__(self, w: World, *, days: int) -> None:
        self.w = w
        self.days = days
        self.actors = Actors(w)
        self.trace = Trace(START)
        self.history = StateHistory()
        self.violations: list[Violation] = []
        self.answers_checked = 0
        self.steps = 0
        w.sched.on_step = self._on_start
        w.sched.on_finish = self._on_finish
        w.trace_hook = self._on_call
        w.clock.listen(lambda now: self.actors.collect_webhooks())
        w.interpreter.on_transition = lambda ex, what: self.trace.add(
            w.clock.now(), f"sfn {ex.name}", f"{ex.state}: {what}", {ex.input.get("payment_id", ""), ex.name[:30]}
        )

    # -- hooks ----------------------------------------------------------------------------------
    def _label(self) -> str:
        proc = self.w.sched.current
        return proc.label if proc else "-"

    def _on_start(self, label: str, subjects: tuple[str, ...], what: str) -> None:
        self.trace.add(self.w.clock.now(), label, what, set(subjects))

    def _on_call(self, what: str, subjects: tuple[str, ...]) -> None:
        self.trace.add(self.w.clock.now(), self._label(), what, set(subjects))

    def _on_finish(self, proc: Process, error: BaseException | None) -> None:
        self.steps += 1
        touched = set(self.w.touched) | set(proc.subjects)
        outcome = "done" if error is None else f"{'KILLED' if isinstance(error, LambdaKilled) else 'raised'} {error!r}"
        self.trace.add(self.w.clock.now(), proc.label, outcome, touched)
        if error is not None and not isinstance(error, LambdaKilled):
            self.violations.append(Violation("process.no_unhandled_error", proc.label, repr(error)[:300]))
        self.actors.collect_webhooks()
        if self.w.wrote:
            self.w.wrote = False
            self.actors.want_poll()
        if self.w.changed or self.w.recorder.answers[self.answers_checked :]:
            self.w.changed = False
            self.check_step()
        else:
            self.w.touched = set()

    # -- checks ---------------------------------------------------------------------------------
    def check_step(self) -> None:
        touched, self.w.touched = self.w.touched, set()
        cko = None
        answers = self.w.recorder.answers[self.answers_checked :]
        self.answers_checked = len(self.w.recorder.answers)
        for a in answers:
            if a.what != "create":
                continue
            payable = False
            pid = str(a.body.get("id", ""))
            if pid:
                c = self.w.sim.resolve(pid)
                payable = c is not None and c.status.value == "Pending"
            self.violations += checkers.answer_consistent(a.subject, a.status, a.body, payable=payable)
        ids = {t for t in touched if _QPP.fullmatch(t)}
        pays = {t for t in touched if t.startswith("pay_")}
        if pays:
            cko = checkout_by_ours(self.w)
            ids |= {ours for ours, cs in cko.items() if ours and any(c.id in pays for c in cs)}
        if not ids:
            return
        cko = cko if cko is not None else checkout_by_ours(self.w)
        refs: set[str] = set()
        for pid in sorted(ids):
            facts = payment_facts(self.w, pid, cko)
            if facts is None:
                continue
            refs.add(facts.reference)
            for check in checkers.PER_STEP:
                self.violations += check(facts)
            self.violations += self.history.never_backwards(facts)
        if refs:
            every = checkout_payments(self.w)
            for ref in sorted(refs):
                self.violations += checkers.one_capture_per_reference(ref, every)
        self.w.touched = set()

    def check_at_rest(self) -> None:
        from qpay.settings import get_settings  # noqa: PLC0415

        now = self.w.clock.now()
        cko = checkout_by_ours(self.w)
        running = [ex for ex in self.w.interpreter.executions.values() if ex.status == "RUNNING"]
        max_age = get_settings().expiry_max_age_s
        for pid in sorted(p for p in cko if p) + sorted(self._stored_ids() - set(cko)):
            facts = payment_facts(self.w, pid, cko)
            if facts is None:
                continue
            for check in (*checkers.PER_STEP, checkers.refunds_match_checkout):
                self.violations += check(facts)
            self.violations += checkers.final_by_deadline(facts, now=now, max_age_s=max_age)
            self.violations += checkers.one_event_per_transition(facts, self.w.recorder.order_events)
            mine = [ex.name for ex in running if ex.input.get("payment_id") == pid]
            self.violations += checkers.nothing_in_flight(facts, mine)
        every = checkout_payments(self.w)
        for ref in sorted({c.reference for c in every}):
            self.violations += checkers.one_capture_per_reference(ref, every)

    def _stored_ids(self) -> set[str]:
        out: set[str] = set()
        for order in self.actors.orders.values():
            out.update(order.payment_ids)
        return out

    # -- the run --------------------------------------------------------------------------------
    def schedules(self, end: int) -> None:
        sched = self.w.sched

        def sweep() -> None:
            if self.w.clock.now() + SWEEP_EVERY_S <= end:
                sched.after(SWEEP_EVERY_S, "sweep", sweep)
            self.actors.sweep()

        def reconcile() -> None:
            if self.w.clock.now() + DAY <= end:
                sched.after(DAY, "reconcile", reconcile)
            self.actors.reconcile()

        sched.at(START - START % SWEEP_EVERY_S + SWEEP_EVERY_S, "sweep", sweep)
        sched.at(
            START - START % DAY + RECONCILE_AT_S + (DAY if START % DAY > RECONCILE_AT_S else 0), "reconcile", reconcile
        )

    def run(self, *, stop_at_first: bool = True) -> Result:
        end = START + (self.days + QUIET_DAYS) * DAY
        plan(self.actors, days=self.days)
        self.schedules(end)
        horizon = START
        while horizon < end and not (stop_at_first and self.violations):
            horizon = min(end, horizon + 3600)
            self.w.sched.run_until(horizon)
        if not self.violations:
            self.check_at_rest()
        return Result(
            seed=self.w.seed,
            days=self.days,
            violations=self.violations,
            story=self.story() if self.violations else "",
            stats={
                "steps": self.steps,
                "orders": len(self.actors.orders),
                "checkout_payments": len(self.w.sim._payments),
                "refund_workflows": len(self.w.interpreter.executions),
                "webhooks": len(self.w.sim.webhooks.events),
                "faults": f"{self.w.plan}",
                "refund_settle_s": self.w.refund_settle,
                "virtual_end": self.w.clock.now(),
                "metrics": dict(sorted(self.w.metrics.counts.items())),
                "parked_stream_records": len(self.w.recorder.parked),
                "sweeps_skipped": self.actors.sweeps_skipped,
                "trace_digest": self.trace.digest(),
            },
        )

    def identities(self, subject: str) -> set[str]:
        ids = {subject}
        cko = checkout_by_ours(self.w)
        with self.w.sim.lock:
            refs = {p.reference for p in self.w.sim._payments.values() if p.metadata.get("qpay_payment_id") == subject}
        ids |= {r for r in refs if r}
        pids = {subject} if subject.startswith("qpp_") else set()
        for order in self.actors.orders.values():
            if order.reference in ids or subject in order.payment_ids:
                ids.add(order.reference)
                pids.update(order.payment_ids)
        for pid in pids:
            ids.add(pid)
            ids |= {c.id for c in cko.get(pid, [])}
            facts = payment_facts(self.w, pid, cko)
            if facts is not None:
                ids |= {r.id for r in facts.refunds}
        return {i for i in ids if i}

    def story(self) -> str:
        first = self.violations[0]
        ids = self.identities(first.subject)
        return self.trace.render(self.trace.squeeze(self.trace.about(ids)))


def run_seed(seed: int, *, days: int = 30, stop_at_first: bool = True) -> Result:
    with world(seed) as w:
        return Run(w, days=days).run(stop_at_first=stop_at_first)

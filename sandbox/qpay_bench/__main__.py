"""``make bench``: cold start, warm path, round trips against honest floors and a typical-team peer; the
cost model fed by what was measured. Writes bench-results/bench.json and appends to history.jsonl.

Exit code 0 whatever the timings (CI must not depend on them); the last line lists missed targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

from qpay_bench import artefact, clientconfig, cost, costinputs, history, limits, measure, memory, report
from qpay_bench.env import ROOT, TASK_ROOT, BenchEndpoints, function_env
from qpay_bench.measure import Calibration, Result
from qpay_bench.scenarios import COST_SCENARIOS, SCENARIOS
from qpay_bench.tls import make_pki
from qpay_local.template import Template
from tests.support import keys


class Progress:
    """``[k/N]`` on one line that rewrites itself on a terminal, one line per function otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stdout.isatty()
        self.started = time.monotonic()
        self.label = ""

    def step(self, what: str) -> None:
        self.done += 1
        if self.tty:
            print(f"\r  [{self.done:>4}/{self.total}] {self.label:24} {what:24}", end="", flush=True)

    def section(self, label: str) -> None:
        self.label = label

    def line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        prefix = "\r" if self.tty else ""
        print(f"{prefix}  [{self.done:>4}/{self.total}] {elapsed:>5.0f} s  {text:<90}", flush=True)


def data_dir(template: Template) -> str:
    configured = str(template.globals.get("Environment", {}).get("Variables", {}).get("AWS_DATA_PATH", ""))
    if configured.startswith(TASK_ROOT + "/"):
        return configured[len(TASK_ROOT) + 1 :]
    return artefact.DEFAULT_DATA_DIR


def main() -> None:  # noqa: PLR0915 - one flat script
    parser = argparse.ArgumentParser(prog="qpay_bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="cold starts per function and per column")
    parser.add_argument("--warm", type=int, default=300, help="warm invocations per route and per column")
    parser.add_argument("--rounds", type=int, default=3, help="warm processes per column (interleaved)")
    parser.add_argument("--only", action="append", help="a function's logical id (repeatable; skips the cost)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "bench.json")
    parser.add_argument("--history", type=Path, default=ROOT / "bench-results" / "history.jsonl")
    args = parser.parse_args()
    template = Template(ROOT / "template.yaml")
    functions = template.functions()
    print(report.NOTE.format(cores=os.cpu_count(), py=platform.python_version()), flush=True)
    print("building the artefacts (product; peer) — functions/ + requirements, checked-hash pyc …", flush=True)
    product = artefact.build(data_dir=data_dir(template))
    peer = artefact.build_peer(data_dir=data_dir(template))
    aws_data = product.aws_data_path
    print(f"  AWS_DATA_PATH for every column: {aws_data or 'unset (infra/build/trim_endpoints.py not found)'}")
    missing = sorted(set(functions) - {s.function for s in SCENARIOS})
    if missing:
        print(f"  no scenario for {missing}: add one to qpay_bench.scenarios")
    scenarios = [s for s in SCENARIOS if s.function in functions and (not args.only or s.function in args.only)]
    botocore_config = clientconfig.product_config()
    xray_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the peer's X-Ray segments land here, unread
    xray_sink.bind(("127.0.0.1", 0))
    with tempfile.TemporaryDirectory(prefix="qpay-bench-") as tmp:
        pki = make_pki(Path(tmp))

        def env_for(function: str, url: str, sampled: bool) -> dict[str, str]:
            endpoints = BenchEndpoints(url, url, str(pki.ca_file), product.path)
            env = function_env(functions[function], template, endpoints,
                               processing_channel=keys.PROCESSING_CHANNEL_ID, sampled=sampled)  # fmt: skip
            if "AWS_DATA_PATH" not in env and aws_data is not None:
                env["AWS_DATA_PATH"] = str(aws_data)
            env["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{xray_sink.getsockname()[1]}"
            return env

        with_cost = not args.only
        total = measure.child_count(scenarios, args.runs, args.rounds) + (len(COST_SCENARIOS) if with_cost else 0)
        progress = Progress(total)
        timeouts = {name: f.timeout * 1000 for name, f in functions.items()}
        setup = measure.Setup(product.path, peer.path, pki, env_for, timeouts, botocore_config, args.runs,
                              args.warm, args.rounds, progress.step)  # fmt: skip
        print(f"measuring {len(scenarios)} functions: {total} processes "
              f"({args.runs} cold runs per column, {args.warm} warm invocations per column) …", flush=True)  # fmt: skip
        results: list[Result] = []
        for scenario in scenarios:
            progress.section(scenario.function)
            r = measure.measure(setup, scenario, functions[scenario.function].handler)
            results.append(r)
            peer_note = f", peer {r.cold_peer_factor.median:.2f}x/{r.warm_peer_factor.median:.2f}x" if (
                r.cold_peer_factor and r.warm_peer_factor) else ""  # fmt: skip
            progress.line(f"{scenario.function}: cold {r.cold_ratio.median:.2f}x floor, warm "
                          f"{r.warm_ratio.median:.2f}x{peer_note}{'' if r.ok_response else ' BAD RESPONSE'}")  # fmt: skip
        extra: dict[tuple[str, str, str], Calibration] = {}
        if with_cost:
            progress.section("cost-only runs")
            for scenario in COST_SCENARIOS:
                extra[(scenario.function, scenario.fixture, scenario.state)] = measure.calibrate_only(
                    setup, scenario, functions[scenario.function].handler
                )
            progress.line(f"cost-only calibrations: {len(extra)}")
    xray_sink.close()
    estimate = None
    lines: list[str] = []
    cost_doc: dict[str, object] = {}
    if with_cost:
        paths, usages = costinputs.measured_paths(results, extra, template)
        api = template.only("AWS::Serverless::HttpApi")[1]["Properties"]
        reservoir, rate = costinputs.sampling_rule(template)
        base = cost.Assumptions()
        records_per_payment = sum(p.outbox_records * n for p, n in cost.mix(paths, base) if p.name != "outbox")
        outbox_rate = base.payments_per_s * records_per_payment
        assumptions = cost.Assumptions(
            access_log_bytes=cost.access_log_bytes(str(api.get("AccessLogSettings", {}).get("Format", ""))),
            sfn_transitions_per_refund=costinputs.asl_transitions(template),
            rule_reservoir=reservoir,
            rule_rate=rate,
            passthrough_tracing=costinputs.passthrough_tracing(template),
            outbox_records_per_invocation=costinputs.outbox_records_per_invocation(template, outbox_rate),
            reconcile_checks_per_payment=costinputs.reconcile_checks_per_payment(template),
            reconcile_concurrency=costinputs.reconcile_concurrency(),
            memory_mb_by_function=costinputs.memory_by_function(template),
        )
        estimate = cost.estimate(paths, assumptions)
        sens = cost.sensitivity(paths, assumptions)
        levers = cost.sensitivity(paths, assumptions, cost.LEVERS)
        fixed = costinputs.fixed_costs(template, results)
        lines += ["", *report.cost_table(paths, usages, estimate, sens, assumptions, fixed, levers)]
        sizings = memory_sizings(paths, assumptions, template)
        per_day: dict[str, float] = {}
        for path, n in cost.mix(paths, assumptions):
            per_day[path.function] = per_day.get(path.function, 0.0) + n * assumptions.payments_per_day
        lines += ["", "MEMORY per function (qpay_bench.memory: CPU on a full core x 1769/MB + modelled waits; "
                  "confirm with AWS Lambda Power Tuning, docs/cost.md)",
                  *memory.report(sizings, cost.prices(assumptions.region)["lambda_gb_s"], per_day)]  # fmt: skip
        rows = limits.limits(paths, usages, assumptions, stage_rps=costinputs.stage_rate(template),
                             index_keys=costinputs.index_hash_keys(template))  # fmt: skip
        lines += ["", *report.capacity_table(rows)]
        cost_doc = {"items": estimate.items, "detail": estimate.detail, "total": estimate.total,
                    "dominant": estimate.dominant[0], "assumptions": assumptions.__dict__,
                    "sensitivity": dict(sens), "levers": dict(levers), "paths": {k: v.__dict__ for k, v in paths.items()},
                    "fixed_per_month": fixed.monthly(),
                    "memory": [{"function": z.demand.function, "template_mb": z.current_mb, "rule_mb": z.chosen_mb,
                                "cpu_share_512": z.cpu_share(512), "rss_mb": z.demand.rss_mb, "why": z.reason}
                               for z in sizings],
                    "capacity": [{**r.__dict__, "binds_at": r.binds_at} for r in rows]}  # fmt: skip
    met, checked, missed = report.summary(results, estimate.total if estimate else None)
    runs = history.append(args.history, history.entry(results, estimate.total if estimate else None))
    print()
    for block in (report.cold_table(results), report.warm_table(results), report.trips_table(results),
                  report.imports_table(results)):  # fmt: skip
        print("\n".join(block))
        print()
    if lines:
        print("\n".join(lines[1:]))
        print()
    print("\n".join(history.side_by_side(runs)))
    if setup.problems:
        print("\nPROBLEMS (stray output from measured processes):")
        for p in setup.problems[:10]:
            print(f"  {p}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"note": report.NOTE.format(cores=os.cpu_count(), py=platform.python_version()),
           "aws_data_path": str(aws_data) if aws_data else None, "botocore_config": botocore_config,
           "results": [report.result_json(r) for r in results], "cost_per_1000_payments": cost_doc,
           "targets": {"met": met, "checked": checked, "missed": missed}, "problems": setup.problems}  # fmt: skip
    args.out.write_text(json.dumps(doc, indent=2, default=str))
    print(f"\nwritten to {args.out} (history: {args.history})")
    print(f"TARGETS: {met} of {checked} met" + (f"; missed: {'; '.join(missed)}" if missed else ""))


def memory_sizings(paths: dict[str, cost.PathUse], a: cost.Assumptions, template: Template) -> list[memory.Sizing]:
    functions = template.functions()
    rss = {name: memory.peak_rss_mb(fn.handler, template.root) for name, fn in functions.items()}
    return [memory.choose(d, functions[d.function].memory) for d in memory.demands(paths, a, template, rss)]


if __name__ == "__main__":
    main()

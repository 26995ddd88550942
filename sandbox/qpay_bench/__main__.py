"""``make bench``: cold start, warm path, round trips and the cost model; writes bench-results/bench.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from qpay_bench import artefact, coldstart, cost, report, warm

ROOT = Path(__file__).resolve().parents[2]
COST_NAMES = {
    "CreatePaymentFunction": "create",
    "PaymentReturnFunction": "return",
    "WebhookFunction": "webhook",
    "GetPaymentFunction": "get",
    "RefundRequestFunction": "refund",
    "RefundTaskFunction": "refund-task",
}


def measured_paths(results: list[warm.WarmResult]) -> dict[str, cost.Path]:
    defaults = {p.name: p for p in cost.default_paths({})}
    out = {}
    for w in results:
        name = COST_NAMES.get(w.function)
        if name is None:
            continue
        trips = w.round_trips
        out[name] = cost.Path(
            name=name,
            function=w.function,
            per_payment=defaults[name].per_payment,
            cpu_ms=w.median_us / 1000,
            ddb_calls=sum(v for k, v in trips.items() if k.startswith("dynamodb.")),
            checkout_calls=trips.get("checkout", 0),
            sfn_calls=sum(v for k, v in trips.items() if k.startswith("stepfunctions.")),
            wru=w.wru,
            rru=w.rru,
            api=defaults[name].api,
            refund=defaults[name].refund,
            log_bytes=w.log_bytes,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="qpay_bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="cold starts per function (and as many floors)")
    parser.add_argument("--warm", type=int, default=300, help="warm invocations per route")
    parser.add_argument("--only", action="append", help="a function's logical id (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "bench.json")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    print("building the artefact (functions/ + requirements + boto3, checked-hash pyc) …", flush=True)
    build_dir = artefact.build()
    only = set(args.only) if args.only else None
    cold = coldstart.run_all(build_dir, args.runs, only)
    handlers = {k: v for k, v in coldstart.handlers_from_template().items() if not only or k in only}
    warm_results = warm.run_all(handlers, args.warm)
    paths = cost.default_paths(measured_paths(warm_results))
    estimate = cost.estimate(paths)
    sens = cost.sensitivity(paths)
    py = platform.python_version()
    print()
    print(report.table(cold, warm_results, estimate, sens, py))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.as_json(cold, warm_results, estimate, sens, py), indent=2, default=str))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

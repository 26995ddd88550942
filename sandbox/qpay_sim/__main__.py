"""``python -m qpay_sim [--seed N | --seeds N] [--days D]``: run seeds, print a verdict per seed and, for a
failing one, its one-line reproduction and the shortest trace. Exit status 1 when any seed fails."""

from __future__ import annotations

import argparse
import sys
import time

#: The fixed seeds CI runs (tests/simulation/test_seeds.py runs the same list) -> their virtual days: the
#: seeds that caught a finding on the code before its fix (428866c), for the days they needed there, and
#: one month (docs/simulation.md, "Findings").
CI_SEEDS: dict[int, int] = {
    0: 8,  # fidelity F-1 / correctness F1: a refund POSTed again after Checkout forgot its key, 24.0 h later
    12: 8,  # fidelity F-2: a refund POST accepted then answered 503, retried: a second refund 0 s later
    8: 8,  # correctness F4: a same-key retry answered 201 Expired with a payable link
    3: 30,  # a month of traffic and its quiet days
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make simulate", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--seed", type=int, help="replay exactly this seed (make simulate SEED=123)")
    group.add_argument("--seeds", type=int, help="run seeds 0..N-1 (make simulate SEEDS=1000)")
    parser.add_argument("--days", type=int, help="virtual days of traffic (default 30; the CI seeds: their own)")
    parser.add_argument("--keep-going", action="store_true", help="do not stop a seed at its first violation")
    args = parser.parse_args(argv)

    from qpay_sim.run import run_seed  # noqa: PLC0415 - after argument errors, before the heavy imports

    chosen = [args.seed] if args.seed is not None else list(range(args.seeds)) if args.seeds else None
    runs = [(s, args.days or 30) for s in chosen] if chosen is not None else [
        (s, args.days or d) for s, d in CI_SEEDS.items()
    ]  # fmt: skip
    failed = 0
    for seed, days in runs:
        started = time.perf_counter()
        result = run_seed(seed, days=days, stop_at_first=not args.keep_going)
        took = time.perf_counter() - started
        if result.ok:
            stats = result.stats
            print(
                f"seed {seed}: ok ({stats['steps']} steps, {stats['orders']} orders, trace {stats['trace_digest']}, {took:.1f} s)"
            )
            continue
        failed += 1
        first = result.violations[0]
        print(f"seed {seed}: FAILED {first.checker} on {first.subject}: {first.message}")
        print(f"  reproduce: make simulate SEED={seed}" + (f" DAYS={days}" if days != 30 else ""))
        print(f"  world: {result.stats['faults']}, refunds settle in {result.stats['refund_settle_s']} s")
        others = list(dict.fromkeys(v for v in result.violations[1:] if v != first))
        for other in others[:4]:
            print(f"  also: {other.checker} on {other.subject}: {other.message}")
        print("  the steps that touched it:")
        print(result.story)
        print(f"  ({took:.1f} s)")
    print(f"{len(runs) - failed}/{len(runs)} seeds ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m qpay_sim [--seed N | --seeds N] [--days D]``: run seeds, print a verdict per seed and, for a
failing one, its one-line reproduction and the shortest trace. Exit status 1 when any seed fails."""

from __future__ import annotations

import argparse
import sys
import time

#: The fixed seeds CI runs (tests/simulation/test_seeds.py runs the same list) and their virtual days.
CI_SEEDS = (2, 3)  # seeds 0 and 1: docs/simulation.md, "Open findings"
CI_DAYS = 30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make simulate", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--seed", type=int, help="replay exactly this seed (make simulate SEED=123)")
    group.add_argument("--seeds", type=int, help="run seeds 0..N-1 (make simulate SEEDS=1000)")
    parser.add_argument("--days", type=int, default=30, help="virtual days of traffic (default 30)")
    parser.add_argument("--keep-going", action="store_true", help="do not stop a seed at its first violation")
    args = parser.parse_args(argv)

    from qpay_sim.run import run_seed  # noqa: PLC0415 - after argument errors, before the heavy imports

    seeds = [args.seed] if args.seed is not None else list(range(args.seeds)) if args.seeds else list(CI_SEEDS)
    failed = 0
    for seed in seeds:
        started = time.perf_counter()
        result = run_seed(seed, days=args.days, stop_at_first=not args.keep_going)
        took = time.perf_counter() - started
        if result.ok:
            print(f"seed {seed}: ok ({result.stats['steps']} steps, {result.stats['orders']} orders, {took:.1f} s)")
            continue
        failed += 1
        first = result.violations[0]
        print(f"seed {seed}: FAILED {first.checker} on {first.subject}: {first.message}")
        print(f"  reproduce: make simulate SEED={seed}" + (f" DAYS={args.days}" if args.days != 30 else ""))
        print(f"  world: {result.stats['faults']}, refunds settle in {result.stats['refund_settle_s']} s")
        others = list(dict.fromkeys(v for v in result.violations[1:] if v != first))
        for other in others[:4]:
            print(f"  also: {other.checker} on {other.subject}: {other.message}")
        print("  the steps that touched it:")
        print(result.story)
        print(f"  ({took:.1f} s)")
    print(f"{len(seeds) - failed}/{len(seeds)} seeds ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

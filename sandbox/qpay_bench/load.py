"""``make load``: an opt-in big run through the local stack (this machine, not AWS). Stops by itself.

Targets on this machine with DynamoDB Local: at least 20 payments/s, POST /payments p99 at most 2 s,
every invariant held. Exit code 1 only when an invariant breaks (timings never fail it).
"""

from __future__ import annotations

import argparse

from qpay_bench.loadrun import run

TARGET_RATE = 20.0
TARGET_CREATE_P99_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="qpay_bench.load", description=__doc__)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--deadline", type=float, default=150.0, help="seconds before it stops starting payments")
    parser.add_argument("--moto", action="store_true", help="moto instead of DynamoDB Local (slow past a few hundred)")
    args = parser.parse_args()
    print("this measures this machine (2 cores shared with other work), not AWS …", flush=True)
    result = run(args.payments, args.clients, deadline_s=args.deadline, ddb_local=not args.moto, workers=args.workers)
    print(result.summary())
    p99 = result.percentile("POST /payments", 0.99)
    checks = [
        (f"≥ {TARGET_RATE:.0f} payments/s", result.rate >= TARGET_RATE, f"{result.rate:.1f}/s"),
        (f"create p99 ≤ {TARGET_CREATE_P99_S:.0f} s", p99 <= TARGET_CREATE_P99_S, f"{p99:.2f} s"),
        ("invariants", not result.problems, "held" if not result.problems else "BROKEN"),
    ]
    print("TARGETS: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'} ({value})" for name, ok, value in checks))
    raise SystemExit(1 if result.problems else 0)


if __name__ == "__main__":
    main()

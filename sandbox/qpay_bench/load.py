"""``make load``: an opt-in big run through the local stack (this machine, not AWS). Stops by itself."""

from __future__ import annotations

import argparse

from qpay_bench.loadrun import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="qpay_bench.load")
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds before it stops starting payments")
    parser.add_argument(
        "--moto", action="store_true", help="moto instead of DynamoDB Local (slow past a few hundred payments)"
    )
    args = parser.parse_args()
    print("this measures this machine (2 cores, everything in one process), not AWS", flush=True)
    result = run(args.payments, args.clients, deadline_s=args.deadline, ddb_local=not args.moto)
    print(result.summary())
    raise SystemExit(1 if result.problems else 0)


if __name__ == "__main__":
    main()

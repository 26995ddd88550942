"""``python -m qpay_local run [--api-port 3000] [--sim-port 3001] [--moto-port 0] [--ddb-local] [--time-scale X]``

Starts the whole local stack, prints its URLs, keys and credentials, and runs until Ctrl-C.
A busy port: a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from qpay_local.httpserver import PortInUseError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qpay_local", description="QPay backend, locally and offline")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the API, embedded AWS and the Checkout.com simulator")
    run.add_argument("--api-port", type=int, default=3000)
    run.add_argument("--sim-port", type=int, default=3001)
    run.add_argument("--moto-port", type=int, default=0)
    run.add_argument("--ddb-local", action="store_true", help="DynamoDB Local (Java) instead of moto for the table")
    run.add_argument("--time-scale", type=float, default=1.0, help="real seconds per simulated second (e.g. 0.01)")
    run.add_argument("--template", default=None, help="path to template.yaml")
    run.add_argument("--region", default="us-east-1")
    run.add_argument("--ttl-interval", type=float, default=1.0, help="seconds between TTL sweeps (moto)")
    run.add_argument("--schedule-interval", type=float, default=60.0, help="seconds between scheduled runs (0: off)")
    run.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="override a template parameter (repeatable)"
    )
    run.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="override a handler env var")
    run.add_argument("-v", "--verbose", action="store_true")
    return parser


def _pairs(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    for noisy in ("werkzeug", "botocore", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from qpay_local.stack import DEFAULT_TEMPLATE, LocalStack  # noqa: PLC0415

    kwargs: dict[str, Any] = {
        "api_port": args.api_port,
        "sim_port": args.sim_port,
        "moto_port": args.moto_port,
        "ddb_local": args.ddb_local,
        "time_scale": args.time_scale,
        "template": args.template or DEFAULT_TEMPLATE,
        "region": args.region,
        "ttl_interval_s": args.ttl_interval,
        "schedule_interval_s": args.schedule_interval or None,
        "parameters": _pairs(args.param),
        "overrides": _pairs(args.env),
    }
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = LocalStack(**kwargs)
    try:
        stack.start()
    except PortInUseError as exc:
        print(f"qpay_local: {exc.strerror}; pick another with --api-port/--sim-port/--moto-port", file=sys.stderr)
        return 2
    from demo_shop import for_stack  # noqa: PLC0415 - the demo storefront, served at /shop

    stack.mount("/shop", for_stack(stack))
    try:
        _print_banner(stack)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…", file=sys.stderr)
        stack.stop()
        print("stopped", file=sys.stderr)
    return 0


def _print_banner(stack: Any) -> None:
    info = stack.describe()
    width = max(len(k) for k in info)
    lines = ["", "QPay local stack is up (Ctrl-C to stop)", ""]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in info.items()]
    lines += ["", f"  Demo storefront: {stack.api_url}/shop"]
    c = stack.credentials
    lines += [
        "",
        "  Refund (IAM/SigV4) example:",
        f"    curl --aws-sigv4 'aws:amz:{c.region}:execute-api' --user '{c.access_key_id}:{c.secret_access_key}' \\",
        f"      -H 'content-type: application/json' -d '{{\"amount\": 100}}' {stack.api_url}/payments/<id>/refunds",
        "",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())

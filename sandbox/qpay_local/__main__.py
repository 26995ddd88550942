"""``python -m qpay_local run [options]`` (``make run``) and ``python -m qpay_local trigger …`` (``make trigger``).

``run`` starts the whole local stack, prints its URLs, keys and example commands, and runs until Ctrl-C.
The keys and AWS credentials are kept in ``.local-state/keys.json`` across restarts. A busy port, a
missing prerequisite or an unusable keys file: one line and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qpay_local.httpserver import PortInUseError

EXAMPLES = """examples:
  make run                                              API :3000, simulator :3001, keys kept in .local-state/
  make run ARGS="--time-scale 0.01"                     expiry, sweeps and refund waits 100x faster
  make run ARGS="--storefront-url http://localhost:5173/checkout/done"
                                                        send shoppers back to your storefront (and allow its origin)
  make run ARGS="--cors-origin http://localhost:8080"   let a browser app on another origin call the API
  make run ARGS="--forward-events-to http://localhost:8080/hooks"
                                                        POST every order event to your endpoint, signed
  make run ARGS="--param StorefrontOrigins=https://a.test,https://b.test --env LOG_LEVEL=DEBUG"
  make run ARGS="--fresh-keys"                          new keys and AWS credentials (then kept)
"""


def run_parser() -> argparse.ArgumentParser:
    run = argparse.ArgumentParser(
        prog="python -m qpay_local run",
        description="Start the QPay backend locally and offline: API, embedded AWS, Checkout.com simulator.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    net = run.add_argument_group("ports")
    net.add_argument("--api-port", type=int, default=3000, help="the HTTP API (default 3000; 0: any free port)")
    net.add_argument("--sim-port", type=int, default=3001, help="the Checkout.com simulator (default 3001)")
    net.add_argument("--moto-port", type=int, default=None, help="embedded AWS (default: API port + 2, i.e. 3002)")
    keys = run.add_argument_group("keys")
    keys.add_argument("--state-dir", type=Path, default=None, help="local state folder (default .local-state/)")
    keys.add_argument("--keys-file", type=Path, default=None, help="keys and AWS credentials file (default keys.json)")
    keys.add_argument("--fresh-keys", action="store_true", help="rotate the keys and AWS credentials, then keep them")
    keys.add_argument(
        "--fresh",
        action="store_true",
        help="start with no payments: forget the ones kept from the last run (they are kept by default)",
    )
    store = run.add_argument_group("your storefront")
    store.add_argument(
        "--storefront-url",
        metavar="URL",
        help="where QPay sends the shopper back (StorefrontSuccessUrl and StorefrontFailureUrl); its origin is allowed by CORS",
    )
    store.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="one more origin allowed by CORS (repeatable, or comma-separated)",
    )
    store.add_argument(
        "--forward-events-to",
        metavar="URL",
        help="POST each order event (EventBridge envelope) to URL, signed per Standard Webhooks "
        "(webhook-id, webhook-timestamp, webhook-signature), with retries",
    )
    store.add_argument(
        "--events-batching-window",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long order events wait to be batched before they are published (deployed: the template's "
        "10 s; here by default 10 s times --time-scale; 0: at once)",
    )
    store.add_argument(
        "--merchant-name",
        default="Souq Demo",
        help="the merchant shown on the hosted QPay page (default: the demo shop's)",
    )
    behaviour = run.add_argument_group("behaviour")
    behaviour.add_argument("--ddb-local", action="store_true", help="DynamoDB Local (Java) instead of moto")
    behaviour.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="real seconds per simulated second: 0.01 makes the 20-min expiry window 12 s (timers, schedules, "
        "refund waits, Checkout's payment expiry)",
    )
    behaviour.add_argument(
        "--schedule-interval",
        type=float,
        default=None,
        help="run every schedule every N seconds instead of its own rate times the time scale (0: never)",
    )
    behaviour.add_argument("--ttl-interval", type=float, default=1.0, help="seconds between TTL sweeps (moto)")
    behaviour.add_argument("--log-format", choices=("pretty", "json"), default="pretty", help="handler logs")
    behaviour.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="override a template parameter (repeatable)"
    )
    behaviour.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="override a handler env var (repeatable)"
    )
    behaviour.add_argument("--template", default=None, help="path to template.yaml")
    behaviour.add_argument("--region", default="us-east-1")
    behaviour.add_argument("-v", "--verbose", action="store_true", help="debug logs of the local stack itself")
    return run


def top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qpay_local", description="QPay backend, locally and offline")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,trigger}")
    sub.add_parser("run", help="start the local stack (python -m qpay_local run --help)", add_help=False)
    sub.add_parser("trigger", help="act on a payment: pay, decline, expire… (… trigger --help)", add_help=False)
    return parser


def pairs(items: Sequence[str], parser: argparse.ArgumentParser, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"{flag} expects NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def origin_of(url: str, parser: argparse.ArgumentParser, flag: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parser.error(f"{flag} expects an absolute http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "run":
        return run_main(args[1:])
    if args and args[0] == "trigger":
        from qpay_local.trigger import main as trigger_main  # noqa: PLC0415

        return trigger_main(args[1:])
    top_parser().parse_args(args)  # prints the usage (or help) and exits
    return 2


def _stack_kwargs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    from qpay_local.stack import DEFAULT_TEMPLATE  # noqa: PLC0415

    parameters = pairs(args.param, parser, "--param")
    origins = [o for item in args.cors_origin for o in item.split(",") if o.strip()]
    for origin in origins:
        origin_of(origin, parser, "--cors-origin")
    if args.storefront_url:
        origins.append(origin_of(args.storefront_url, parser, "--storefront-url"))
        parameters.setdefault("StorefrontSuccessUrl", args.storefront_url)
        parameters.setdefault("StorefrontFailureUrl", args.storefront_url)
    if args.forward_events_to:
        origin_of(args.forward_events_to, parser, "--forward-events-to")
    moto_port = args.moto_port if args.moto_port is not None else (args.api_port + 2 if args.api_port else 0)
    if args.time_scale <= 0:
        parser.error("--time-scale must be > 0")
    schedule: float | str | None = "template" if args.schedule_interval is None else (args.schedule_interval or None)
    return {
        "api_port": args.api_port,
        "sim_port": args.sim_port,
        "moto_port": moto_port,
        "ddb_local": args.ddb_local,
        "ddb_local_port": args.api_port + 3 if args.api_port and args.ddb_local else 0,
        "time_scale": args.time_scale,
        "compress_time": True,
        "template": args.template or DEFAULT_TEMPLATE,
        "region": args.region,
        "ttl_interval_s": args.ttl_interval,
        "schedule_interval_s": schedule,
        "parameters": parameters,
        "overrides": pairs(args.env, parser, "--env"),
        "extra_cors_origins": origins,
        "forward_events_to": args.forward_events_to,
        "events_batching_window_s": args.events_batching_window,
        "merchant_name": args.merchant_name,
        "log_format": args.log_format,
        "capture_metric_lines": True,
        "dashboard": True,
    }


def saved_dir(state_dir: Path, fresh: bool) -> Path:
    """Where the payments are kept across restarts (``--fresh`` forgets them first)."""
    from qpay_local.persistence import Persistence  # noqa: PLC0415

    saved = state_dir / "saved"
    if fresh:
        Persistence(saved).clear()
    return saved


def run_main(argv: Sequence[str]) -> int:
    parser = run_parser()
    args = parser.parse_args(argv)
    kwargs = _stack_kwargs(args, parser)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "botocore", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from qpay_local import state  # noqa: PLC0415
    from qpay_local.ddb_local import DynamoDBLocalMissing, missing  # noqa: PLC0415

    if args.ddb_local and (problem := missing()):
        print(f"qpay_local: {problem}", file=sys.stderr)
        return 2
    state_dir = Path(args.state_dir or state.DEFAULT_STATE_DIR)
    keys_file = state.keys_path(state_dir, args.keys_file)
    try:
        stored = state.load_or_create_keys(keys_file, region=args.region, fresh=args.fresh_keys)
    except state.StateError as exc:
        print(f"qpay_local: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"qpay_local: cannot write {keys_file}: {exc.strerror}", file=sys.stderr)
        return 2
    from qpay_local.banner import BannerOptions, render  # noqa: PLC0415
    from qpay_local.stack import LocalStack  # noqa: PLC0415

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = LocalStack(
        keys=stored.keys, credentials=stored.credentials, persist_dir=saved_dir(keys_file.parent, args.fresh), **kwargs
    )
    try:
        stack.start()
    except PortInUseError as exc:
        print(f"qpay_local: {exc.strerror}; pick another with --api-port/--sim-port/--moto-port", file=sys.stderr)
        return 2
    except DynamoDBLocalMissing as exc:
        print(f"qpay_local: {exc}", file=sys.stderr)
        return 2
    from demo_shop import for_stack  # noqa: PLC0415 - the demo storefront, served at /shop

    stack.mount("/shop", for_stack(stack))
    folder = keys_file.parent
    try:
        env_path = state.write_env_local(folder, stack.storefront_env())
        state.write_runtime(folder, stack.runtime_info())
        options = BannerOptions(
            keys_path=keys_file,
            keys_origin=stored.origin,
            env_path=env_path,
            forward_to=args.forward_events_to,
            log_format=args.log_format,
        )
        print(render(stack, options), flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…", file=sys.stderr, flush=True)
        state.remove_runtime(folder)
        stack.stop()
        print("stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

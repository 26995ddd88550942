"""``python -m cko_sim``: run the simulator as a local server until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from cko_sim.config import SimConfig
from cko_sim.server import PortInUseError
from cko_sim.simulator import Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cko_sim", description="Checkout.com QPay simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--webhook-url", action="append", default=[], help="repeatable")
    parser.add_argument("--webhook-key", default=SimConfig.webhook_signing_key, help="Cko-Signature HMAC key")
    parser.add_argument("--webhook-authorization", default=None, help="value of the webhook Authorization header")
    parser.add_argument("--secret-key", default=None, help="accept only this secret key (default: any sk_sbox_ key)")
    parser.add_argument("--require-processing-channel", action="store_true")
    parser.add_argument("--time-scale", type=float, default=1.0, help="real seconds per simulated delay second")
    parser.add_argument("--payment-expiry-seconds", type=float, default=3600.0)
    parser.add_argument("--public-base-url", default=None, help="base URL to print in _links")
    parser.add_argument("--merchant-name", default=SimConfig.merchant_name, help="shown on the hosted QPay page")
    parser.add_argument(
        "--expired-status",
        choices=("Expired", "Voided"),
        default=SimConfig.expired_payment_status,
        help="status GET /payments/{id} reports for an abandoned payment",
    )
    parser.add_argument(
        "--refund-webhook-reference",
        choices=("refund", "payment"),
        default=SimConfig.refund_webhook_reference,
        help="data.reference on refund outcome webhooks: the refund's own, or the payment's",
    )
    parser.add_argument(
        "--refund-pending-shape",
        choices=("workflows", "reporting-and-insights"),
        default=SimConfig.refund_pending_shape,
        help="payment_refund_pending body: without reference/metadata (workflows) or with both",
    )
    parser.add_argument(
        "--webhook-workers",
        type=int,
        default=SimConfig.webhook_workers,
        help="threads delivering webhooks; above 1, deliveries overlap as Checkout's can",
    )
    parser.add_argument(
        "--webhook-overlap",
        type=float,
        default=SimConfig.webhook_overlap_probability,
        help="probability (0..1) that an event is delivered twice at the same instant",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    config = SimConfig(
        webhook_urls=list(args.webhook_url),
        webhook_signing_key=args.webhook_key,
        webhook_authorization=args.webhook_authorization,
        secret_key=args.secret_key,
        require_processing_channel=args.require_processing_channel,
        time_scale=args.time_scale,
        payment_expiry_seconds=args.payment_expiry_seconds if args.payment_expiry_seconds > 0 else None,
        public_base_url=args.public_base_url,
        seed=args.seed,
        merchant_name=args.merchant_name,
        expired_payment_status=args.expired_status,
        refund_webhook_reference=args.refund_webhook_reference,
        refund_pending_shape=args.refund_pending_shape,
        webhook_workers=max(1, args.webhook_workers),
        webhook_overlap_probability=args.webhook_overlap,
    )
    sim = Simulator(config)
    try:
        base = sim.start(args.host, args.port)
    except PortInUseError:
        print(f"error: {args.host}:{args.port} is already in use; pick another --port", file=sys.stderr)
        return 2
    print(f"Checkout.com QPay simulator on {base}", flush=True)
    print(f"  API:          {base}/payments  (Authorization: sk_sbox_... or Bearer sk_sbox_...)", flush=True)
    print(f"  QPay page:    {base}/qpay-external/redirect-to-qpay?pun=...", flush=True)
    print(f"  Admin:        {base}/_sim  (index of the admin routes)", flush=True)
    print(f"  Webhooks to:  {', '.join(config.webhook_urls) or '(none)'}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)

    done = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

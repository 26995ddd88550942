"""``make trigger ARGS="ACTION [PAYMENT] [ARG]"`` — like ``stripe trigger``, for the running local stack.

PAYMENT is our id (``qpp_…``), the merchant's order reference, or Checkout's id (``pay_…``). Our id
and the reference are resolved to Checkout's id by reading the payment from the stack's own table
(endpoint and credentials from the local state folder); then the simulator's ``/_sim`` admin routes do
the rest, exactly as a shopper, Checkout.com or its Dashboard would.

  create [--amount N] [--reference R] [--pay|--decline]
                                   a new payment through the API (the merchant key), then optionally paid
                                   or declined on the QPay page, like `stripe trigger payment_intent.created`
  pay PAYMENT                      pay on the QPay page with the test card → Captured
  decline PAYMENT                  pay with a card the issuer declines → Declined
  cancel PAYMENT                   the shopper cancels on the QPay page → Canceled
  expire PAYMENT                   Checkout.com expires the unpaid payment → Expired
  dashboard-refund PAYMENT [AMOUNT]
                                   a refund made in Checkout's Dashboard (minor units; default: the rest)
  drop-next-webhook                Checkout.com never delivers its next webhook
  duplicate-next-webhook           … delivers its next webhook twice
  delay-next-webhook SECONDS       … delivers its next webhook SECONDS (simulated) later
  fail-next-checkout-call [STATUS] [--count N]
                                   Checkout.com's next N (default 1) API answers: 503 (default), 502, 500,
                                   429, timeout, close, accept_then_timeout, accept_then_close or slow. The
                                   API retries its calls to Checkout (3 attempts): one failure is absorbed
  checkout-outage [STATUS]         the next 6 answers fail: the next create fails, and the storefront shows
                                   its outage page ("QPay is not reachable right now")

A failure prints one line and exits 1 (2 for a usage error); a refusal of the simulator names its
reason code (e.g. payment_not_pending for paying a payment twice).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from qpay_local import state
from qpay_local.banner import example_create_body

DECLINING_CARD = "4000000000000002"  # anything but the documented test cards declines
OUTAGE_CALLS = 6  # more than the create's 3 attempts and the storefront's retry of it
FAULTS = ("503", "502", "500", "429", "timeout", "close", "accept_then_timeout", "accept_then_close", "slow")


class TriggerError(Exception):
    """A one-line reason the trigger failed."""


@dataclass(frozen=True)
class Target:
    cko_id: str
    payment_id: str | None
    reference: str | None
    amount: int | None

    def label(self) -> str:
        ours = self.payment_id or "?"
        ref = f", order {self.reference}" if self.reference else ""
        return f"{ours} ({self.cko_id}{ref})"


@dataclass(frozen=True)
class Stack:
    sim_url: str
    dynamodb_endpoint: str
    table_name: str
    region: str
    keys_file: Path
    api_url: str = ""


def load_stack(state_dir: Path, keys_file: Path | None) -> Stack:
    info = state.read_runtime(state_dir)
    try:
        return Stack(
            sim_url=str(info["sim_url"]).rstrip("/"),
            dynamodb_endpoint=str(info["dynamodb_endpoint"]),
            table_name=str(info["table_name"]),
            region=str(info.get("region", "us-east-1")),
            keys_file=state.keys_path(state_dir, keys_file),
            api_url=str(info.get("api_url", "")).rstrip("/"),
        )
    except KeyError as exc:
        raise state.StateError(f"{state_dir / state.RUNTIME_FILE} lacks {exc}: restart `make run`") from None


class PaymentLookup:
    """Our id or reference → Checkout's id, from the local stack's table (not from the simulator)."""

    def __init__(self, stack: Stack) -> None:
        from qpay_local.moto_world import client  # noqa: PLC0415 - boto3 only when a lookup is needed

        _, creds = state.read_keys(stack.keys_file, stack.region)
        self._ddb = client("dynamodb", stack.dynamodb_endpoint, creds)
        self._table = stack.table_name

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            item = self._ddb.get_item(
                TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
            ).get("Item")
        except Exception as exc:
            raise TriggerError(f"cannot read the local table {self._table}: {exc}") from None
        return item if isinstance(item, dict) else None

    def resolve(self, ident: str) -> Target:
        if ident.startswith("pay_"):
            return Target(ident, None, None, None)
        payment_id = ident if ident.startswith("qpp_") else None
        reference = None
        if payment_id is None:
            guard = self._get(f"REFERENCE#{ident}", "REFERENCE")
            if guard is None or "payment_id" not in guard:
                raise TriggerError(f"no payment with id or order reference {ident!r} in the local stack")
            payment_id, reference = guard["payment_id"]["S"], ident
        item = self._get(f"PAYMENT#{payment_id}", "PAYMENT")
        if item is None:
            raise TriggerError(f"no payment {payment_id} in the local stack's table {self._table}")
        cko = item.get("cko_id", {}).get("S")
        if not cko:
            raise TriggerError(f"payment {payment_id} has no Checkout.com payment (its create did not complete)")
        amount = item.get("amount", {}).get("N")
        return Target(cko, payment_id, reference or item.get("reference", {}).get("S"), int(amount) if amount else None)


class Simulator:
    def __init__(self, base_url: str, http: httpx.Client) -> None:
        self.base_url = base_url
        self.http = http

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/_sim{path}"
        try:
            response = self.http.post(url, json=body or {})
        except httpx.HTTPError as exc:
            raise TriggerError(f"the simulator at {self.base_url} did not answer ({exc}); is `make run` up?") from None
        try:
            doc = response.json()
        except ValueError:
            doc = {}
        if response.status_code >= 400:
            raise TriggerError(
                f"the simulator refused POST /_sim{path}: {response.status_code} {reason_of(doc)}".strip()
            )
        return doc if isinstance(doc, dict) else {}


def reason_of(doc: Any) -> str:
    """The reason a refusal gives: Checkout's ``error_codes`` (the simulator answers in its shape)."""
    if not isinstance(doc, dict):
        return ""
    codes = doc.get("error_codes")
    if isinstance(codes, list) and codes:
        return ", ".join(str(c) for c in codes)
    return str(doc.get("error") or doc.get("message") or "")


Action = Callable[[Simulator, list[str], Callable[[str], Target]], str]


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise ValueError(usage)
    return args[0]


def _pay(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    target = resolve(_one(args, "pay PAYMENT"))
    doc = sim.post(f"/payments/{target.cko_id}/pay", {})
    return f"paid {target.label()}: Checkout.com says {doc.get('status')}; its webhooks follow"


def _decline(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    target = resolve(_one(args, "decline PAYMENT"))
    doc = sim.post(f"/payments/{target.cko_id}/pay", {"card": DECLINING_CARD, "pin": "000000"})
    return f"declined {target.label()}: Checkout.com says {doc.get('status')}; its webhook follows"


def _cancel(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    target = resolve(_one(args, "cancel PAYMENT"))
    sim.post(f"/payments/{target.cko_id}/cancel")
    return f"canceled {target.label()} on the QPay page; payment_canceled follows"


def _expire(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    target = resolve(_one(args, "expire PAYMENT"))
    sim.post(f"/payments/{target.cko_id}/expire")
    return f"expired {target.label()} at Checkout.com; payment_expired follows"


def _dashboard_refund(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    if len(args) not in (1, 2):
        raise ValueError("dashboard-refund PAYMENT [AMOUNT]")
    target = resolve(args[0])
    body: dict[str, Any] = {}
    if len(args) == 2:
        if not args[1].isdigit() or int(args[1]) <= 0:
            raise ValueError("AMOUNT is a positive integer in minor units (12500 = QAR 125.00)")
        body["amount"] = int(args[1])
    doc = sim.post(f"/payments/{target.cko_id}/dashboard-refund", body)
    what = f"{body['amount']} (minor units)" if body else "the rest"
    return f"refunded {what} of {target.label()} in Checkout's Dashboard: action {doc.get('action_id')}"


def _webhook(route: str, verb: str) -> Action:
    def act(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
        if args:
            raise ValueError(f"{route.replace('-next', '-next-webhook')} takes no argument")
        sim.post(f"/webhooks/{route}", {"n": 1})
        return f"Checkout.com's next webhook will be {verb}"

    return act


def _delay(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    raw = _one(args, "delay-next-webhook SECONDS")
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError("SECONDS is a number") from None
    if seconds < 0:
        raise ValueError("SECONDS is a number ≥ 0")
    sim.post("/webhooks/delay-next", {"n": 1, "seconds": seconds})
    return f"Checkout.com's next webhook will be delivered {seconds:g} s (simulated) late"


def _fail_next(sim: Simulator, status: str, count: int) -> None:
    if status not in FAULTS:
        raise ValueError(f"STATUS is one of {', '.join(FAULTS)}")
    sim.post("/faults/fail-next", {"n": count, "status": int(status) if status.isdigit() else status})


def _fail(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    p = argparse.ArgumentParser(prog="fail-next-checkout-call", add_help=False, exit_on_error=False)
    p.add_argument("status", nargs="?", default="503")
    p.add_argument("--count", type=int, default=1)
    try:
        opts = p.parse_args(args)
    except (argparse.ArgumentError, SystemExit):
        raise ValueError("fail-next-checkout-call [STATUS] [--count N]") from None
    if opts.count < 1:
        raise ValueError("N is a positive integer")
    _fail_next(sim, opts.status, opts.count)
    calls = "call" if opts.count == 1 else f"{opts.count} calls"
    note = "" if opts.count >= 3 else " (the API retries: 3 attempts per call; checkout-outage shows the outage page)"
    return f"Checkout.com's next API {calls} will fail with {opts.status}{note}"


def _outage(sim: Simulator, args: list[str], resolve: Callable[[str], Target]) -> str:
    if len(args) > 1:
        raise ValueError("checkout-outage [STATUS]")
    status = args[0] if args else "503"
    _fail_next(sim, status, OUTAGE_CALLS)
    return (
        f"Checkout.com's next {OUTAGE_CALLS} API calls will fail with {status}: the next create answers "
        "503 checkout_unavailable and the storefront shows its outage page"
    )


def _create(stack: Stack, sim: Simulator, args: list[str]) -> str:
    p = argparse.ArgumentParser(prog="create", add_help=False, exit_on_error=False)
    p.add_argument("--amount", type=int, default=12500)
    p.add_argument("--reference", default=None)
    then = p.add_mutually_exclusive_group()
    then.add_argument("--pay", action="store_true")
    then.add_argument("--decline", action="store_true")
    try:
        opts = p.parse_args(args)
    except (argparse.ArgumentError, SystemExit):
        raise ValueError("create [--amount N] [--reference R] [--pay|--decline]") from None
    if opts.amount <= 0:
        raise ValueError("N is a positive integer in minor units (12500 = QAR 125.00)")
    if not stack.api_url:
        raise TriggerError("the stack's API URL is not in stack.json: restart `make run`")
    keys, _ = state.read_keys(stack.keys_file, stack.region)
    reference = opts.reference or "ORD-T" + secrets.token_hex(4).upper()
    body = {**example_create_body(reference), "amount": opts.amount}
    headers = {"Authorization": f"Bearer {keys.merchant_api_key}", "Idempotency-Key": f"trigger-{reference}"}
    try:
        response = sim.http.post(f"{stack.api_url}/payments", json=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise TriggerError(f"the API at {stack.api_url} did not answer ({exc}); is `make run` up?") from None
    doc = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 201:
        code = doc.get("code") if isinstance(doc, dict) else None
        raise TriggerError(f"the API refused the create: {response.status_code} {code or ''}".strip())
    payment_id = str(doc["id"])
    line = f"created {payment_id} (order {reference}, {opts.amount} minor units): {doc.get('redirect_url')}"
    if opts.pay or opts.decline:
        card = {} if opts.pay else {"card": DECLINING_CARD, "pin": "000000"}
        paid = sim.post(f"/payments/{payment_id}/pay", card)  # the simulator finds it by our id (metadata)
        line += f"\n{'paid' if opts.pay else 'declined'} on the QPay page: Checkout.com says {paid.get('status')}"
    return line


ACTIONS: dict[str, Action] = {
    "pay": _pay,
    "decline": _decline,
    "cancel": _cancel,
    "expire": _expire,
    "dashboard-refund": _dashboard_refund,
    "drop-next-webhook": _webhook("drop-next", "dropped (never delivered)"),
    "duplicate-next-webhook": _webhook("duplicate-next", "delivered twice"),
    "delay-next-webhook": _delay,
    "fail-next-checkout-call": _fail,
    "checkout-outage": _outage,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m qpay_local.trigger",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(__doc__ or "").split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=sorted([*ACTIONS, "create"]), metavar="ACTION")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="PAYMENT|ARG")
    p.add_argument("--state-dir", type=Path, default=None, help="the stack's state folder (default .local-state/)")
    p.add_argument("--keys-file", type=Path, default=None, help="if `make run` used --keys-file")
    return p


def _common_first(argv: Sequence[str]) -> list[str]:
    """``--state-dir`` / ``--keys-file`` moved before the action, wherever they were given: what follows
    the action is the action's own (``create --pay``, ``fail-next-checkout-call 503 --count 3``)."""
    common: list[str] = []
    rest: list[str] = []
    items = list(argv)
    while items:
        item = items.pop(0)
        if item in ("--state-dir", "--keys-file") and items:
            common += [item, items.pop(0)]
        elif item.startswith(("--state-dir=", "--keys-file=")):
            common.append(item)
        else:
            rest.append(item)
    return common + rest


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(_common_first(sys.argv[1:] if argv is None else argv))
    state_dir = Path(args.state_dir or state.DEFAULT_STATE_DIR)
    lookup: PaymentLookup | None = None

    def resolve(ident: str) -> Target:
        nonlocal lookup
        if lookup is None:
            lookup = PaymentLookup(stack)
        return lookup.resolve(ident)

    try:
        stack = load_stack(state_dir, args.keys_file)
        with httpx.Client(timeout=10) as http:
            sim = Simulator(stack.sim_url, http)
            if args.action == "create":
                message = _create(stack, sim, list(args.args))
            else:
                message = ACTIONS[args.action](sim, list(args.args), resolve)
    except ValueError as exc:
        p.print_usage(sys.stderr)
        print(f"trigger: {args.action}: {exc}", file=sys.stderr)
        return 2
    except (TriggerError, state.StateError) as exc:
        print(f"trigger: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())

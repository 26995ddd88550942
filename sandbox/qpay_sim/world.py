"""The world of one seed: the product on moto, the simulator, the refund workflow, on one clock.

Product code runs unchanged and does not know it is simulated: it is configured through environment
variables and its ports (``qpay.deps``): the Checkout client is the real ``CheckoutClient`` whose pool
reaches the simulator in process (``qpay_sim.transport``), Step Functions is the ASL interpreter, the
store is the real ``qpay.adapters.store`` on moto's DynamoDB, ``qpay.clock.now`` reads the virtual clock.
Lambda's event sources (the table's stream with the template's filters, DynamoDB TTL, schedules) are
played by the harness, as the local stack plays them (``../shared/local-aws.md``).
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import yaml
from moto import mock_aws

import cko_sim.ids
from cko_sim import Clock, SimConfig, Simulator
from qpay_sim.asl import Interpreter, StepFunctionsDouble
from qpay_sim.lambdas import Context
from qpay_sim.scheduler import Scheduler, VirtualClock
from qpay_sim.transport import FaultPlan, SimPool

ROOT = Path(__file__).resolve().parents[2]
REGION = "me-central-1"
TABLE = "qpay-sim-payments"
SECRET_ID = "qpay-sim-keys"  # noqa: S105 - a name
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:qpay-sim-refunds"
REFUND_TASK_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:qpay-sim-refund-task"
START = 1_800_000_000  # 2027-01-15T08:00:00Z, a fixed origin: same seed, same timestamps

# Synthetic keys (never real secrets): the Checkout key has the sandbox format the simulator accepts.
CHECKOUT_SECRET_KEY = "sk_sbox_qpaysimulationaaaaaaaaaaaaa"  # noqa: S105 - synthetic
WEBHOOK_SIGNING_KEY = "whsec_qpay_sim_signing_key_0001"
MERCHANT_API_KEY = "mk_sim_qpay_merchant_key_0001_synthetic"
SERVER_KEY = "srv_sim_qpay_server_key_0001_synthetic_value"
PROCESSING_CHANNEL_ID = "pc_qpaysimchannelaaaaaaaaaaaa"

_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
_SUBJECT = re.compile(r"(qpp_[a-z2-7]{26}|qrf_[a-z2-7]{26}|pay_[a-z2-7]{26})")


def env_for() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": TABLE,
        "SECRET_ID": SECRET_ID,
        "CHECKOUT_BASE_URL": "http://cko-sim.invalid",
        "PROCESSING_CHANNEL_ID": PROCESSING_CHANNEL_ID,
        "PUBLIC_BASE_URL": "https://pay.qpay-sim.example",
        "STOREFRONT_SUCCESS_URL": "https://shop.qpay-sim.example/orders/thanks",
        "STOREFRONT_FAILURE_URL": "https://shop.qpay-sim.example/orders/retry",
        "REFUND_STATE_MACHINE_ARN": STATE_MACHINE_ARN,
        "ORDER_EVENTS_BUS_NAME": "qpay-sim-orders",
        "RECONCILE_CONCURRENCY": "1",  # threads would make the schedule depend on the OS
        "AWS_LAMBDA_LOG_LEVEL": "CRITICAL",
        "POWERTOOLS_METRICS_NAMESPACE": "QPaySim",
        "POWERTOOLS_SERVICE_NAME": "qpay",
    }


def secret_doc() -> dict[str, Any]:
    return {
        "checkout_secret_key": CHECKOUT_SECRET_KEY,
        "webhook_signing_keys": [WEBHOOK_SIGNING_KEY],
        "merchant_api_keys": [MERCHANT_API_KEY],
        "order_token_keys": {"otk-sim": "otk_sim_qpay_order_token_key_0001_synthetic"},
        "server_key": SERVER_KEY,
    }


class SeededSecrets:
    """Stands in for the ``secrets`` module where the product draws ids (``qpay.domain.ids``: payment and
    refund ids; ``qpay.service.payments``: a create's attempt token): drawn from the seed, so a seed's
    payments have the same ids, hence the same index shards and the same sweep order, every run."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def token_bytes(self, n: int | None = None) -> bytes:
        return self._rng.randbytes(32 if n is None else n)

    def token_hex(self, n: int | None = None) -> str:
        return self.token_bytes(n).hex()

    def token_urlsafe(self, n: int | None = None) -> str:
        import base64  # noqa: PLC0415

        return base64.urlsafe_b64encode(self.token_bytes(n)).rstrip(b"=").decode()


class _InlineExecutor(Executor):
    """The store's shard readers run inline: a thread pool would let the OS order the reads."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class _CfnLoader(yaml.SafeLoader):
    """template.yaml with its short-form intrinsics (``!Ref x`` → ``{"Ref": "x"}``, ``!GetAtt a.b`` →
    ``{"Fn::GetAtt": "a.b"}``, …): enough to read properties, and far cheaper than importing cfn-lint."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def template() -> dict[str, Any]:
    return dict(yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_CfnLoader))  # noqa: S506 - a SafeLoader subclass


def substitutions() -> dict[str, Any]:
    """template.yaml's DefinitionSubstitutions for the refund state machine, the numbers as deployed
    (RefundOutcomeTimeoutSeconds at its Default), the function ARN a placeholder the invoker knows."""
    doc = template()
    subs = dict(doc["Resources"]["RefundStateMachine"]["Properties"]["DefinitionSubstitutions"])
    params = doc.get("Parameters", {})
    out: dict[str, Any] = {}
    for key, value in subs.items():
        if isinstance(value, dict) and "Ref" in value:
            out[key] = params[value["Ref"]]["Default"]
        elif isinstance(value, dict):
            out[key] = REFUND_TASK_ARN
        else:
            out[key] = value
    return out


def refund_definition() -> dict[str, Any]:
    from qpay_local.sfn import render_definition  # noqa: PLC0415

    return dict(json.loads(render_definition(ROOT / "infra" / "refund.asl.yaml", substitutions())))


@dataclass
class Answer:
    """What a caller was told (the orders checker reads these)."""

    at: int
    what: str
    subject: str
    status: int
    body: dict[str, Any]


@dataclass
class Recorder:
    """Everything observable, for the checkers and the trace."""

    answers: list[Answer] = field(default_factory=list)
    order_events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (time, process, error) unexpected
    parked: list[tuple[int, str, dict[str, Any], str]] = field(default_factory=list)  # on-failure queues


class _EmptyHttp:
    status_code = 200
    headers: dict[str, str] = {}


class MetricSink:
    """Stands in for stdout while a seed runs: the product's EMF metric lines are counted by name (the
    alarms' view), anything else is dropped (log lines are already at CRITICAL)."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.startswith('{"_aws"'):
                doc = json.loads(line)
                for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    self.counts[m["Name"]] = self.counts.get(m["Name"], 0) + float(doc[m["Name"]][0])
        return len(text)

    def flush(self) -> None:
        return None


class EventsDouble:
    """EventBridge ``put_events``: every entry accepted and kept."""

    def __init__(self, sink: list[dict[str, Any]], clock: VirtualClock) -> None:
        self.sink = sink
        self.clock = clock

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        out = []
        for entry in Entries:
            self.sink.append({**entry, "at": self.clock.now(), "Detail": json.loads(entry["Detail"])})
            out.append({"EventId": f"eb-{len(self.sink)}"})
        return {"FailedEntryCount": 0, "Entries": out}


class World:
    """Build with :func:`world`; everything lives inside one ``mock_aws`` and one environment."""

    def __init__(self, seed: int, *, plan: FaultPlan | None = None, refund_settle: tuple[int, int] | None = None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = VirtualClock(START)
        self.sched = Scheduler(self.clock, random.Random(f"{seed}/schedule"), kill_probability=0.02)
        self.recorder = Recorder()
        self.plan = plan or FaultPlan.draw(seed)
        settle = refund_settle or random.Random(f"{seed}/settle").choice(
            [(60, 3600), (600, 6 * 3600), (3600, 3 * 86400)]
        )
        self.refund_settle = settle
        self.touched: set[str] = set()
        self.wrote = False  # a DynamoDB write since the stream was last polled
        self.stream_dirty = False  # a DynamoDB write since the stream was last read
        self.metrics = MetricSink()
        self.changed = False  # something that could break an invariant happened in this step
        #: index name -> index partition key -> item keys in it, from the stream's images (actors._mirror)
        self.index_mirror: dict[str, dict[str, set[str]]] = {"pending-by-deadline": {}, "open-refunds": {}}

        cko_sim.ids.use_random(random.Random(f"{seed}/cko-ids"))
        self.sim_clock = Clock(start=datetime.fromtimestamp(START, UTC), frozen=True)
        self.sim = Simulator(
            SimConfig(
                webhook_urls=[],
                webhook_signing_key=WEBHOOK_SIGNING_KEY,
                secret_key=CHECKOUT_SECRET_KEY,
                require_processing_channel=True,
                time_scale=1.0,
                timeout_hold_seconds=0.0,
                seed=seed,
                refund_settle_seconds=float(settle[0]),
                refund_settle_max_seconds=float(settle[1]),
                background_ticker=False,
                public_base_url="https://cko-sim.example",
            ),
            clock=self.sim_clock,
        )
        self.clock.listen(lambda now: self.sim_clock.set(datetime.fromtimestamp(now, UTC)))

        from qpay.adapters.checkout import CheckoutClient  # noqa: PLC0415

        self.pool = SimPool(
            self.sim, random.Random(f"{seed}/transport"), self.plan, self.sched.point, random.Random(f"{seed}/latency")
        )
        self.pool.on_request = self._on_checkout
        self.checkout = CheckoutClient(
            "http://cko-sim.invalid",
            lambda: CHECKOUT_SECRET_KEY,
            sleep=lambda s: self.sched.point("backoff", round(s)),
            rng=random.Random(f"{seed}/client"),
            clock=lambda: float(self.clock.now()),
        )
        self.checkout._pool = self.pool  # type: ignore[assignment] # the transport double
        self.interpreter = Interpreter(
            refund_definition(), invoke=self._invoke, timers=self.sched, rng=random.Random(f"{seed}/asl")
        )
        self.sfn = StepFunctionsDouble(self.interpreter, STATE_MACHINE_ARN)
        self.events = EventsDouble(self.recorder.order_events, self.clock)
        self.ddb: Any = None
        self.streams: Any = None

    # -- wiring ----------------------------------------------------------------------------------
    def _invoke(self, function: str, payload: dict[str, Any]) -> Any:
        if function != REFUND_TASK_ARN:
            raise KeyError(function)
        from qpay.handlers import refund_tasks  # noqa: PLC0415

        self._touch(json.dumps(payload))
        return refund_tasks.handler(payload, Context())

    def _on_checkout(self, method: str, url: str, result: int | str) -> None:
        self._touch(url)
        if method != "GET":
            self.changed = True
        if self.trace_hook:
            self.trace_hook(f"checkout {method} {url} -> {result}", tuple(_SUBJECT.findall(url)))

    trace_hook: Callable[[str, tuple[str, ...]], None] | None = None

    def note(self, what: str, subjects: tuple[str, ...]) -> None:
        """A line in the trace for the running process."""
        if self.trace_hook:
            self.trace_hook(what, subjects)

    def _touch(self, text: str) -> None:
        self.touched.update(_SUBJECT.findall(text))

    def _ddb_hook(self, params: Any = None, model: Any = None, **_: Any) -> Any:
        self._touch(repr(params))
        name = getattr(model, "name", "")
        if name in _WRITES:
            self.wrote = self.changed = self.stream_dirty = True
        self.sched.point(f"dynamodb {name}")
        if name == "Query" and isinstance(params, dict):  # params: the serialised request
            body = params.get("body") or b"{}"
            request = json.loads(body.decode() if isinstance(body, bytes) else body)
            index = request.get("IndexName")
            key = request.get("ExpressionAttributeValues", {}).get(":a", {}).get("S")
            if index in self.index_mirror and key is not None and not self.index_mirror[index].get(key):
                # a shard the stream's images say is empty: answered here, as an (eventually consistent)
                # GSI read may answer, instead of one more ~4 ms moto round trip (64 per sweep run)
                return _EmptyHttp(), {"Items": [], "Count": 0, "ScannedCount": 0}
        return None

    def setup_aws(self) -> None:
        from qpay import clock as product_clock  # noqa: PLC0415
        from qpay import deps  # noqa: PLC0415
        from qpay.adapters.store import indexes  # noqa: PLC0415
        from qpay_local.moto_world import create_table_params  # noqa: PLC0415

        indexes._POOL[:] = [_InlineExecutor()]  # type: ignore[list-item]
        props = template()["Resources"]["PaymentsTable"]["Properties"]
        self.ttl_attribute = str(props["TimeToLiveSpecification"]["AttributeName"])
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.ddb.create_table(**create_table_params(TABLE, props))
        self.ddb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": self.ttl_attribute}
        )
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=SECRET_ID, SecretString=json.dumps(secret_doc())
        )
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        deps.reset()
        product = deps.dynamodb()
        product.meta.events.register("before-call.dynamodb.*", self._ddb_hook)
        deps.checkout = lambda: self.checkout  # type: ignore[assignment]
        deps.stepfunctions = lambda: self.sfn
        deps.events = lambda: self.events
        from qpay.service.returns import RecentChecks  # noqa: PLC0415

        recent = RecentChecks(clock=lambda: float(self.clock.now()))  # its window in virtual seconds
        deps.recent_returns = lambda: recent  # type: ignore[assignment]
        product_clock.now = self.clock.now  # the product reads time here only


@contextmanager
def world(seed: int, **kwargs: Any) -> Iterator[World]:
    """A world, its environment and its moto, torn down afterwards (the product's caches too)."""
    import contextlib  # noqa: PLC0415

    from qpay import clock as product_clock  # noqa: PLC0415
    from qpay import deps  # noqa: PLC0415
    from qpay.domain import ids as product_ids  # noqa: PLC0415
    from qpay.service import payments as product_payments  # noqa: PLC0415

    saved_env = dict(os.environ)
    saved = (deps.checkout, deps.stepfunctions, deps.events, product_clock.now, deps.recent_returns)
    drawers, attr = (product_ids, product_payments), "secrets"  # the modules that draw ids, and their name
    saved_secrets, saved_random = [getattr(m, attr) for m in drawers], random.getstate()
    os.environ.update(env_for())
    drawn = SeededSecrets(random.Random(f"{seed}/product-ids"))
    for m in drawers:
        setattr(m, attr, drawn)
    random.seed(f"{seed}/global")  # the product's unseeded draws (the expiry re-arm's jitter) follow the seed
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):
            w = World(seed, **kwargs)
            w.setup_aws()
            with contextlib.redirect_stdout(w.metrics):
                yield w
    finally:
        deps.checkout, deps.stepfunctions, deps.events, product_clock.now, deps.recent_returns = saved
        for m, original in zip(drawers, saved_secrets, strict=True):
            setattr(m, attr, original)
        random.setstate(saved_random)
        from qpay.adapters.store import indexes  # noqa: PLC0415

        indexes._POOL.clear()
        deps.reset()
        cko_sim.ids.use_random(None)
        os.environ.clear()
        os.environ.update(saved_env)

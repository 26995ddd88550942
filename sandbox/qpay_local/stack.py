"""``LocalStack``: the whole backend on one machine, in-process, from ``template.yaml``.

HTTP API (werkzeug) → handlers; moto (DynamoDB + Streams, Secrets Manager, SQS, Lambda, Step Functions)
or DynamoDB Local for the table; a stream poller per DynamoDB event source; a TTL sweeper; schedules;
the Checkout.com simulator. The handlers only see configuration (environment variables).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TextIO

from botocore.credentials import Credentials

from qpay_local import moto_atomic, provision, report, sfn, timing, wiring
from qpay_local.activity import Activity
from qpay_local.apigw import Gateway
from qpay_local.dashboard import Dashboard
from qpay_local.ddb_local import DynamoDBLocal
from qpay_local.environment import ProcessEnv, handler_env
from qpay_local.eventbus import EventTap
from qpay_local.forwarder import EventForwarder
from qpay_local.httpserver import ServerThread, check_free
from qpay_local.ids import ACCOUNT_ID, rand
from qpay_local.keys import LocalCredentials, LocalKeys
from qpay_local.logs import LogFormat, LogRouter
from qpay_local.moto_world import MotoServer, client
from qpay_local.persistence import Persistence
from qpay_local.runtime import LocalFunction, Runtime
from qpay_local.schedules import Scheduler
from qpay_local.streams import StreamConsumer
from qpay_local.template import Resolver, Template
from qpay_local.ttl import TtlMarks, TtlSweeper

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cko_sim import Simulator

log = logging.getLogger("qpay_local")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
__all__ = ["ACCOUNT_ID", "DEFAULT_TEMPLATE", "REPO_ROOT", "LocalStack", "StackKeys", "running"]

#: Step Functions waits when time is not compressed from the template's values (ASL's minimum is 1 s).
DEFAULT_SFN_SUBSTITUTIONS: dict[str, Any] = {
    "RetryIntervalSeconds": 1,
    "RetryMaxDelaySeconds": 2,
    "OutcomeTimeoutSeconds": 5,
    "ReconcileIntervalSeconds": 1,
    "ReconcileMaxDelaySeconds": 2,
}


@dataclass(frozen=True)
class StackKeys:
    webhook_signing_key: str
    merchant_api_key: str
    order_token_key: str
    checkout_secret_key: str
    order_token_kid: str = ""
    server_key: str = ""
    forwarding_secret: str = ""


class LocalStack:
    """Context manager: ``with LocalStack(api_port=0, sim_port=0, time_scale=0.001) as stack: ...``.

    ``parameters`` override the template's parameters, ``overrides`` override environment variables of
    the handlers (applied last), ``sfn_substitutions`` override ``DefinitionSubstitutions``.
    ``extra_apps`` mounts WSGI apps on the API server by path prefix (e.g. ``{"/shop": app}``).
    """

    def __init__(  # noqa: PLR0915 - one assignment per option
        self,
        *,
        api_port: int = 3000,
        sim_port: int = 3001,
        moto_port: int = 0,
        host: str = "127.0.0.1",
        ddb_local: bool = False,
        time_scale: float = 1.0,
        template: Path | str = DEFAULT_TEMPLATE,
        region: str = "us-east-1",
        stack_name: str = "qpay-local",
        parameters: Mapping[str, Any] | None = None,
        overrides: Mapping[str, str] | None = None,
        sfn_substitutions: Mapping[str, Any] | None = None,
        extra_apps: Mapping[str, WSGIApplication] | None = None,
        ttl_interval_s: float = 1.0,
        schedule_interval_s: float | Literal["template"] | None = 60.0,
        stream_poll_interval_s: float = 0.05,
        start_simulator: bool = True,
        require_processing_channel: bool = True,
        keys: LocalKeys | None = None,
        credentials: LocalCredentials | None = None,
        ddb_local_port: int = 0,
        extra_cors_origins: Iterable[str] = (),
        compress_time: bool = False,
        forward_events_to: str | None = None,
        events_batching_window_s: float | None = None,
        log_format: LogFormat | None = None,
        log_stream: TextIO | None = None,
        capture_metric_lines: bool = False,
        dashboard: bool = False,
        persist_dir: Path | None = None,
        merchant_name: str = "Souq Demo",  # the demo storefront's name, on the hosted QPay page too
    ) -> None:
        self.template = Template(template)
        self.host = host
        self.api_port = api_port
        self.sim_port = sim_port
        self.moto_port = moto_port
        self.use_ddb_local = ddb_local
        self.time_scale = time_scale
        self.region = region
        self.stack_name = stack_name
        self.parameter_overrides = dict(parameters or {})
        self.env_overrides = dict(overrides or {})
        self.compress_time = compress_time
        self.forward_events_to = forward_events_to
        # the order-events publisher's batching window: None = the template's, times time_scale
        self.events_batching_window_s = events_batching_window_s
        self.events_batching: tuple[float, float] | None = None  # (the template's, in effect here) seconds
        # keep the tables' items and the simulator's payments across restarts (make run: .local-state/)
        self.persistence = Persistence(persist_dir) if persist_dir is not None else None
        self.merchant_name = merchant_name
        self._restored = False
        # None: the product's logging as it is; "pretty"/"json": through a LogRouter (make run)
        self.log_router = LogRouter(log_format, log_stream) if log_format else None
        self.capture_metric_lines = capture_metric_lines  # pretty: condense the EMF lines on stdout too
        # the local dashboard at /_local (and the stream reader and gateway log behind it)
        self.activity: Activity | None = Activity() if dashboard else None
        self.activity_reader: StreamConsumer | None = None
        self.forwarder: EventForwarder | None = None
        # compress_time: the template's waits times ``time_scale``; otherwise fixed short waits
        base_subs = {} if compress_time else DEFAULT_SFN_SUBSTITUTIONS
        self.sfn_substitutions = {**base_subs, **dict(sfn_substitutions or {})}
        self.effective_sfn_substitutions: dict[str, Any] = {}
        self.extra_apps = dict(extra_apps or {})
        self.ttl_interval_s = ttl_interval_s
        self.schedule_interval_s = schedule_interval_s
        self.stream_poll_interval_s = stream_poll_interval_s
        self.start_simulator = start_simulator
        self.require_processing_channel = require_processing_channel

        self.local_keys = keys or LocalKeys.generate()
        self.local_credentials = credentials or LocalCredentials.generate(region)
        self.ddb_local_port = ddb_local_port
        self.extra_cors_origins = [o.strip().rstrip("/") for o in extra_cors_origins if o.strip()]
        self.api_id = rand(10)
        self.env: dict[str, str] = {}
        self.table_name = ""
        self.table_names: dict[str, str] = {}
        self.stream_arns: dict[str, str] = {}
        self.queue_urls: dict[str, str] = {}
        self.state_machine_arns: dict[str, str] = {}
        self.secret_arns: dict[str, str] = {}
        self.event_bus_names: dict[str, str] = {}
        self.topic_arns: dict[str, str] = {}
        self.event_tap: EventTap | None = None
        self.runtime: Runtime | None = None
        self.gateway: Gateway | None = None
        self.consumers: list[StreamConsumer] = []
        self.sweeper: TtlSweeper | None = None
        self.scheduler: Scheduler | None = None
        self.sim: Simulator | None = None
        self.moto: MotoServer | None = None
        self.ddb_local_server: DynamoDBLocal | None = None
        self.ttl_marks = TtlMarks()
        self._api: ServerThread | None = None
        self._process_env = ProcessEnv()
        self.functions: dict[str, LocalFunction] = {}
        self.resolver: Resolver | None = None  # the template's Refs/GetAtts → this stack's names and ARNs
        self._uninstall_sfn: Any = None
        self._clients: dict[str, Any] = {}
        self._started = False
        self._lock = threading.Lock()

    # -- public properties -------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        assert self._api is not None, "start() first"
        return self._api.base_url

    @property
    def sim_url(self) -> str:
        return self.sim.base_url if self.sim is not None else ""

    @property
    def aws_endpoint(self) -> str:
        assert self.moto is not None
        return self.moto.url

    @property
    def dynamodb_endpoint(self) -> str:
        return self.ddb_local_server.url if self.ddb_local_server is not None else self.aws_endpoint

    @property
    def credentials(self) -> LocalCredentials:
        return self.local_credentials

    @property
    def botocore_credentials(self) -> Credentials:
        c = self.local_credentials
        return Credentials(c.access_key_id, c.secret_access_key)

    @property
    def keys(self) -> StackKeys:
        k = self.local_keys
        return StackKeys(
            k.webhook_signing_key,
            k.merchant_api_key,
            k.order_token_key,
            k.checkout_secret_key,
            order_token_kid=k.order_token_kid,
            server_key=k.server_key,
            forwarding_secret=k.forwarding_secret,
        )

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    def client(self, service: str) -> Any:
        """A boto3 client for the local AWS (DynamoDB and its streams go to DynamoDB Local if used)."""
        with self._lock:
            if service not in self._clients:
                endpoint = self.dynamodb_endpoint if service in ("dynamodb", "dynamodbstreams") else self.aws_endpoint
                self._clients[service] = client(service, endpoint, self.local_credentials)
            return self._clients[service]

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """The origins the API's CORS configuration allows (from ``StorefrontOrigins``)."""
        cors = self.gateway.config.cors if self.gateway is not None else None
        return cors.allow_origins if cors is not None else ()

    def mount(self, prefix: str, app: WSGIApplication) -> None:
        """Serve another WSGI app under ``prefix`` on the API server (before or after start)."""
        self.extra_apps[prefix] = app
        if self.gateway is not None:
            self.gateway.mount(prefix, app)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        if self._started:
            raise RuntimeError("already started")
        self._started = True
        check_free(self.host, self.api_port, "the API")
        if self.start_simulator:
            check_free(self.host, self.sim_port, "the Checkout.com simulator")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        started = time.perf_counter()
        self._api = ServerThread(self._wsgi, self.host, self.api_port, "api")
        moto_atomic.install()  # DynamoDB applies conditional writes one at a time; moto must too
        self.moto = MotoServer(self.moto_port, self.host)
        self.moto.start()
        if self.use_ddb_local:
            self.ddb_local_server = DynamoDBLocal(self.ddb_local_port)
            self.ddb_local_server.start()
        if self.start_simulator:
            self._start_sim()
        resolver = self.resolver = provision.create_resources(self)
        if self.persistence is not None:
            self.persistence.restore_tables(self.client("dynamodb"), self.table_names)
            if self.sim is not None:
                self.persistence.restore_sim(self.sim)
            self._restored = True  # from here on, stop() saves (a failed start never overwrites a snapshot)
        self.env = handler_env(
            self.template,
            resolver,
            credentials=self.local_credentials,
            aws_endpoint=self.aws_endpoint,
            dynamodb_endpoint=self.dynamodb_endpoint,
            region=self.region,
            compress_time=self.compress_time,
            time_scale=self.time_scale,
            overrides=self.env_overrides,
        )
        self._process_env.apply(self.env)
        functions = self.functions
        if self.log_router is not None:
            import qpay.observability  # noqa: F401, PLC0415 - the product's logger exists before it is routed

            self.log_router.install(capture_stdout=self.capture_metric_lines)
        self.runtime = Runtime(functions, self.template.root, observer=self.log_router)
        self._uninstall_sfn = sfn.install(self._knows_function, self.runtime.invoke)
        provision.create_state_machines(self, resolver)
        if self.activity is not None:
            self.extra_apps["/_local"] = Dashboard(
                lambda: self.client("dynamodb"),
                lambda: self.table_name,
                self.activity,
                resend=lambda: self.forwarder.resend if self.forwarder is not None else None,
            )
        self.gateway = Gateway(wiring.gateway_config(self, resolver))
        if self.activity is not None:
            self.gateway.config.on_response = self.activity.on_gateway_call
        wiring.start_streams(self, resolver)
        from_template = self.schedule_interval_s == "template"
        self.scheduler = Scheduler(
            [
                replace(source, properties={**source.properties, "Input": resolver.resolve(source.properties["Input"])})
                if "Input" in source.properties
                else source
                for source in self.template.schedules()
            ],
            self._scheduled,
            region=self.region,
            account_id=ACCOUNT_ID,
            interval_s=None if isinstance(self.schedule_interval_s, str) else self.schedule_interval_s,
            time_scale=self.time_scale if from_template else None,
        )
        self.scheduler.start()
        if self.event_tap is not None:
            if self.activity is not None:
                self.event_tap.subscribe(self.activity.on_order_event)
            if self.forward_events_to:
                self.forwarder = EventForwarder(
                    self.forward_events_to,
                    self.local_keys.forwarding_secret,
                    on_delivery=self.activity.on_delivery if self.activity is not None else None,
                )
                self.forwarder.start()
                self.event_tap.subscribe(self.forwarder.submit)
            self.event_tap.start()
        self._api.start()
        log.info("local stack up in %.1f s", time.perf_counter() - started)

    def stop(self) -> None:
        """Stop everything started (idempotent): threads joined, ports freed, environment restored."""
        steps: list[Any] = []
        if self.persistence is not None and self._restored:
            steps.append(self._save)
        if self.event_tap is not None:
            steps.append(self.event_tap.stop)
        if self.forwarder is not None:
            steps.append(self.forwarder.stop)
        if self.scheduler is not None:
            steps.append(self.scheduler.stop)
        steps.extend(c.stop for c in self.consumers)
        if self.activity_reader is not None:
            steps.append(self.activity_reader.stop)
        if self.sweeper is not None:
            steps.append(self.sweeper.stop)
        if self.sim is not None:
            steps.append(self.sim.stop)
        if self._api is not None:
            steps.append(self._api.stop)
        if self._uninstall_sfn is not None:
            steps.append(self._uninstall_sfn)
        if self.moto is not None:
            steps.append(self.moto.stop)
        if self.ddb_local_server is not None:
            steps.append(self.ddb_local_server.stop)
        if self.log_router is not None:
            steps.append(self.log_router.uninstall)
        steps.append(self._process_env.restore)
        for step in steps:
            try:
                step()
            except Exception:
                log.exception("error while stopping")
        self.scheduler = None
        self.event_tap = None
        self.forwarder = None
        self.consumers = []
        self.activity_reader = None
        self.sweeper = None
        self.sim = None
        self._uninstall_sfn = None
        self.moto = None
        self.ddb_local_server = None
        self._clients.clear()

    def _save(self) -> None:
        assert self.persistence is not None
        items = self.persistence.save_tables(self.client("dynamodb"), self.table_names)
        payments = self.persistence.save_sim(self.sim) if self.sim is not None else 0
        log.info("saved %d item(s) and %d simulator payment(s) in %s", items, payments, self.persistence.directory)
        self._restored = False

    # -- invocation --------------------------------------------------------------------------

    def invoke(self, function: str, event: Any) -> Any:
        """Run a function's handler in-process (logical id, name or ARN)."""
        assert self.runtime is not None
        return self.runtime.invoke(function, event)

    def _scheduled(self, target: str, event: Any) -> Any:
        """A schedule's target: a function runs in-process; a state machine gets an execution."""
        if target in self.state_machine_arns:
            started = self.client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arns[target], input=json.dumps(event)
            )
            return {"executionArn": started["executionArn"]}
        return self.invoke(target, event)

    def _knows_function(self, name: str) -> bool:
        if self.runtime is None:
            return False
        try:
            self.runtime.find(name)
        except KeyError:
            return False
        return True

    def trigger_schedule(self, function: str) -> list[Any]:
        assert self.scheduler is not None
        return self.scheduler.trigger(function)

    def sweep_ttl(self) -> int:
        """Run one TTL sweep now (moto, and DynamoDB Local, which reaps no table with an index)."""
        return self.sweeper.sweep_once() if self.sweeper is not None else 0

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until stream records, running executions and webhooks in flight are all processed."""
        deadline = time.monotonic() + timeout
        quiet_passes = 0
        while quiet_passes < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the local stack did not settle in time")
            busy = False
            for c in self.consumers:
                if not c.wait_idle(max(0.1, deadline - time.monotonic())):
                    busy = True
            if self.sim is not None and self.sim.webhooks.pending_count():
                busy = True
                self.sim.webhooks.wait_idle(max(0.1, min(1.0, deadline - time.monotonic())))
            if self._running_executions():
                busy = True
                time.sleep(0.05)
            if self.forwarder is not None and self.event_tap is not None:
                self.event_tap.poll()
                if not self.forwarder.wait_idle(max(0.1, min(1.0, deadline - time.monotonic()))):
                    busy = True
            quiet_passes = 0 if busy else quiet_passes + 1

    def _running_executions(self) -> int:
        if not self.state_machine_arns:
            return 0
        sfn_client = self.client("stepfunctions")
        return sum(
            len(sfn_client.list_executions(stateMachineArn=arn, statusFilter="RUNNING").get("executions", []))
            for arn in self.state_machine_arns.values()
        )

    # -- building ----------------------------------------------------------------------------

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.gateway is None:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message":"Service Unavailable"}']
        return self.gateway(environ, start_response)

    @property
    def webhook_path(self) -> str:
        for route in self.template.http_routes():
            if "webhook" in route.path.lower() and route.method in ("POST", "ANY"):
                return route.path
        return "/webhooks/checkout"

    def _start_sim(self) -> None:
        from cko_sim import SimConfig, Simulator  # noqa: PLC0415

        assert self._api is not None
        self.sim = Simulator(
            SimConfig(
                webhook_urls=[self._api.base_url + self.webhook_path],
                webhook_signing_key=self.local_keys.webhook_signing_key,
                secret_key=self.local_keys.checkout_secret_key,
                require_processing_channel=self.require_processing_channel,
                merchant_name=self.merchant_name,
                time_scale=self.time_scale,
                payment_expiry_seconds=timing.SIM_PAYMENT_EXPIRY_S * self.time_scale
                if self.compress_time
                else timing.SIM_PAYMENT_EXPIRY_S,
            )
        )
        self.sim.start(host=self.host, port=self.sim_port)

    # -- reporting (report.py) -----------------------------------------------------------------

    def storefront_env(self) -> dict[str, str]:
        """``env.local``: what a Node/PHP storefront needs to call this stack (dotenv keys)."""
        return report.storefront_env(self)

    def runtime_info(self) -> dict[str, Any]:
        """``stack.json``: where this stack listens, for ``make trigger`` (no secrets)."""
        return report.runtime_info(self)

    def time_settings(self) -> dict[str, str]:
        """The timers in effect (after ``--time-scale``), for the banner."""
        return report.time_settings(self)

    def describe(self) -> dict[str, str]:
        return report.describe(self)


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[LocalStack]:
    with LocalStack(**kwargs) as stack:
        yield stack

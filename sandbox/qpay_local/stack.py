"""``LocalStack``: the whole backend on one machine, in-process, from ``template.yaml``.

HTTP API (werkzeug) → handlers; moto (DynamoDB + Streams, Secrets Manager, SQS, Lambda, Step Functions)
or DynamoDB Local for the table; a stream poller per DynamoDB event source; a TTL sweeper; schedules;
the Checkout.com simulator. The handlers only see configuration (environment variables).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import string
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from botocore.credentials import Credentials

from qpay_local import moto_atomic, sfn
from qpay_local.apigw import Cors, Gateway, GatewayConfig
from qpay_local.ddb_local import DynamoDBLocal
from qpay_local.eventbus import EventTap
from qpay_local.httpserver import ServerThread, check_free
from qpay_local.keys import LocalCredentials, LocalKeys
from qpay_local.moto_world import MotoServer, client, create_table
from qpay_local.runtime import LocalFunction, Runtime
from qpay_local.schedules import Scheduler
from qpay_local.streams import ConsumerConfig, StreamConsumer
from qpay_local.template import Resolver, Template
from qpay_local.ttl import TtlMarks, TtlSweeper

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cko_sim import Simulator

log = logging.getLogger("qpay_local")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"

#: Step Functions time compression (ASL's minimum is 1 s).
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
    order_token_kid: str = "local-1"  # noqa: S105 - a key id, not a key


def _rand(n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


class LocalStack:
    """Context manager: ``with LocalStack(api_port=0, sim_port=0, time_scale=0.001) as stack: ...``.

    ``parameters`` override the template's parameters, ``overrides`` override environment variables of
    the handlers (applied last), ``sfn_substitutions`` override ``DefinitionSubstitutions``.
    ``extra_apps`` mounts WSGI apps on the API server by path prefix (e.g. ``{"/shop": app}``).
    """

    def __init__(
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
        schedule_interval_s: float | None = 60.0,
        stream_poll_interval_s: float = 0.05,
        start_simulator: bool = True,
        require_processing_channel: bool = True,
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
        self.sfn_substitutions = {**DEFAULT_SFN_SUBSTITUTIONS, **dict(sfn_substitutions or {})}
        self.extra_apps = dict(extra_apps or {})
        self.ttl_interval_s = ttl_interval_s
        self.schedule_interval_s = schedule_interval_s
        self.stream_poll_interval_s = stream_poll_interval_s
        self.start_simulator = start_simulator
        self.require_processing_channel = require_processing_channel

        self.local_keys = LocalKeys.generate()
        self.local_credentials = LocalCredentials.generate(region)
        self.api_id = _rand(10)
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
        self._saved_env: dict[str, str | None] = {}
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
            k.webhook_signing_key, k.merchant_api_key, k.order_token_key, k.checkout_secret_key, k.order_token_kid
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
            self.ddb_local_server = DynamoDBLocal()
            self.ddb_local_server.start()
        if self.start_simulator:
            self._start_sim()
        resolver = self._create_resources()
        self._apply_env(resolver)
        functions = self._functions
        self.runtime = Runtime(functions, self.template.root)
        self._uninstall_sfn = sfn.install(self._knows_function, self.runtime.invoke)
        self._create_state_machines(resolver)
        self.gateway = Gateway(self._gateway_config(resolver))
        self._start_streams(resolver)
        self.scheduler = Scheduler(
            self.template.schedules(),
            self.invoke,
            region=self.region,
            account_id=ACCOUNT_ID,
            interval_s=self.schedule_interval_s,
        )
        self.scheduler.start()
        self._api.start()
        log.info("local stack up in %.1f s", time.perf_counter() - started)

    def stop(self) -> None:
        """Stop everything started (idempotent): threads joined, ports freed, environment restored."""
        steps: list[Any] = []
        if self.scheduler is not None:
            steps.append(self.scheduler.stop)
        steps.extend(c.stop for c in self.consumers)
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
        steps.append(self._restore_env)
        for step in steps:
            try:
                step()
            except Exception:
                log.exception("error while stopping")
        self.scheduler = None
        self.consumers = []
        self.sweeper = None
        self.sim = None
        self._uninstall_sfn = None
        self.moto = None
        self.ddb_local_server = None
        self._clients.clear()

    # -- invocation --------------------------------------------------------------------------

    def invoke(self, function: str, event: Any) -> Any:
        """Run a function's handler in-process (logical id, name or ARN)."""
        assert self.runtime is not None
        return self.runtime.invoke(function, event)

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
        """Run one TTL sweep now (moto only; DynamoDB Local sweeps by itself)."""
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

    def _webhook_path(self) -> str:
        for route in self.template.http_routes():
            if "webhook" in route.path.lower() and route.method in ("POST", "ANY"):
                return route.path
        return "/webhooks/checkout"

    def _start_sim(self) -> None:
        from cko_sim import SimConfig, Simulator  # noqa: PLC0415

        assert self._api is not None
        self.sim = Simulator(
            SimConfig(
                webhook_urls=[self._api.base_url + self._webhook_path()],
                webhook_signing_key=self.local_keys.webhook_signing_key,
                secret_key=self.local_keys.checkout_secret_key,
                require_processing_channel=self.require_processing_channel,
                time_scale=self.time_scale,
            )
        )
        self.sim.start(host=self.host, port=self.sim_port)

    def _parameters(self) -> dict[str, Any]:
        assert self._api is not None
        api = self._api.base_url
        values: dict[str, Any] = self.template.parameter_defaults()
        values.update(
            {
                "PublicBaseUrl": api,
                "StorefrontSuccessUrl": f"{api}/shop/result",
                "StorefrontFailureUrl": f"{api}/shop/result",
                "StorefrontOrigins": f"{api},http://localhost:{self._api.port}",
                "ProcessingChannelId": "pc_" + _rand(26, "abcdefghijklmnopqrstuvwxyz234567"),
            }
        )
        if self.sim is not None:
            values["CheckoutBaseUrl"] = self.sim.base_url
        values.update({k: str(v) for k, v in self.parameter_overrides.items()})
        return {k: v for k, v in values.items() if k in self.template.parameters}

    def _create_resources(self) -> Resolver:  # noqa: PLR0915 - one pass over the template's resources
        t = self.template
        p = f"arn:aws:{{}}:{self.region}:{ACCOUNT_ID}:"
        refs: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": p.format("cloudformation") + f"stack/{self.stack_name}/{_rand(8)}",
            "AWS::NoValue": None,
        }
        attrs: dict[str, Any] = {}
        # Generic fallbacks for resources the local stack does not create (log groups, ...).
        for logical_id in t.resources:
            refs[logical_id] = f"{self.stack_name}-{logical_id}"
            attrs[f"{logical_id}.Arn"] = p.format("local") + f"{self.stack_name}-{logical_id}"
        refs.update(self._parameters())
        types = {k: str(v.get("Type", "String")) for k, v in t.parameters.items()}
        resolver = Resolver(refs, attrs, types)

        ddb = self.client("dynamodb")
        for logical_id, res in t.of_type("AWS::DynamoDB::Table").items():
            props = res.get("Properties", {})
            name = str(resolver.resolve(props.get("TableName", f"{self.stack_name}-{logical_id}")))
            desc = create_table(ddb, name, props)
            refs[logical_id] = name
            attrs[f"{logical_id}.Arn"] = desc["TableArn"]
            self.table_names[logical_id] = name
            if desc.get("LatestStreamArn"):
                attrs[f"{logical_id}.StreamArn"] = desc["LatestStreamArn"]
                self.stream_arns[logical_id] = desc["LatestStreamArn"]
        self.table_name = next(iter(self.table_names.values()), "")

        sm = self.client("secretsmanager")
        for logical_id, res in t.of_type("AWS::SecretsManager::Secret").items():
            props = res.get("Properties", {})
            name = str(resolver.resolve(props.get("Name", f"{self.stack_name}/{logical_id}")))
            value = props.get("SecretString")
            if value is None:  # the keys secret (GenerateSecretString): our fresh local keys
                value = json.dumps(self.local_keys.secret_document())
            arn = sm.create_secret(Name=name, SecretString=str(resolver.resolve(value)))["ARN"]
            refs[logical_id] = arn
            attrs[f"{logical_id}.Id"] = arn
            self.secret_arns[logical_id] = arn

        sqs = self.client("sqs")
        for logical_id, res in t.of_type("AWS::SQS::Queue").items():
            props = res.get("Properties", {})
            name = str(resolver.resolve(props.get("QueueName", f"{self.stack_name}-{logical_id}")))
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            qattrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
            refs[logical_id] = url
            attrs[f"{logical_id}.Arn"] = qattrs["QueueArn"]
            attrs[f"{logical_id}.QueueName"] = name
            attrs[f"{logical_id}.QueueUrl"] = url
            self.queue_urls[logical_id] = url

        buses = t.of_type("AWS::Events::EventBus")
        if buses:
            self.event_tap = EventTap(self.client("events"), sqs)
            self.extra_apps["/_local/events"] = self.event_tap.wsgi
        for logical_id, res in buses.items():
            assert self.event_tap is not None
            name = str(resolver.resolve(res.get("Properties", {}).get("Name", f"{self.stack_name}-{logical_id}")))
            refs[logical_id] = name
            attrs[f"{logical_id}.Arn"] = self.event_tap.create_bus(name)
            attrs[f"{logical_id}.Name"] = name
            self.event_bus_names[logical_id] = name

        sns = self.client("sns")
        for logical_id, res in t.of_type("AWS::SNS::Topic").items():
            name = str(resolver.resolve(res.get("Properties", {}).get("TopicName", f"{self.stack_name}-{logical_id}")))
            arn = sns.create_topic(Name=name)["TopicArn"]
            refs[logical_id] = arn
            attrs[f"{logical_id}.TopicArn"] = arn
            self.topic_arns[logical_id] = arn

        lam = self.client("lambda")
        iam = self.client("iam")
        self._functions: dict[str, LocalFunction] = {}
        for logical_id, fn in t.functions().items():
            name = f"{self.stack_name}-{logical_id}"
            arn = sfn.create_lambda(lam, iam, name, fn.handler, fn.timeout, fn.memory)
            refs[logical_id] = name
            attrs[f"{logical_id}.Arn"] = arn
            self._functions[logical_id] = LocalFunction(fn, name, arn)

        for logical_id, res in t.of_type("AWS::Serverless::StateMachine").items():
            props = res.get("Properties", {})
            name = str(resolver.resolve(props.get("Name", f"{self.stack_name}-{logical_id}")))
            arn = p.format("states") + f"stateMachine:{name}"
            refs[logical_id] = arn
            attrs[f"{logical_id}.Arn"] = arn
            attrs[f"{logical_id}.Name"] = name
        for logical_id in t.of_type("AWS::Serverless::HttpApi"):
            refs[logical_id] = self.api_id
        return resolver

    def _create_state_machines(self, resolver: Resolver) -> None:
        client_sfn = self.client("stepfunctions")
        iam = self.client("iam")
        role = sfn.ensure_role(iam, "qpay-local-states", "states.amazonaws.com")
        for logical_id, res in self.template.of_type("AWS::Serverless::StateMachine").items():
            props = res.get("Properties", {})
            subs = {k: resolver.resolve(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
            subs.update(self.sfn_substitutions)
            if "DefinitionUri" in props:
                definition = sfn.render_definition(self.template.root / str(props["DefinitionUri"]), subs)
            else:
                definition = json.dumps(resolver.resolve(props["Definition"]))
            name = resolver.getatt(logical_id, "Name")
            arn = client_sfn.create_state_machine(
                name=name, definition=definition, roleArn=role, type=str(props.get("Type", "STANDARD"))
            )["stateMachineArn"]
            self.state_machine_arns[logical_id] = arn

    def _apply_env(self, resolver: Resolver) -> None:
        env: dict[str, str] = {}
        for fn in self.template.functions().values():
            for key, value in fn.environment.items():
                resolved = resolver.resolve(value)
                if resolved is None:
                    continue
                env[key] = ",".join(resolved) if isinstance(resolved, list) else str(resolved)
        c = self.local_credentials
        env.update(
            {
                "AWS_ENDPOINT_URL": self.aws_endpoint,
                "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.dynamodb_endpoint,
                "AWS_ACCESS_KEY_ID": c.access_key_id,
                "AWS_SECRET_ACCESS_KEY": c.secret_access_key,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            }
        )
        env.update(self.env_overrides)
        self.env = env
        for key in [*env, "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"]:
            if key not in self._saved_env:
                self._saved_env[key] = os.environ.get(key)
        for key in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
            os.environ.pop(key, None)
        os.environ.update(env)
        _reset_product()

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        _reset_product()

    def _gateway_config(self, resolver: Resolver) -> GatewayConfig:
        cors_cfg = self.template.cors()
        cors = Cors.from_config(resolver.resolve(cors_cfg)) if cors_cfg else None
        return GatewayConfig(
            routes=self.template.http_routes(),
            invoke=self.invoke,
            credentials=self.botocore_credentials,
            region=self.region,
            account_id=ACCOUNT_ID,
            api_id=self.api_id,
            cors=cors,
            iam_user_arn=f"arn:aws:iam::{ACCOUNT_ID}:user/qpay-local-merchant",
            iam_user_id="AIDA" + _rand(17, string.ascii_uppercase + "234567"),
            extra_apps=dict(self.extra_apps),
        )

    def _start_streams(self, resolver: Resolver) -> None:
        streams_client = self.client("dynamodbstreams")
        ttl_tables: dict[str, str] = {}
        for logical_id, res in self.template.of_type("AWS::DynamoDB::Table").items():
            spec = res.get("Properties", {}).get("TimeToLiveSpecification") or {}
            if spec.get("Enabled"):
                ttl_tables[logical_id] = str(spec["AttributeName"])
        for source in self.template.stream_sources():
            stream_arn = str(resolver.resolve(source.stream))
            table_logical = next((k for k, v in self.stream_arns.items() if v == stream_arn), None)
            dest = (((source.properties.get("DestinationConfig") or {}).get("OnFailure")) or {}).get("Destination")
            queue_url = None
            if dest is not None:
                dest_arn = str(resolver.resolve(dest))
                queue_url = next(
                    (self.queue_urls[k] for k in self.queue_urls if resolver.getatt(k, "Arn") == dest_arn), None
                )
            cfg = ConsumerConfig.from_event(
                source.properties,
                function=source.function,
                function_arn=self._functions[source.function].arn,
                on_failure_queue_url=queue_url,
                time_scale=self.time_scale,
            )
            consumer = StreamConsumer(
                streams_client,
                self.client("sqs"),
                stream_arn,
                cfg,
                self.invoke,
                region=self.region,
                ttl_marks=None if self.use_ddb_local else self.ttl_marks.reader(),
                ttl_attribute=ttl_tables.get(table_logical or ""),
                poll_interval_s=self.stream_poll_interval_s,
            )
            consumer.start()
            self.consumers.append(consumer)
        if not self.use_ddb_local:
            for logical_id, attribute in ttl_tables.items():
                props = self.template.properties(logical_id)
                view = (props.get("StreamSpecification") or {}).get("StreamViewType", "")
                self.sweeper = TtlSweeper(
                    self.client("dynamodb"),
                    self.table_names[logical_id],
                    attribute,
                    [k["AttributeName"] for k in props["KeySchema"]],
                    self.ttl_marks,
                    interval_s=self.ttl_interval_s,
                    keys_only_stream=view == "KEYS_ONLY",
                )
                if self.ttl_interval_s > 0:
                    self.sweeper.start()

    # -- reporting ---------------------------------------------------------------------------

    def describe(self) -> dict[str, str]:
        c = self.local_credentials
        k = self.local_keys
        out = {
            "API": self.api_url,
            "Checkout.com simulator": self.sim_url,
            "AWS endpoint (moto)": self.aws_endpoint,
            "DynamoDB endpoint": self.dynamodb_endpoint,
            "Table": self.table_name,
            "Webhook URL": self.api_url + self._webhook_path(),
            "Webhook signing key": k.webhook_signing_key,
            "Merchant API key": k.merchant_api_key,
            "Order token key": k.order_token_key,
            "Checkout secret key": k.checkout_secret_key,
            "AWS_ACCESS_KEY_ID": c.access_key_id,
            "AWS_SECRET_ACCESS_KEY": c.secret_access_key,
            "AWS_DEFAULT_REGION": c.region,
            "SigV4 service": "execute-api",
        }
        for logical_id, arn in self.state_machine_arns.items():
            out[f"State machine {logical_id}"] = arn
        for logical_id, url in self.queue_urls.items():
            out[f"Queue {logical_id}"] = url
        for logical_id, name in self.event_bus_names.items():
            out[f"Event bus {logical_id}"] = f"{name} (events shown at {self.api_url}/_local/events)"
        return out


def _reset_product() -> None:
    """Clear the product's cached settings and clients (it reads its configuration once), and boto3's
    default session, which caches the credentials it first resolved from the environment."""
    import boto3  # noqa: PLC0415

    boto3.DEFAULT_SESSION = None
    with contextlib.suppress(ImportError):
        from qpay import deps  # noqa: PLC0415

        deps.reset()


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[LocalStack]:
    with LocalStack(**kwargs) as stack:
        yield stack

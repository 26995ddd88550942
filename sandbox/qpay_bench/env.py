"""Each function's environment as Lambda would give it: template.yaml (Globals + the function), the
variables the Lambda runtime sets, and the bench's endpoints (the loopback stub) and test CA.

Intrinsics resolve to bench values: parameters to their defaults (endpoints and URLs overridden),
``Ref``/``GetAtt`` of resources to synthetic names and ARNs. Whatever the template adds (``STAGE``,
``AWS_DATA_PATH``, …) reaches the measured process without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpay_local.template import FunctionDef, Resolver, Template

ROOT = Path(__file__).resolve().parents[2]
REGION = "me-central-1"
ACCOUNT = "123456789012"
STACK = "qpay-bench"
TASK_ROOT = "/var/task"  # where Lambda unpacks the artefact; mapped to the bench's build directory
TRACE_HEADER = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled={sampled}"


class BenchResolver(Resolver):
    """Resolves every ``Ref``/``GetAtt``: parameters to bench values, resources to synthetic names."""

    def __init__(self, parameters: dict[str, str], template: Template) -> None:
        refs: dict[str, Any] = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK,
                                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}  # fmt: skip
        refs.update(parameters)
        types = {k: str(v.get("Type", "String")) for k, v in template.parameters.items()}
        super().__init__(refs, {}, types, template.doc.get("Conditions"))  # Fn::If (e.g. UseEdge) as deployed
        self.template = template

    def ref(self, name: str) -> Any:
        if name in self.refs:
            return super().ref(name)
        return f"{STACK}-{name}"

    def getatt(self, logical_id: str, attr: str) -> Any:
        kind = str(self.template.resources.get(logical_id, {}).get("Type", ""))
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "aws"
        if attr == "StreamArn":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{STACK}-{logical_id}/stream/2026-01-01T00:00:00.000"
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{STACK}-{logical_id}"


@dataclass(frozen=True)
class BenchEndpoints:
    aws: str  # the stub's URL (AWS JSON protocol)
    checkout: str  # the stub's URL (Checkout.com paths)
    ca_file: str  # the test CA (PEM)
    build_dir: Path  # stands for /var/task


def parameter_values(template: Template, endpoints: BenchEndpoints, processing_channel: str) -> dict[str, str]:
    values = template.parameter_defaults()
    values.update(
        {
            "CheckoutBaseUrl": endpoints.checkout,
            "ProcessingChannelId": processing_channel,
            "PublicBaseUrl": "https://pay.example-shop.qa",
            "StorefrontSuccessUrl": "https://shop.example.qa/orders/thanks",
            "StorefrontFailureUrl": "https://shop.example.qa/orders/retry",
        }
    )
    return {k: v for k, v in values.items() if k in template.parameters}


def function_env(
    fn: FunctionDef, template: Template, endpoints: BenchEndpoints, *, processing_channel: str, sampled: bool
) -> dict[str, str]:
    """The environment one cold or warm process of ``fn`` runs with."""
    resolver = BenchResolver(parameter_values(template, endpoints, processing_channel), template)
    env: dict[str, str] = {}
    for key, raw in fn.environment.items():
        value = resolver.resolve(raw)
        if value is None:
            continue
        env[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    if env.get("AWS_DATA_PATH", "").startswith(TASK_ROOT):
        env["AWS_DATA_PATH"] = str(endpoints.build_dir) + env["AWS_DATA_PATH"][len(TASK_ROOT) :]
    logging = template.globals.get("LoggingConfig", {})
    env.update(
        {
            # what the Lambda runtime sets
            "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-{fn.logical_id}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_LOG_FORMAT": str(logging.get("LogFormat", "Text")),
            "AWS_LAMBDA_LOG_LEVEL": str(logging.get("ApplicationLogLevel", "INFO")),
            "LAMBDA_TASK_ROOT": str(endpoints.build_dir),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "AKIDBENCHEXAMPLE0000",
            "AWS_SECRET_ACCESS_KEY": "bench-secret-access-key-0000000000000000",
            "AWS_SESSION_TOKEN": "bench-session-token",
            "_X_AMZN_TRACE_ID": TRACE_HEADER.format(sampled=1 if sampled else 0),
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            # the bench's loopback stub and its CA (what is not AWS or Checkout.com)
            "AWS_ENDPOINT_URL": endpoints.aws,
            "AWS_CA_BUNDLE": endpoints.ca_file,
            "SSL_CERT_FILE": endpoints.ca_file,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            # the stub listens on 127.0.0.1, which a prod stage refuses as Checkout's base URL
            "STAGE": "dev",
        }
    )
    return env


def functions(template: Template | None = None) -> dict[str, FunctionDef]:
    return (template or Template(ROOT / "template.yaml")).functions()

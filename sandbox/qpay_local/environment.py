"""The handlers' environment: the template's variables resolved, plus where the local AWS is; installed in
this process's ``os.environ`` (the handlers run in-process) and restored on stop."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

from qpay_local import timing
from qpay_local.keys import LocalCredentials
from qpay_local.template import Resolver, Template

#: credentials the process may have that must not reach the local AWS
_AMBIENT = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN")


def handler_env(
    template: Template,
    resolver: Resolver,
    *,
    credentials: LocalCredentials,
    aws_endpoint: str,
    dynamodb_endpoint: str,
    region: str,
    compress_time: bool,
    time_scale: float,
    overrides: Mapping[str, str],
) -> dict[str, str]:
    env: dict[str, str] = {}
    for fn in template.functions().values():
        for key, value in fn.environment.items():
            resolved = resolver.resolve(value)
            if resolved is None:
                continue
            env[key] = ",".join(resolved) if isinstance(resolved, list) else str(resolved)
    if compress_time:
        env.update(timing.product_env(env, time_scale))
    c = credentials
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb_endpoint,
            "AWS_ACCESS_KEY_ID": c.access_key_id,
            "AWS_SECRET_ACCESS_KEY": c.secret_access_key,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        }
    )
    env.update(overrides)
    return env


class ProcessEnv:
    """``apply(env)`` sets the variables (remembering what was there), ``restore()`` puts it back."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def apply(self, env: Mapping[str, str]) -> None:
        for key in [*env, *_AMBIENT]:
            if key not in self._saved:
                self._saved[key] = os.environ.get(key)
        for key in _AMBIENT:
            os.environ.pop(key, None)
        os.environ.update(env)
        reset_product()

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()
        reset_product()


def reset_product() -> None:
    """Clear the product's cached settings and clients (it reads its configuration once), and boto3's
    default session, which caches the credentials it first resolved from the environment."""
    import boto3  # noqa: PLC0415

    boto3.DEFAULT_SESSION = None
    with contextlib.suppress(ImportError):
        from qpay import deps  # noqa: PLC0415

        # also forgets the product's botocore session, which keeps the credentials it resolved first:
        # a second stack (new credentials) would otherwise reach DynamoDB Local under the first stack's
        # access key, another namespace ("Cannot do operations on a non-existent table")
        deps.reset()

"""The botocore client settings the floors use: the product's own, read from the client it builds.

``qpay.adapters.dynamo.make_client`` builds every AWS client of the product. The floor must pay for the
same settings (``parameter_validation=False``, timeouts, retries, keep-alive), so the bench reads them
from a client the product built rather than trusting a copy. :data:`MIRROR` is the copy a reader can see;
``tests/bench/test_floor_config.py`` fails when it and the product drift apart.
"""

from __future__ import annotations

import os
from typing import Any

FIELDS = ("connect_timeout", "read_timeout", "retries", "tcp_keepalive", "parameter_validation", "max_pool_connections")

#: what ``make_client`` configures today (checked against the product by a test)
MIRROR: dict[str, Any] = {
    "connect_timeout": 1,
    "read_timeout": 3,
    "retries": {"mode": "standard", "total_max_attempts": 3},
    "tcp_keepalive": True,
    "parameter_validation": False,
    "max_pool_connections": 10,
}


def of_config(config: Any) -> dict[str, Any]:
    return {name: getattr(config, name) for name in FIELDS}


def of_client(client: Any) -> dict[str, Any]:
    """A built client's effective settings. botocore does not keep ``parameter_validation`` on
    ``client.meta.config`` (it only decides whether the serializer is wrapped by its validator)."""
    from botocore.validate import ParamValidationDecorator  # noqa: PLC0415

    settings = of_config(client.meta.config)
    settings["parameter_validation"] = isinstance(client._serializer, ParamValidationDecorator)
    return settings


def product_config() -> dict[str, Any]:
    """The effective settings of a client the product's ``make_client`` builds (whatever it exposes:
    ``qpay.adapters.dynamo.CLIENT_CONFIG`` is the product's own statement of them, checked by a test)."""
    from qpay.adapters import dynamo  # noqa: PLC0415

    os.environ.setdefault("AWS_DEFAULT_REGION", "me-central-1")
    return of_client(dynamo.make_client("dynamodb"))

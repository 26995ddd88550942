"""The QPay backend running locally and offline: ``python -m qpay_local run`` or ``LocalStack`` in tests.

Modules: ``template`` (read template.yaml), ``apigw`` (HTTP API, payload 2.0), ``sigv4`` (IAM auth),
``runtime`` (in-process handlers), ``moto_world``/``ddb_local`` (embedded AWS), ``streams`` +
``filters`` (event source mapping), ``ttl`` (TTL sweeper), ``sfn`` (Step Functions → handlers),
``schedules``, ``stack`` (``LocalStack``), ``replay`` (event replay CLI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qpay_local.stack import LocalStack

__all__ = ["LocalStack"]


def __getattr__(name: str) -> Any:
    if name == "LocalStack":
        from qpay_local.stack import LocalStack  # noqa: PLC0415 - keep ``import qpay_local`` light

        return LocalStack
    raise AttributeError(name)

"""The refund workflow's Lambda tasks, one entry point dispatching on ``task``.

Errors keep their class names (``CheckoutUnavailable``, ``RefundRejected``, ``OutcomeUnknown``) because
the state machine's Retry and Catch match on them.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from qpay import clock, deps
from qpay.observability import logger
from qpay.service import refunds
from qpay.settings import get_settings


def _ports() -> refunds.RefundPorts:
    return refunds.RefundPorts(
        store=deps.store(), settings=get_settings(), checkout=deps.checkout(), stepfunctions=deps.stepfunctions
    )


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    task = event.get("task")
    payment_id, refund_id = str(event["payment_id"]), str(event["refund_id"])
    logger.append_keys(payment_id=payment_id, refund_id=refund_id, task=task)
    now = clock.now()
    if task == "request":
        return refunds.task_request(payment_id, refund_id, now=now, ports=_ports())
    if task == "await":
        return refunds.task_await(payment_id, refund_id, str(event["task_token"]), now=now, ports=_ports())
    if task == "reconcile":
        return refunds.task_reconcile(payment_id, refund_id, now=now, ports=_ports())
    if task == "fail":
        error = event.get("error") or {}
        cause = error.get("Cause") if isinstance(error, dict) else None
        with contextlib.suppress(ValueError, AttributeError):
            cause = json.loads(cause).get("errorMessage", cause) if cause else cause
        return refunds.task_fail(
            payment_id, refund_id, str(cause or "refused by Checkout.com"), now=now, ports=_ports()
        )
    if task == "attention":
        return refunds.task_attention(payment_id, refund_id, now=now, ports=_ports())
    raise ValueError(f"unknown task {task!r}")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch(event)

"""Wake the refund execution waiting for this refund's outcome (its task token is on the refund)."""

from __future__ import annotations

import json
from typing import Any

from qpay.adapters.store import PaymentStore
from qpay.domain.refunds import FINAL_REFUND_STATES
from qpay.observability import logger

# The execution already moved on (timed out into reconciliation, or was told before): not an error.
_GONE = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken", "ExecutionDoesNotExist")


def notify_workflow(store: PaymentStore, stepfunctions: Any, payment_id: str, refund_id: str) -> bool:
    refund = store.get_refund(payment_id, refund_id)
    if refund is None or not refund.task_token or refund.state not in FINAL_REFUND_STATES:
        return False  # no one waiting yet: the execution will see the final state when it stores its token
    client = stepfunctions() if callable(stepfunctions) else stepfunctions
    output = json.dumps({"refund_id": refund.id, "state": refund.state.value, "action_id": refund.action_id})
    try:
        client.send_task_success(taskToken=refund.task_token, output=output)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code not in _GONE:
            raise
        logger.info("refund execution no longer waiting", extra={"refund_id": refund_id, "code": code})
        return False
    return True

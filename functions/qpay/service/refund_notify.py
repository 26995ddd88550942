"""Wake the refund execution waiting for this refund's outcome (its task token is on the refund)."""

from __future__ import annotations

import json
from typing import Any

from qpay.adapters.store import PaymentStore
from qpay.domain.records import Refund
from qpay.domain.refund_states import FINAL_REFUND_STATES, RefundState
from qpay.observability import logger

# The execution already moved on (timed out into reconciliation, or was told before): not an error.
_GONE = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken", "ExecutionDoesNotExist")


def notify_workflow(
    store: PaymentStore,
    stepfunctions: Any,
    payment_id: str,
    refund_id: str,
    *,
    known: Refund | None = None,
    state: RefundState | None = None,
    action_id: str | None = None,
) -> bool:
    """Complete the execution's wait. ``known``: the refund as read before the outcome was written (its
    task token saves a read); ``state``: the state that write gave it. Without a token there, the refund
    is read again: the token may have been stored since."""
    if known is not None and known.task_token and state is not None and state in FINAL_REFUND_STATES:
        refund, final, action = known, state, action_id or known.action_id
    else:
        fresh = store.get_refund(payment_id, refund_id)
        if fresh is None or not fresh.task_token or fresh.state not in FINAL_REFUND_STATES:
            return False  # no one waiting yet: the execution will see the final state when it stores its token
        refund, final, action = fresh, fresh.state, fresh.action_id
    client = stepfunctions() if callable(stepfunctions) else stepfunctions
    output = json.dumps({"refund_id": refund.id, "state": final.value, "action_id": action})
    try:
        client.send_task_success(taskToken=refund.task_token, output=output)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code not in _GONE:
            raise
        logger.info("refund execution no longer waiting", extra={"refund_id": refund_id, "code": code})
        return False
    return True

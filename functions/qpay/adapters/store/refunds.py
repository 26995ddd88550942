"""Refunds: the reservation, the workflow's writes, and each refund outcome counted once.

The ledger: one ``ACTION#<act_…>`` item per Checkout.com refund action, written in the same transaction
as the money it moves, records whether it was counted against one of our reservations (``reserved``,
``refund_id``). A later, better identification can repair an action first counted as made elsewhere
(:meth:`RefundsMixin.repair_action`), under the condition that it still reads ``reserved = false``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import cancellation_reasons, error_code, from_ddb, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.errors import ApplyResult, RefundExists, RefundReserveRejected, failed
from qpay.adapters.store.items import event_put, payment_from, refund_from, refund_item
from qpay.adapters.store.keys import PAYMENT_SK, action_sk, changed_key, payment_pk, refund_sk
from qpay.domain.records import Refund
from qpay.domain.refund_states import RefundState
from qpay.domain.states import Stage

REFUND_NOT_OPEN = "refund-not-open"


class RefundsMixin(StoreBase):
    def get_refund(self, payment_id: str, refund_id: str) -> Refund | None:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": refund_sk(refund_id)}),
            ConsistentRead=True,
        )
        item = from_ddb(response.get("Item"))
        return refund_from(item) if item else None

    def get_action(self, payment_id: str, action_id: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": action_sk(action_id)}),
            ConsistentRead=True,
        )
        return from_ddb(response.get("Item"))

    # ---------------------------------------------------------------- outcomes
    def count_refund_outcome(
        self,
        payment_id: str,
        *,
        action_id: str,
        amount: int,
        approved: bool,
        refund: Refund | None,
        reserved: bool,
        event_id: str | None,
        now: int,
        retain_until: int,
    ) -> ApplyResult | str:
        """Count one refund action's outcome exactly once, whichever path (webhook, workflow,
        reconciliation) saw it first. The caller decided whose refund it is:

        - ``refund`` and ``reserved``: ours, still open, its amount reserved: success moves the reserved
          amount to refunded, a decline releases the reservation (the amount we reserved, not Checkout's).
          Conditioned on the refund still being open, else :data:`REFUND_NOT_OPEN` (decide again).
        - ``refund`` and not ``reserved``: ours, but closed Failed (its reservation released) while
          Checkout says it was refunded after all: counted as unreserved money, the refund corrected.
        - no ``refund``: made elsewhere (Checkout's Dashboard): no reservation; a success lowers the
          refundable balance, conditioned on it covering the amount (else :attr:`ApplyResult.PARKED`).
        """
        pk = payment_pk(payment_id)
        ours = refund is not None and reserved
        ledger = {
            "pk": pk,
            "sk": action_sk(action_id),
            "kind": "refund",
            "approved": approved,
            "amount": amount,
            "refund_id": refund.id if refund is not None else None,
            "reserved": ours,
            "applied_at": now,
            # no TTL: this is the money ledger; a replayed outcome must always be a duplicate
        }
        values: dict[str, Any] = {
            ":now": val(now),
            ":one": val(1),
            ":day": val(changed_key(payment_id, now)),
            ":captured": val(Stage.CAPTURED.value),
        }
        condition = "attribute_exists(pk) AND #stage = :captured"
        if approved:
            expr = "SET updated_at = :now, changed_day = :day ADD refunded_amount :amt, refundable_amount :dr, version :one"
            values.update({":amt": val(amount), ":dr": val(0 if ours else -amount)})
            if not ours:
                condition += " AND refundable_amount >= :amt"
        else:
            released = refund.amount if ours and refund is not None else 0
            expr = "SET updated_at = :now, changed_day = :day ADD refundable_amount :dr, version :one"
            values[":dr"] = val(released)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_ddb(ledger),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_ddb({"pk": pk, "sk": PAYMENT_SK}),
                    "UpdateExpression": expr,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#stage": "stage"},
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        if refund is not None:
            items.append({"Update": self._refund_final(pk, refund.id, approved, action_id, now, was_open=ours)})
        if event_id:
            items.append(event_put(self._table, payment_id, event_id, "refund", now, retain_until))
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(exc)
            if failed(reasons, 0) or (event_id and failed(reasons, len(items) - 1)):
                return ApplyResult.DUPLICATE
            if failed(reasons, 1):
                payment = from_ddb(reasons[1].get("Item"))
                return ApplyResult.UNKNOWN if payment is None else ApplyResult.PARKED
            if refund is not None and failed(reasons, 2):
                return REFUND_NOT_OPEN
            raise
        return ApplyResult.APPLIED

    def _refund_final(
        self, pk: str, refund_id: str, approved: bool, action_id: str, now: int, *, was_open: bool
    ) -> dict[str, Any]:
        state = RefundState.REFUNDED if approved else RefundState.DECLINED
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_ddb({"pk": pk, "sk": refund_sk(refund_id)}),
            "UpdateExpression": "SET #state = :st, action_id = :aid, updated_at = :now "
            "REMOVE open_refund_pk, open_refund_sk",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {":st": val(state.value), ":aid": val(action_id), ":now": val(now)},
        }
        if was_open:
            update["ConditionExpression"] = "#state IN (:o1, :o2)"
            update["ExpressionAttributeValues"].update(
                {":o1": val(RefundState.REQUESTED.value), ":o2": val(RefundState.PENDING.value)}
            )
        else:  # only a refund we closed as Failed is corrected by Checkout's later word
            update["ConditionExpression"] = "#state = :failed"
            update["ExpressionAttributeValues"][":failed"] = val(RefundState.FAILED.value)
        return update

    def repair_action(
        self, payment_id: str, *, action_id: str, approved: bool, amount: int, refund: Refund, now: int
    ) -> bool:
        """An action first counted as made elsewhere turns out to be our open refund: give back what the
        unreserved count took (success) or release the reservation (decline), close the refund, and mark
        the ledger item as ours, all in one transaction conditioned on ``reserved = false``."""
        pk = payment_pk(payment_id)
        give_back = amount if approved else refund.amount
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_ddb({"pk": pk, "sk": action_sk(action_id)}),
                    "UpdateExpression": "SET reserved = :t, refund_id = :rid, repaired_at = :now",
                    # the ledger must have counted the same outcome (F8): an action counted declined and
                    # later seen approved would give back money that was never taken
                    "ConditionExpression": "reserved = :f AND approved = :approved",
                    "ExpressionAttributeValues": {
                        ":t": val(True),
                        ":f": val(False),
                        ":approved": val(approved),
                        ":rid": val(refund.id),
                        ":now": val(now),
                    },
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_ddb({"pk": pk, "sk": PAYMENT_SK}),
                    "UpdateExpression": "SET updated_at = :now, changed_day = :day "
                    "ADD refundable_amount :back, version :one",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {
                        ":now": val(now),
                        ":day": val(changed_key(payment_id, now)),
                        ":back": val(give_back),
                        ":one": val(1),
                    },
                }
            },
            {"Update": self._refund_final(pk, refund.id, approved, action_id, now, was_open=True)},
        ]
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException" and any(
                failed(cancellation_reasons(exc), i) for i in range(3)
            ):
                return False
            raise
        return True

    # ---------------------------------------------------------------- the request's life
    def reserve_refund(self, refund: Refund, *, now: int) -> None:
        """Reserve the amount and record the refund as Requested, atomically.

        ``refundable_amount >= :amt`` is the guard that makes concurrent refunds safe: DynamoDB applies
        conditional writes to one item one at a time, so their sum can never pass the capture.
        """
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_ddb({"pk": payment_pk(refund.payment_id), "sk": PAYMENT_SK}),
                            "UpdateExpression": "SET updated_at = :now, changed_day = :day "
                            "ADD refundable_amount :neg, version :one",
                            "ConditionExpression": "#stage = :captured AND refundable_amount >= :amt",
                            "ExpressionAttributeNames": {"#stage": "stage"},
                            "ExpressionAttributeValues": {
                                ":now": val(now),
                                ":neg": val(-refund.amount),
                                ":day": val(changed_key(refund.payment_id, now)),
                                ":amt": val(refund.amount),
                                ":one": val(1),
                                ":captured": val(Stage.CAPTURED.value),
                            },
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_ddb(refund_item(refund)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(exc)
            if failed(reasons, 1):
                existing = from_ddb(reasons[1].get("Item"))
                got = refund_from(existing) if existing else self.get_refund(refund.payment_id, refund.id)
                if got is not None:
                    raise RefundExists(got) from None
            if failed(reasons, 0):
                item = from_ddb(reasons[0].get("Item"))
                raise RefundReserveRejected(payment_from(item) if item else None) from None
            raise

    def close_refund(self, payment_id: str, refund_id: str, *, amount: int, failure: str, now: int) -> bool:
        """Checkout.com refused the refund request: mark it Failed and release its reservation."""
        pk = payment_pk(payment_id)
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_ddb({"pk": pk, "sk": refund_sk(refund_id)}),
                            "UpdateExpression": "SET #state = :failed, failure = :why, updated_at = :now "
                            "REMOVE open_refund_pk, open_refund_sk",
                            "ConditionExpression": "#state IN (:o1, :o2)",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                ":failed": val(RefundState.FAILED.value),
                                ":why": val(failure[:500]),
                                ":now": val(now),
                                ":o1": val(RefundState.REQUESTED.value),
                                ":o2": val(RefundState.PENDING.value),
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_ddb({"pk": pk, "sk": PAYMENT_SK}),
                            "UpdateExpression": "SET updated_at = :now, changed_day = :day "
                            "ADD refundable_amount :amt, version :one",
                            "ExpressionAttributeValues": {
                                ":now": val(now),
                                ":day": val(changed_key(payment_id, now)),
                                ":amt": val(amount),
                                ":one": val(1),
                            },
                        }
                    },
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                return False
            raise
        return True

    def claim_refund_post(self, payment_id: str, refund_id: str, *, now: int) -> bool:
        """Write, before the POST leaves, that it is about to: only one POST of a refund is ever sent
        unless it provably never reached Checkout.com (:meth:`release_refund_post`). False: another
        POST may have reached Checkout, or the refund is no longer Requested."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": refund_sk(refund_id)}),
                UpdateExpression="SET posted_at = :now, updated_at = :now",
                # posted_at is never stored empty: items drop None, and a release REMOVEs it
                ConditionExpression="#state = :requested AND attribute_not_exists(posted_at)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": val(now),
                    ":requested": val(RefundState.REQUESTED.value),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release_refund_post(self, payment_id: str, refund_id: str, *, posted_at: int, now: int) -> bool:
        """The POST claimed at ``posted_at`` provably never reached Checkout.com (the connection never
        opened, 429): the refund may be asked for again."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": refund_sk(refund_id)}),
                UpdateExpression="REMOVE posted_at SET updated_at = :now",
                ConditionExpression="#state = :requested AND posted_at = :posted",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": val(now),
                    ":posted": val(posted_at),
                    ":requested": val(RefundState.REQUESTED.value),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def mark_refund_pending(self, payment_id: str, refund_id: str, *, action_id: str | None, now: int) -> bool:
        """Checkout.com accepted the request (202): Requested → Pending, and the action id is recorded
        (outcomes are matched by it first). An open refund that lacks the action id gets it too."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": refund_sk(refund_id)}),
                UpdateExpression="SET #state = :pending, action_id = :aid, updated_at = :now",
                ConditionExpression="#state = :requested OR (#state = :pending AND "
                "(attribute_not_exists(action_id) OR action_id = :empty))",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":pending": val(RefundState.PENDING.value),
                    ":requested": val(RefundState.REQUESTED.value),
                    ":aid": val(action_id or ""),
                    ":empty": val(""),
                    ":now": val(now),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def bump_execution(self, payment_id: str, refund_id: str, *, seen: int, now: int) -> int | None:
        """Count one more workflow execution for an open refund whose count is still ``seen`` (what the
        caller read) and record when (``restarted_at``); returns its number (1, 2, …), or None when the
        refund ended or another caller restarted it first."""
        same = "executions = :seen" if seen else "(attribute_not_exists(executions) OR executions = :seen)"
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": refund_sk(refund_id)}),
                UpdateExpression="SET updated_at = :now, restarted_at = :now ADD executions :one",
                ConditionExpression=f"#state IN (:o1, :o2) AND {same}",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": val(now),
                    ":one": val(1),
                    ":seen": val(seen),
                    ":o1": val(RefundState.REQUESTED.value),
                    ":o2": val(RefundState.PENDING.value),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return None
        return seen + 1  # the condition held: the count was ``seen`` and is one more now

    def store_task_token(self, payment_id: str, refund_id: str, *, token: str, now: int) -> Refund:
        """Attach the waiting execution's token while the refund is open; else return it as it ended."""
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": refund_sk(refund_id)}),
                UpdateExpression="SET task_token = :t, updated_at = :now",
                ConditionExpression="#state IN (:o1, :o2)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":t": val(token),
                    ":now": val(now),
                    ":o1": val(RefundState.REQUESTED.value),
                    ":o2": val(RefundState.PENDING.value),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            stored = refund_from(from_ddb(response["Attributes"]) or {})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = from_ddb(exc.response.get("Item"))
            stored = refund_from(item) if item is not None else self.get_refund(payment_id, refund_id)
        if stored is None:
            raise LookupError(f"refund {refund_id} not found")
        return stored

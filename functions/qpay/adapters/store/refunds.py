"""Refunds: the reservation, the workflow's writes, and each refund outcome counted once."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import cancellation_reasons, error_code, from_ddb, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.errors import (
    ApplyResult,
    RefundExists,
    RefundReserveRejected,
    failed,
)
from qpay.adapters.store.items import event_put, payment_from, refund_from, refund_item
from qpay.adapters.store.keys import (
    PAYMENT_SK,
    change_day,
    payment_pk,
)
from qpay.domain.records import Refund
from qpay.domain.refunds import RefundState
from qpay.domain.states import Stage


class RefundsMixin(StoreBase):
    def get_refund(self, payment_id: str, refund_id: str) -> Refund | None:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": f"REFUND#{refund_id}"}),
            ConsistentRead=True,
        )
        item = from_ddb(response.get("Item"))
        return refund_from(item) if item else None

    def apply_refund_outcome(
        self,
        payment_id: str,
        *,
        action_id: str,
        amount: int,
        approved: bool,
        refund_id: str | None,
        event_id: str | None,
        now: int,
        retain_until: int,
    ) -> ApplyResult:
        """Count one refund action's outcome exactly once, whichever path (webhook, reconcile) saw it.

        Our own refunds (``refund_id`` set) had their amount reserved: success moves it to refunded,
        a decline releases it. A refund made elsewhere (Checkout's Dashboard) had no reservation.
        """
        # If our refund was already closed (e.g. marked Failed) yet Checkout.com reports an outcome,
        # Checkout is the source of truth: the second pass counts it as unreserved money.
        for reserved in (True, False):
            result = self._refund_outcome_tx(
                payment_id, action_id, amount, approved, refund_id, event_id, now, retain_until, reserved=reserved
            )
            if result != "refund-not-open":
                return ApplyResult(result)
        return ApplyResult.STALE

    def _refund_outcome_tx(
        self,
        payment_id: str,
        action_id: str,
        amount: int,
        approved: bool,
        refund_id: str | None,
        event_id: str | None,
        now: int,
        retain_until: int,
        *,
        reserved: bool,
    ) -> str:
        pk = payment_pk(payment_id)
        ours = refund_id is not None and reserved
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_ddb(
                        {
                            "pk": pk,
                            "sk": f"ACTION#{action_id}",
                            "kind": "refund",
                            "approved": approved,
                            "amount": amount,
                            "refund_id": refund_id,
                            "applied_at": now,
                            # no TTL: this is the money ledger; a replayed outcome must always be a duplicate
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if approved:
            delta_refundable = 0 if ours else -amount
            expr = "SET updated_at = :now, changed_day = :day ADD refunded_amount :amt, refundable_amount :dr, version :one"
            values = {":now": val(now), ":amt": val(amount), ":dr": val(delta_refundable), ":one": val(1)}
        else:
            expr = "SET updated_at = :now, changed_day = :day ADD refundable_amount :dr, version :one"
            values = {":now": val(now), ":dr": val(amount if ours else 0), ":one": val(1)}
        values[":day"] = val(change_day(now))
        items.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_ddb({"pk": pk, "sk": PAYMENT_SK}),
                    "UpdateExpression": expr,
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": values,
                }
            }
        )
        if refund_id is not None:
            state = RefundState.REFUNDED if approved else RefundState.DECLINED
            update: dict[str, Any] = {
                "TableName": self._table,
                "Key": to_ddb({"pk": pk, "sk": f"REFUND#{refund_id}"}),
                "UpdateExpression": "SET #state = :st, action_id = :aid, updated_at = :now",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {
                    ":st": val(state.value),
                    ":aid": val(action_id),
                    ":now": val(now),
                },
            }
            if reserved:
                update["ConditionExpression"] = "#state IN (:o1, :o2)"
                update["ExpressionAttributeValues"].update(
                    {":o1": val(RefundState.REQUESTED.value), ":o2": val(RefundState.PENDING.value)}
                )
            items.append({"Update": update})
        if event_id:
            items.append(event_put(self._table, payment_id, event_id, "refund", now, retain_until))
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(exc)
            if failed(reasons, 0) or (event_id and failed(reasons, len(items) - 1)):
                return ApplyResult.DUPLICATE.value
            if failed(reasons, 1):
                return ApplyResult.UNKNOWN.value
            if refund_id is not None and failed(reasons, 2):
                return "refund-not-open"
            raise
        return ApplyResult.APPLIED.value

    # ---------------------------------------------------------------- refunds
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
                                ":day": val(change_day(now)),
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
                            "Key": to_ddb({"pk": pk, "sk": f"REFUND#{refund_id}"}),
                            "UpdateExpression": "SET #state = :failed, failure = :why, updated_at = :now",
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
                                ":day": val(change_day(now)),
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

    def mark_refund_pending(self, payment_id: str, refund_id: str, *, action_id: str | None, now: int) -> None:
        """Checkout.com accepted the request (202). Only Requested moves to Pending."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": f"REFUND#{refund_id}"}),
                UpdateExpression="SET #state = :pending, action_id = if_not_exists(action_id, :aid), updated_at = :now",
                ConditionExpression="#state = :requested",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":pending": val(RefundState.PENDING.value),
                    ":requested": val(RefundState.REQUESTED.value),
                    ":aid": val(action_id or ""),
                    ":now": val(now),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def store_task_token(self, payment_id: str, refund_id: str, *, token: str, now: int) -> Refund:
        """Attach the waiting execution's token while the refund is open; else return it as it ended."""
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": f"REFUND#{refund_id}"}),
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
            return refund_from(from_ddb(response["Attributes"]) or {})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = from_ddb(exc.response.get("Item"))
            if item is None:
                got = self.get_refund(payment_id, refund_id)
                if got is None:
                    raise
                return got
            return refund_from(item)

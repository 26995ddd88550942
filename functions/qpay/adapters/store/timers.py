"""Expiry timers and the attention flag of payments a human must look at."""

from __future__ import annotations

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import error_code, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.items import timer_item
from qpay.adapters.store.keys import PAYMENT_SK, changed_key, payment_pk


class TimersMixin(StoreBase):
    def arm_timer(self, payment_id: str, *, at: int, attempt: int, now: int) -> bool:
        """(Re-)arm the expiry timer and move the payment's deadline, for a payment still open.

        False when the payment closed meanwhile or this attempt was armed already (redelivery)."""
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": to_ddb(timer_item(payment_id, at, attempt))}},
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                            "UpdateExpression": "SET deadline = :at, pending_sk = :at, expiry_attempts = :n, "
                            "updated_at = :now, changed_day = :day",
                            # still open, and not re-armed for this attempt already (a redelivered record)
                            "ConditionExpression": "attribute_exists(pending_pk) AND "
                            "(attribute_not_exists(expiry_attempts) OR expiry_attempts < :n)",
                            "ExpressionAttributeValues": {
                                ":at": val(at),
                                ":n": val(attempt),
                                ":now": val(now),
                                ":day": val(changed_key(payment_id, now)),
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

    def flag_attention(self, payment_id: str, *, now: int, reason: str, open_only: bool = True) -> bool:
        """Mark a payment for a human (by default only while it is open). True only the first time, so
        the alarm counts it once."""
        condition = "attribute_exists(pk) AND attention <> :t"
        if open_only:
            condition += " AND attribute_exists(pending_pk)"
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                UpdateExpression="SET attention = :t, attention_reason = :why, updated_at = :now, changed_day = :day",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":t": val(True),
                    ":why": val(reason),
                    ":now": val(now),
                    ":day": val(changed_key(payment_id, now)),
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

"""What Checkout.com said about a payment's end, kept on the payment item for the merchant."""

from __future__ import annotations

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import error_code, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.keys import PAYMENT_SK, payment_pk
from qpay.domain.states import OPEN_STAGES, Stage


class OutcomesMixin(StoreBase):
    def record_decline(self, payment_id: str, decline: dict[str, str]) -> bool:
        """Keep Checkout's decline reason on a payment still open, written just before the decline is
        applied, so the transition's stream record (and its ``Payment Declined`` order event) carries it;
        or on a payment already Declined (the shopper's return asked Checkout first: its GET carries no
        reason), for ``GET /payments/{id}``. Conditional: the first reason stays (a redelivery changes
        nothing), and a payment that ended otherwise is left alone. False when nothing was written."""
        opens = sorted(s.value for s in (*OPEN_STAGES, Stage.DECLINED))
        values = {":d": val(decline), **{f":o{i}": val(s) for i, s in enumerate(opens)}}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                UpdateExpression="SET decline = :d",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(decline) AND #stage IN ("
                + ", ".join(f":o{i}" for i in range(len(opens)))
                + ")",
                ExpressionAttributeNames={"#stage": "stage"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

"""Payments: create (intent, completion, abort), reads, and the state transitions webhooks drive."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import cancellation_reasons, error_code, from_ddb, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.errors import (
    ApplyResult,
    CreateConflict,
    ReferenceTaken,
    failed,
)
from qpay.adapters.store.items import payment_from, payment_item, refund_from, timer_item
from qpay.adapters.store.keys import (
    CUSTOMER_SK,
    DEFAULT_CUSTOMER_RETENTION_S,
    PAYMENT_SK,
    TIMER_SK,
    TTL_ATTRIBUTE,
    change_day,
    payment_pk,
    reference_pk,
)
from qpay.domain.records import Payment, Refund
from qpay.domain.states import DEAD_STAGES, FINAL_STAGES, Stage, Transition


class PaymentsMixin(StoreBase):
    # ---------------------------------------------------------------- create
    def begin_create(self, payment: Payment, *, timer_at: int, now: int, customer_until: int | None = None) -> None:
        """Write the payment intent, claim its order reference and arm its expiry timer, atomically.

        The customer's name and email (if any) go to a separate ``CUSTOMER`` item that carries the TTL
        attribute (``customer_until``, default 30 days): DynamoDB deletes it, the payment stays."""
        until = customer_until if customer_until is not None else now + DEFAULT_CUSTOMER_RETENTION_S
        self._begin_create(payment, timer_at=timer_at, now=now, previous_owner=None, customer_until=until)

    def _begin_create(
        self, payment: Payment, *, timer_at: int, now: int, previous_owner: str | None, customer_until: int
    ) -> None:
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_ddb(payment_item(payment)),
                    # a new id, or a retry with the same idempotency key whose first attempt died
                    # before Checkout.com answered (lease over, no Checkout id): take it over.
                    "ConditionExpression": "attribute_not_exists(pk) OR (request_hash = :h "
                    "AND lease_until < :now AND attribute_not_exists(cko_id))",
                    "ExpressionAttributeValues": {":h": val(payment.request_hash), ":now": val(now)},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_ddb(
                        {
                            "pk": reference_pk(payment.reference),
                            "sk": "REFERENCE",
                            "payment_id": payment.id,
                            "updated_at": now,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk) OR payment_id = :pid",
                    "ExpressionAttributeValues": {":pid": val(previous_owner or payment.id)},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Put": {"TableName": self._table, "Item": to_ddb(timer_item(payment.id, timer_at, 0))}},
        ]
        if previous_owner:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": to_ddb({"pk": payment_pk(previous_owner), "sk": PAYMENT_SK}),
                        "ConditionExpression": "#stage IN (:d1, :d2, :d3)",
                        "ExpressionAttributeNames": {"#stage": "stage"},
                        "ExpressionAttributeValues": {
                            f":d{i}": val(s.value) for i, s in enumerate(sorted(DEAD_STAGES), 1)
                        },
                    }
                }
            )
        if payment.customer:  # last: no condition, so the indexes of the checks above stay put
            customer = {k: v for k, v in payment.customer.items() if k in ("name", "email") and v}
            item: dict[str, Any] = {"pk": payment_pk(payment.id), "sk": CUSTOMER_SK, "kind": "customer", **customer}
            item[TTL_ATTRIBUTE] = customer_until
            items.append({"Put": {"TableName": self._table, "Item": to_ddb(item)}})
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(exc)
            if failed(reasons, 0):
                existing = from_ddb(reasons[0].get("Item"))
                if existing is None:  # a concurrent writer: read what is there now
                    got = self.get_payment(payment.id)
                    if got is None:
                        raise
                    raise CreateConflict(got) from None
                raise CreateConflict(payment_from(existing)) from None
            if failed(reasons, 1):
                owner = (from_ddb(reasons[1].get("Item")) or {}).get("payment_id")
                if owner and previous_owner is None and owner != payment.id:
                    # the reference belongs to another payment: if that one is dead, take it over
                    old = self.get_payment(str(owner))
                    if old is None or old.stage in DEAD_STAGES:
                        self._begin_create(
                            payment,
                            timer_at=timer_at,
                            now=now,
                            previous_owner=str(owner),
                            customer_until=customer_until,
                        )
                        return
                raise ReferenceTaken(str(owner or "")) from None
            if previous_owner and failed(reasons, 3):
                raise ReferenceTaken(str(previous_owner)) from None
            raise

    def complete_create(self, payment_id: str, *, cko_id: str, redirect_url: str, now: int) -> Payment:
        response = self._db.update_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
            UpdateExpression="SET cko_id = :c, redirect_url = :r, updated_at = :now, changed_day = :day "
            "ADD version :one REMOVE lease_until",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(cko_id) OR cko_id = :c)",
            ExpressionAttributeValues={
                ":c": val(cko_id),
                ":r": val(redirect_url),
                ":now": val(now),
                ":day": val(change_day(now)),
                ":one": val(1),
            },
            ReturnValues="ALL_NEW",
        )
        return payment_from(from_ddb(response["Attributes"]) or {})

    def abort_create(self, payment: Payment) -> bool:
        """Remove an intent Checkout.com never accepted, so a retry starts clean. False if it did accept."""
        key = {"pk": payment_pk(payment.id)}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": to_ddb({**key, "sk": PAYMENT_SK}),
                            "ConditionExpression": "attribute_not_exists(cko_id)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": to_ddb({"pk": reference_pk(payment.reference), "sk": "REFERENCE"}),
                            "ConditionExpression": "attribute_not_exists(pk) OR payment_id = :pid",
                            "ExpressionAttributeValues": {":pid": val(payment.id)},
                        }
                    },
                    {"Delete": {"TableName": self._table, "Key": to_ddb({**key, "sk": TIMER_SK})}},
                    {"Delete": {"TableName": self._table, "Key": to_ddb({**key, "sk": CUSTOMER_SK})}},
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                return False
            raise
        return True

    # ---------------------------------------------------------------- reads
    def get_payment(self, payment_id: str) -> Payment | None:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
            ConsistentRead=True,
        )
        item = from_ddb(response.get("Item"))
        return payment_from(item) if item else None

    def get_payment_with_refunds(self, payment_id: str) -> tuple[Payment | None, list[Refund]]:
        """One query: the payment item and its refunds (sk between PAYMENT and REFUND#~)."""
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": val(payment_pk(payment_id)),
                ":lo": val(PAYMENT_SK),
                ":hi": val("REFUND#~"),
            },
            ConsistentRead=True,
        )
        payment: Payment | None = None
        refunds: list[Refund] = []
        for raw in response.get("Items", []):
            item = from_ddb(raw) or {}
            if item["sk"] == PAYMENT_SK:
                payment = payment_from(item)
            elif str(item["sk"]).startswith("REFUND#"):
                refunds.append(refund_from(item))
        refunds.sort(key=lambda r: (r.created_at, r.id))
        return payment, refunds

    # ---------------------------------------------------------------- transitions
    def apply_transition(
        self,
        payment_id: str,
        *,
        event_id: str,
        event_type: str,
        rule: Transition,
        cko_id: str | None,
        amount: int | None,
        now: int,
    ) -> tuple[ApplyResult, Payment | None]:
        """Move the stage by ``rule`` and record the event on the payment itself: one conditional
        ``UpdateItem`` on one item (one round trip, one write unit for a typical payment). A duplicate
        fails ``NOT contains(applied_events, :evt_id)``, a late event fails the stage condition."""
        names = {"#stage": "stage"}
        values: dict[str, Any] = {
            ":target": val(rule.target.value),
            ":now": val(now),
            ":one": val(1),
            ":evt": val(event_type),
            ":day": val(change_day(now)),
            ":evt_id": val(event_id),
            ":evt_list": val([event_id]),
            ":none": val([]),
        }
        sources = sorted(rule.sources)
        for i, s in enumerate(sources):
            values[f":s{i}"] = val(s.value)
        sets = [
            "#stage = :target",
            "updated_at = :now",
            "changed_day = :day",
            "last_event = :evt",
            "applied_events = list_append(if_not_exists(applied_events, :none), :evt_list)",
        ]
        if cko_id:
            sets.append("cko_id = if_not_exists(cko_id, :cko)")
            values[":cko"] = val(cko_id)
        if rule.target is Stage.CAPTURED and amount is not None:
            sets += ["captured_amount = :amt", "refundable_amount = :amt - refunded_amount"]
            values[":amt"] = val(amount)
        expression = "SET " + ", ".join(sets) + " ADD version :one"
        if rule.target in FINAL_STAGES:
            expression += " REMOVE pending_pk, pending_sk"
        condition = (
            "attribute_exists(pk) AND NOT contains(applied_events, :evt_id) AND #stage IN ("
            + ", ".join(f":s{i}" for i in range(len(sources)))
            + ")"
        )
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = from_ddb(exc.response.get("Item"))
            if item is None:
                return ApplyResult.UNKNOWN, None
            if event_id in (item.get("applied_events") or []):
                return ApplyResult.DUPLICATE, None
            return ApplyResult.STALE, payment_from(item)
        return ApplyResult.APPLIED, None

"""Payments: create (intent, completion, abort), reads, and the state transitions webhooks drive."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import cancellation_reasons, error_code, from_ddb, to_ddb, val
from qpay.adapters.store.base import StoreBase
from qpay.adapters.store.errors import ApplyResult, CheckoutIdTaken, CreateConflict, ReferenceTaken, conflicted, failed
from qpay.adapters.store.items import payment_from, payment_item, refund_from, timer_item
from qpay.adapters.store.keys import (
    BY_CKO_INDEX,
    CUSTOMER_SK,
    DEFAULT_CUSTOMER_RETENTION_S,
    PAYMENT_SK,
    REFERENCE_SK,
    TIMER_SK,
    TTL_ATTRIBUTE,
    anomaly_sk,
    changed_key,
    payment_pk,
    reference_pk,
)
from qpay.domain.records import Payment, Refund
from qpay.domain.states import DEAD_STAGES, FINAL_STAGES, Stage, Transition

CONFLICT_ATTEMPTS = 4  # concurrent transactions on one item: DynamoDB may cancel all of them at once


@dataclass(frozen=True)
class Transitioned:
    """What one transition write did: the result, the payment as it is now when the write did not
    apply (stale/foreign), and the stage it left when it did (a capture from a dead stage is news)."""

    result: ApplyResult
    current: Payment | None = None
    previous_stage: Stage | None = None
    ordered_amount: int | None = None  # the payment's amount, read back on a capture that named an amount


class PaymentsMixin(StoreBase):
    # ---------------------------------------------------------------- create
    def begin_create(self, payment: Payment, *, timer_at: int, now: int, customer_until: int | None = None) -> None:
        """Write the payment intent, claim its order reference and arm its expiry timer, atomically.

        The customer's name and email (if any) go to a separate ``CUSTOMER`` item that carries the TTL
        attribute (``customer_until``, default 30 days): DynamoDB deletes it, the payment stays.

        Concurrent creates of one id or one reference: DynamoDB may cancel every one of the competing
        transactions (``TransactionConflict``); they are retried a few times with jitter, so exactly one
        wins and the others see the winner (:class:`CreateConflict` / :class:`ReferenceTaken`). A retry
        whose first attempt did land (a lost response) recognises its own ``create_attempt`` nonce."""
        until = customer_until if customer_until is not None else now + DEFAULT_CUSTOMER_RETENTION_S
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self._begin_create(payment, timer_at=timer_at, now=now, previous_owner=None, customer_until=until)
                return
            except CreateConflict as conflict:
                if payment.create_attempt and conflict.existing.create_attempt == payment.create_attempt:
                    return  # our own earlier attempt landed; its answer was lost
                raise
            except ClientError as exc:
                if not conflicted(exc) or attempt == CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05 * 2**attempt))

    def _begin_create(
        self, payment: Payment, *, timer_at: int, now: int, previous_owner: str | None, customer_until: int
    ) -> None:
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_ddb(payment_item(payment)),
                    # a new id, or a retry with the same idempotency key whose first attempt died
                    # before Checkout.com answered (lease over, no Checkout id, still Pending): take it
                    # over. An intent the sweep ended stays ended (never Expired -> Pending: the
                    # simulation's seed 1); the retry is answered 409 and a new key starts afresh.
                    "ConditionExpression": "attribute_not_exists(pk) OR (request_hash = :h "
                    "AND lease_until < :now AND attribute_not_exists(cko_id) AND #stage = :pending)",
                    "ExpressionAttributeNames": {"#stage": "stage"},
                    "ExpressionAttributeValues": {
                        ":h": val(payment.request_hash),
                        ":now": val(now),
                        ":pending": val(Stage.PENDING.value),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_ddb(
                        {
                            "pk": reference_pk(payment.reference),
                            "sk": REFERENCE_SK,
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
        """Record Checkout's id and the QPay link. :class:`CheckoutIdTaken` if another Checkout payment is
        already bound to this one (an orphan Checkout created on a retry after a 5xx), or if the payment
        ended before it was bound (``existing.cko_id`` is then None)."""
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                UpdateExpression="SET cko_id = :c, redirect_url = :r, updated_at = :now, changed_day = :day "
                "ADD version :one REMOVE lease_until",
                # a new Checkout id binds only to a payment still Pending (one ended meanwhile stays ended)
                ConditionExpression="attribute_exists(pk) AND "
                "((attribute_not_exists(cko_id) AND #stage = :pending) OR cko_id = :c)",
                ExpressionAttributeNames={"#stage": "stage"},
                ExpressionAttributeValues={
                    ":pending": val(Stage.PENDING.value),
                    ":c": val(cko_id),
                    ":r": val(redirect_url),
                    ":now": val(now),
                    ":day": val(changed_key(payment_id, now)),
                    ":one": val(1),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = from_ddb(exc.response.get("Item"))
            if item is None:
                raise
            raise CheckoutIdTaken(payment_from(item)) from None
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
                            "Key": to_ddb({"pk": reference_pk(payment.reference), "sk": REFERENCE_SK}),
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
        """One query: the payment item and its refunds (sk between PAYMENT and REFUND#~). An item under
        REFUND# that is not a whole refund is skipped, never allowed to break the read."""
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
                refund = refund_from(item)
                if refund is not None:
                    refunds.append(refund)
        refunds.sort(key=lambda r: (r.created_at, r.id))
        return payment, refunds

    def find_by_cko_id(self, cko_id: str) -> str | None:
        """Our payment id for Checkout's ``pay_…`` (the sparse by-cko-id index), for notifications that
        carry no metadata (``payment_canceled``, ``payment_refund_pending``). Eventually consistent:
        the id is written when the create completes, long before the shopper can act."""
        response = self._db.query(
            TableName=self._table,
            IndexName=BY_CKO_INDEX,
            KeyConditionExpression="cko_id = :c",
            ExpressionAttributeValues={":c": val(cko_id)},
            Limit=2,
        )
        for raw in response.get("Items", []):
            item = from_ddb(raw) or {}
            if item.get("sk") == PAYMENT_SK:
                return str(item["pk"]).removeprefix("PAYMENT#")
        return None

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
        intent_attempt: str | None = None,
    ) -> Transitioned:
        """Move the stage by ``rule`` and record the event on the payment itself: one conditional
        ``UpdateItem`` on one item (one round trip, one write unit for a typical payment). A duplicate
        fails ``NOT contains(applied_events, :evt_id)``, a late event fails the stage condition, and an
        event about another Checkout payment than the one bound to ours fails ``cko_id = :cko``
        (:attr:`ApplyResult.FOREIGN`: recorded by the caller, never applied)."""
        names = {"#stage": "stage"}
        values: dict[str, Any] = {
            ":target": val(rule.target.value),
            ":now": val(now),
            ":one": val(1),
            ":evt": val(event_type),
            ":day": val(changed_key(payment_id, now)),
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
        condition = (
            "attribute_exists(pk) AND NOT contains(applied_events, :evt_id) AND #stage IN ("
            + ", ".join(f":s{i}" for i in range(len(sources)))
            + ")"
        )
        if intent_attempt is not None:
            # ending a create intent Checkout never saw: only the attempt that was examined, still unbound
            # and still past its lease (a same-key retry that took it over is left alone: correctness F4)
            condition += (
                " AND create_attempt = :attempt AND attribute_not_exists(cko_id)"
                " AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            )
            values[":attempt"] = val(intent_attempt)
        if cko_id:
            sets.append("cko_id = if_not_exists(cko_id, :cko)")
            values[":cko"] = val(cko_id)
            condition += " AND (attribute_not_exists(cko_id) OR cko_id = :cko)"
        if rule.target is Stage.CAPTURED:
            if amount is not None:
                sets += ["captured_amount = :amt", "refundable_amount = :amt - refunded_amount"]
                values[":amt"] = val(amount)
            else:  # Checkout said captured without an amount: QPay captures the whole amount
                sets += ["captured_amount = #amount", "refundable_amount = #amount - refunded_amount"]
                names["#amount"] = "amount"
        expression = "SET " + ", ".join(sets) + " ADD version :one"
        if rule.target in FINAL_STAGES:
            expression += " REMOVE pending_pk, pending_sk"
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                # a capture with Checkout's amount reads the ordered amount back in the same call (to
                # compare them); every other transition returns only what it changed
                ReturnValues="ALL_OLD" if ":amt" in values else "UPDATED_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = from_ddb(exc.response.get("Item"))
            if item is None:
                return Transitioned(ApplyResult.UNKNOWN)
            if event_id in (item.get("applied_events") or []):
                return Transitioned(ApplyResult.DUPLICATE)
            current = payment_from(item)
            if cko_id and current.cko_id and current.cko_id != cko_id:
                return Transitioned(ApplyResult.FOREIGN, current)
            return Transitioned(ApplyResult.STALE, current)
        old = from_ddb(response.get("Attributes")) or {}
        ordered = old.get("amount")
        return Transitioned(
            ApplyResult.APPLIED,
            previous_stage=Stage(old["stage"]) if "stage" in old else None,
            ordered_amount=ordered if isinstance(ordered, int) and not isinstance(ordered, bool) else None,
        )

    # ---------------------------------------------------------------- anomalies
    def get_anomaly(self, payment_id: str, key: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": anomaly_sk(key)}),
            ConsistentRead=True,
        )
        return from_ddb(response.get("Item"))

    def record_anomaly(self, payment_id: str, key: str, *, kind: str, detail: dict[str, Any], now: int) -> bool:
        """Park something that does not add up for a human and reconciliation (once per ``key``): an
        event about another Checkout payment, money that does not match the payment. Never applied."""
        item = {
            "pk": payment_pk(payment_id),
            "sk": anomaly_sk(key),
            "kind": "anomaly",
            "anomaly": kind,
            "detail": detail,
            "recorded_at": now,
        }
        try:
            self._db.put_item(TableName=self._table, Item=to_ddb(item), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

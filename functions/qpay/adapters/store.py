"""Payment state in one DynamoDB table. Every state change is one conditional write or one transaction.

Items (``pk`` / ``sk``):
- ``PAYMENT#<id>`` / ``PAYMENT``: the payment (stage, money counters, version, and the ids of the
  payment notifications applied to it, ``applied_events``: a duplicate fails the same condition that
  guards the stage). Carries the sparse pending-index keys (``pending_pk``, ``pending_sk`` = deadline)
  only while it is open.
- ``PAYMENT#<id>`` / ``EVENT#<evt_…>``: an applied refund notification, written in the same transaction
  as the money it moved, so a duplicate fails the condition and changes nothing.
- ``PAYMENT#<id>`` / ``ACTION#<act_…>``: a refund outcome counted once, whichever path saw it first
  (webhook or reconciliation).
- ``PAYMENT#<id>`` / ``REFUND#<qrf_…>``: a refund we requested (amount, state, task token).
- ``PAYMENT#<id>`` / ``TIMER``: the expiry timer. Its TTL removal is what the stream consumer acts
  on (the event source mapping's filter passes only ``sk = TIMER`` removals). Refund-notification records
  carry the same TTL attribute so they age out, but the filter never lets them through.
- ``REFERENCE#<merchant reference>`` / ``REFERENCE``: one live payment per order reference.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from qpay.adapters.dynamo import cancellation_reasons, error_code, from_ddb, to_ddb, val
from qpay.domain.records import Payment, Refund
from qpay.domain.refunds import OPEN_REFUND_STATES, RefundState
from qpay.domain.states import DEAD_STAGES, FINAL_STAGES, Stage, Transition

PAYMENT_SK = "PAYMENT"
TIMER_SK = "TIMER"
PENDING_INDEX = "pending-by-deadline"
PENDING_PK = "PENDING"
TTL_ATTRIBUTE = "expires_at_epoch"
CHANGED_INDEX = "changed-by-day"
CUSTOMER_SK = "CUSTOMER"
DEFAULT_CUSTOMER_RETENTION_S = 30 * 86400


def change_day(epoch: int) -> str:
    """The ``changed_day`` partition of the changed-by-day index (UTC date of the last change)."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def payment_pk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def reference_pk(reference: str) -> str:
    return f"REFERENCE#{reference}"


class ApplyResult(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event (or refund action) was applied before
    STALE = "stale"  # the payment is already past what this event would do
    UNKNOWN = "unknown"  # no such payment here


@dataclass
class CreateConflict(Exception):
    """The payment id (idempotency key) already exists: the caller decides replay vs 409."""

    existing: Payment


@dataclass
class ReferenceTaken(Exception):
    payment_id: str


@dataclass
class RefundReserveRejected(Exception):
    """The reservation's condition failed: the payment as it is now, for the error message."""

    payment: Payment | None


@dataclass
class RefundExists(Exception):
    existing: Refund


class PaymentStore:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

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
                    "Item": to_ddb(self._payment_item(payment)),
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
            {"Put": {"TableName": self._table, "Item": to_ddb(self._timer_item(payment.id, timer_at, 0))}},
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
            if _failed(reasons, 0):
                existing = from_ddb(reasons[0].get("Item"))
                if existing is None:  # a concurrent writer: read what is there now
                    got = self.get_payment(payment.id)
                    if got is None:
                        raise
                    raise CreateConflict(got) from None
                raise CreateConflict(_payment_from(existing)) from None
            if _failed(reasons, 1):
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
            if previous_owner and _failed(reasons, 3):
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
        return _payment_from(from_ddb(response["Attributes"]) or {})

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
        return _payment_from(item) if item else None

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
                payment = _payment_from(item)
            elif str(item["sk"]).startswith("REFUND#"):
                refunds.append(_refund_from(item))
        refunds.sort(key=lambda r: (r.created_at, r.id))
        return payment, refunds

    def get_refund(self, payment_id: str, refund_id: str) -> Refund | None:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_ddb({"pk": payment_pk(payment_id), "sk": f"REFUND#{refund_id}"}),
            ConsistentRead=True,
        )
        item = from_ddb(response.get("Item"))
        return _refund_from(item) if item else None

    def due_pending(
        self, *, now: int, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Ids of open payments whose deadline has passed, oldest first, from the sparse pending index."""
        return self._index_page(
            PENDING_INDEX, "pending_pk = :a AND pending_sk <= :b", PENDING_PK, now, limit, start_key
        )

    def changed_payments(
        self, *, day: str, since: int, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Ids of payments last changed on ``day`` (UTC) at or after ``since``, from the sparse
        changed-by-day index (never a table scan). Paginated by the caller."""
        return self._index_page(CHANGED_INDEX, "changed_day = :a AND updated_at >= :b", day, since, limit, start_key)

    def _index_page(
        self, index: str, condition: str, a: str, b: int, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """One page of payment ids from a sparse index (keys only; read each payment as needed)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {":a": val(a), ":b": val(b)},
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        response = self._db.query(**kwargs)
        ids = [str((from_ddb(i) or {})["pk"]).removeprefix("PAYMENT#") for i in response.get("Items", [])]
        return ids, response.get("LastEvaluatedKey")

    def put_report(self, day: str, report: dict[str, Any], *, now: int, retain_until: int) -> None:
        """The reconciliation report of ``day`` (one item per day; a re-run overwrites it)."""
        item = {"pk": f"REPORT#{day}", "sk": "REPORT", "kind": "report", "written_at": now, **report}
        item[TTL_ATTRIBUTE] = retain_until
        self._db.put_item(TableName=self._table, Item=to_ddb(item))

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
            return ApplyResult.STALE, _payment_from(item)
        return ApplyResult.APPLIED, None

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
            items.append(self._event_put(payment_id, event_id, "refund", now, retain_until))
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(exc)
            if _failed(reasons, 0) or (event_id and _failed(reasons, len(items) - 1)):
                return ApplyResult.DUPLICATE.value
            if _failed(reasons, 1):
                return ApplyResult.UNKNOWN.value
            if refund_id is not None and _failed(reasons, 2):
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
                            "Item": to_ddb(self._refund_item(refund)),
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
            if _failed(reasons, 1):
                existing = from_ddb(reasons[1].get("Item"))
                got = _refund_from(existing) if existing else self.get_refund(refund.payment_id, refund.id)
                if got is not None:
                    raise RefundExists(got) from None
            if _failed(reasons, 0):
                item = from_ddb(reasons[0].get("Item"))
                raise RefundReserveRejected(_payment_from(item) if item else None) from None
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
            return _refund_from(from_ddb(response["Attributes"]) or {})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = from_ddb(exc.response.get("Item"))
            if item is None:
                got = self.get_refund(payment_id, refund_id)
                if got is None:
                    raise
                return got
            return _refund_from(item)

    # ---------------------------------------------------------------- expiry
    def arm_timer(self, payment_id: str, *, at: int, attempt: int, now: int) -> bool:
        """(Re-)arm the expiry timer and move the payment's deadline, for a payment still open.

        False when the payment closed meanwhile or this attempt was armed already (redelivery)."""
        try:
            self._arm_timer(payment_id, at=at, attempt=attempt, now=now)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                return False
            raise
        return True

    def _arm_timer(self, payment_id: str, *, at: int, attempt: int, now: int) -> None:
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_ddb(self._timer_item(payment_id, at, attempt)),
                    }
                },
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
                            ":day": val(change_day(now)),
                        },
                    }
                },
            ]
        )

    def flag_attention(self, payment_id: str, *, now: int, reason: str) -> bool:
        """Mark an open payment for a human. True only the first time (so the alarm counts it once)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_ddb({"pk": payment_pk(payment_id), "sk": PAYMENT_SK}),
                UpdateExpression="SET attention = :t, attention_reason = :why, updated_at = :now, changed_day = :day",
                ConditionExpression="attribute_exists(pending_pk) AND attention <> :t",
                ExpressionAttributeValues={
                    ":t": val(True),
                    ":why": val(reason),
                    ":now": val(now),
                    ":day": val(change_day(now)),
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---------------------------------------------------------------- item shapes
    @staticmethod
    def _payment_item(p: Payment) -> dict[str, Any]:
        item = asdict(p)
        item["stage"] = p.stage.value
        item.update(pk=payment_pk(p.id), sk=PAYMENT_SK, kind="payment", attention=False)
        item["changed_day"] = change_day(p.updated_at or p.created_at)
        if p.stage not in FINAL_STAGES:
            item.update(pending_pk=PENDING_PK, pending_sk=p.deadline)
        item.pop("customer")  # name and email live in the CUSTOMER item, which TTL removes
        return item

    @staticmethod
    def _refund_item(r: Refund) -> dict[str, Any]:
        item = asdict(r)
        item["state"] = r.state.value
        item.update(pk=payment_pk(r.payment_id), sk=f"REFUND#{r.id}", kind="refund")
        return item

    @staticmethod
    def _timer_item(payment_id: str, at: int, attempt: int) -> dict[str, Any]:
        return {
            "pk": payment_pk(payment_id),
            "sk": TIMER_SK,
            "kind": "timer",
            TTL_ATTRIBUTE: at,
            "attempt": attempt,
        }

    def _event_put(
        self, payment_id: str, event_id: str, event_type: str, now: int, retain_until: int
    ) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_ddb(
                    {
                        "pk": payment_pk(payment_id),
                        "sk": f"EVENT#{event_id}",
                        "kind": "event",
                        "type": event_type,
                        "applied_at": now,
                        TTL_ATTRIBUTE: retain_until,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }


def _failed(reasons: list[dict[str, Any]], index: int) -> bool:
    """This item's condition failed. Any other reason (TransactionConflict, throttling) is not an
    answer about the data: the caller re-raises and the client (or Checkout.com) retries."""
    return index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed"


def _payment_from(item: dict[str, Any]) -> Payment:
    fields = Payment.__dataclass_fields__
    data = {k: v for k, v in item.items() if k in fields}
    data["stage"] = Stage(item["stage"])
    data.setdefault("metadata", {})
    return Payment(**data)


def _refund_from(item: dict[str, Any]) -> Refund:
    fields = Refund.__dataclass_fields__
    data = {k: v for k, v in item.items() if k in fields}
    data["state"] = RefundState(item["state"])
    return Refund(**data)


__all__ = [
    "OPEN_REFUND_STATES",
    "ApplyResult",
    "CreateConflict",
    "PaymentStore",
    "ReferenceTaken",
    "RefundExists",
    "RefundReserveRejected",
]

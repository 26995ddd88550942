"""Order events derived from the table's stream: what changed between a record's OldImage and NewImage.

Pure: images are plain dicts (``qpay.adapters.dynamo.from_ddb`` of the stream images). The payment's
public status is derived with :func:`qpay.domain.states.derive_status` from the same stage and money
counters the API shows, so an event can never disagree with ``GET /payments/{id}``.

Event ids are deterministic, so a record delivered twice (Lambda retries a stream batch) publishes
the same ids and consumers dedupe on them:

- payment events: ``<payment id>.v<version>.<slug>`` (every status change bumps ``version``; the
  attention flag is set once per payment);
- refund events: ``<refund id>.<state>`` (a refund reaches one final state, once).

Never the national ID (it is not stored) and no customer name or email (those live in a separate
``CUSTOMER`` item that this never reads).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qpay.domain.states import Stage, Status, derive_status

PAYMENT_CAPTURE_PENDING = "Payment Capture Pending"
PAYMENT_CAPTURED = "Payment Captured"
PAYMENT_DECLINED = "Payment Declined"
PAYMENT_CANCELED = "Payment Canceled"
PAYMENT_EXPIRED = "Payment Expired"
PAYMENT_PARTIALLY_REFUNDED = "Payment Partially Refunded"
PAYMENT_REFUNDED = "Payment Refunded"
PAYMENT_NEEDS_ATTENTION = "Payment Needs Attention"
REFUND_SUCCEEDED = "Refund Succeeded"
REFUND_DECLINED = "Refund Declined"
REFUND_FAILED = "Refund Failed"

STATUS_DETAIL_TYPES: dict[Status, str] = {
    Status.CAPTURE_PENDING: PAYMENT_CAPTURE_PENDING,
    Status.CAPTURED: PAYMENT_CAPTURED,
    Status.DECLINED: PAYMENT_DECLINED,
    Status.CANCELED: PAYMENT_CANCELED,
    Status.EXPIRED: PAYMENT_EXPIRED,
    Status.PARTIALLY_REFUNDED: PAYMENT_PARTIALLY_REFUNDED,
    Status.REFUNDED: PAYMENT_REFUNDED,
}
REFUND_DETAIL_TYPES: dict[str, str] = {
    "Refunded": REFUND_SUCCEEDED,
    "Declined": REFUND_DECLINED,
    "Failed": REFUND_FAILED,
}
DETAIL_TYPES = (*STATUS_DETAIL_TYPES.values(), PAYMENT_NEEDS_ATTENTION, *REFUND_DETAIL_TYPES.values())
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class OrderEvent:
    detail_type: str
    event_id: str
    detail: dict[str, Any]


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(image: dict[str, Any] | None, name: str) -> int:
    value = (image or {}).get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _status(image: dict[str, Any] | None) -> Status | None:
    if not image or "stage" not in image:
        return None
    return derive_status(Stage(str(image["stage"])), _int(image, "captured_amount"), _int(image, "refunded_amount"))


def _slug(detail_type: str) -> str:
    return detail_type.lower().replace(" ", "-")


def payment_events(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[OrderEvent]:
    """Events for one change of a ``PAYMENT`` item (INSERT or MODIFY)."""
    if not new or "stage" not in new:
        return []
    payment_id = str(new.get("id") or str(new.get("pk", "")).removeprefix("PAYMENT#"))
    version = _int(new, "version")
    before, after = _status(old), _status(new)
    occurred = _int(new, "updated_at")
    base = {
        "schema_version": SCHEMA_VERSION,
        "payment_id": payment_id,
        "reference": new.get("reference"),
        "status": after.value if after else None,
        "previous_status": before.value if before else None,
        "amount": _int(new, "amount"),
        "currency": new.get("currency"),
        "captured_amount": _int(new, "captured_amount"),
        "refunded_amount": _int(new, "refunded_amount"),
        "cko_payment_id": new.get("cko_id"),
        "version": version,
        "occurred_at": _iso(occurred),
    }
    out: list[OrderEvent] = []
    refunded_more = _int(new, "refunded_amount") > _int(old, "refunded_amount")
    # a status change, or one more partial refund (the status stays Partially Refunded)
    if after is not None and (after != before or (after is Status.PARTIALLY_REFUNDED and refunded_more)):
        detail_type = STATUS_DETAIL_TYPES.get(after)
        if detail_type is not None:
            event_id = f"{payment_id}.v{version}.{_slug(detail_type)}"
            detail = {"event_id": event_id, **base}
            if after is Status.DECLINED:  # why, as Checkout.com said it (None when it did not say)
                decline = new.get("decline")
                detail["decline"] = (
                    {k: decline.get(k) for k in ("response_code", "response_summary")}
                    if isinstance(decline, dict)
                    else None
                )
            out.append(OrderEvent(detail_type, event_id, detail))
    if new.get("attention") is True and (old or {}).get("attention") is not True:
        event_id = f"{payment_id}.{_slug(PAYMENT_NEEDS_ATTENTION)}"
        detail = {"event_id": event_id, **base, "reason": new.get("attention_reason")}
        out.append(OrderEvent(PAYMENT_NEEDS_ATTENTION, event_id, detail))
    return out


def refund_events(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[OrderEvent]:
    """Events for one change of a ``REFUND#…`` item: its arrival in a final state."""
    if not new or "state" not in new:
        return []
    state = str(new["state"])
    if state == (old or {}).get("state"):
        return []
    detail_type = REFUND_DETAIL_TYPES.get(state)
    if detail_type is None:
        return []
    refund_id = str(new.get("id") or str(new.get("sk", "")).removeprefix("REFUND#"))
    event_id = f"{refund_id}.{state.lower()}"
    occurred = _int(new, "updated_at")
    detail = {
        "schema_version": SCHEMA_VERSION,
        "event_id": event_id,
        "refund_id": refund_id,
        "payment_id": new.get("payment_id"),
        "amount": _int(new, "amount"),
        "state": state,
        "reference": new.get("reference"),
        "reason": new.get("reason"),
        "requested_by": new.get("requested_by"),
        "action_id": new.get("action_id") or None,
        "failure": new.get("failure"),
        "occurred_at": _iso(occurred),
    }
    return [OrderEvent(detail_type, event_id, detail)]


def events_for(sk: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[OrderEvent]:
    """Dispatch on the item's sort key; anything else (timers, event records, customer data) → none."""
    if sk == "PAYMENT":
        return payment_events(old, new)
    if sk.startswith("REFUND#"):
        return refund_events(old, new)
    return []

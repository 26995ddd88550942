"""The ``data`` field sets Checkout publishes for the nine QPay webhooks, with their sources.

Stated here independently of the simulator (``cko_sim.event_bodies``), from Checkout's pages:

- workflows event-type pages, https://www.checkout.com/docs/workflows/webhook-event-types/<type>
  (Apr/Jul 2022): payment_capture_pending, payment_canceled (no metadata), payment_expired,
  payment_refund_pending (no reference, no metadata), payment_refunded;
- https://www.checkout.com/docs/developer-resources/webhooks/webhook-event-types/payment_captured (Jul 2023):
  payment_captured with processing and event_links; the envelope's ``_links`` (self, subject,
  payment, payment_actions) and ``event_links`` values as plain URL strings
  (also .../webhook-event-types/payment_declined, 2024);
- https://www.checkout.com/docs/reporting-and-insights/webhooks/webhook-examples/payment_refund_pending
  (Jul 2022): the refund-pending variant with reference and metadata;
- bodies delivered by the NAS sandbox, as summarised in the fidelity review (E16, E17):
  payment_pending (no action_id), payment_capture_declined, payment_refund_declined.

``webhook_examples/<name>.json`` holds one synthetic body per entry (our ids and amounts, QAR), never
a copy of Checkout's examples. ``reference`` is optional everywhere it appears: it is absent when the
request carried none.
"""

from __future__ import annotations

from dataclasses import dataclass

ENVELOPE = frozenset({"id", "type", "version", "created_on", "data", "_links"})
ENVELOPE_LINKS = frozenset({"self", "subject", "payment", "payment_actions"})
BALANCES = frozenset(
    {
        "total_authorized",
        "total_voided",
        "available_to_void",
        "total_captured",
        "available_to_capture",
        "total_refunded",
        "available_to_refund",
    }
)

WORKFLOWS = "https://www.checkout.com/docs/workflows/webhook-event-types/"
DEV_RESOURCES = "https://www.checkout.com/docs/developer-resources/webhooks/webhook-event-types/"
REPORTING = "https://www.checkout.com/docs/reporting-and-insights/webhooks/webhook-examples/"
FIDELITY = "fidelity review E16/E17 (NAS sandbox deliveries)"


@dataclass(frozen=True)
class FieldSet:
    event_type: str
    fields: frozenset[str]
    source: str
    optional: frozenset[str] = frozenset({"reference"})


FIELD_SETS: dict[str, FieldSet] = {
    "payment_pending": FieldSet(
        "payment_pending", frozenset({"id", "reference", "amount", "currency", "processed_on", "metadata"}), FIDELITY
    ),
    "payment_capture_pending": FieldSet(
        "payment_capture_pending",
        frozenset({"id", "action_id", "amount", "processed_on", "reference", "metadata", "currency"}),
        WORKFLOWS + "payment_capture_pending",
    ),
    "payment_captured": FieldSet(
        "payment_captured",
        frozenset(
            {
                "id",
                "action_id",
                "reference",
                "amount",
                "processed_on",
                "response_code",
                "response_summary",
                "balances",
                "metadata",
                "currency",
                "processing",
                "event_links",
            }
        ),
        DEV_RESOURCES + "payment_captured",
    ),
    "payment_capture_declined": FieldSet(
        "payment_capture_declined",
        frozenset({"id", "action_id", "response_code", "response_summary", "balances", "metadata"}),
        FIDELITY,
        optional=frozenset(),
    ),
    "payment_canceled": FieldSet(
        "payment_canceled",
        frozenset({"action_id", "id", "reference", "amount", "currency", "processed_on"}),
        WORKFLOWS + "payment_canceled",
    ),
    "payment_expired": FieldSet(
        "payment_expired",
        frozenset({"action_id", "id", "reference", "amount", "currency", "processed_on", "metadata"}),
        WORKFLOWS + "payment_expired",
    ),
    "payment_refund_pending": FieldSet(
        "payment_refund_pending",
        frozenset({"id", "action_id", "amount", "processed_on", "currency"}),
        WORKFLOWS + "payment_refund_pending",
        optional=frozenset(),
    ),
    "payment_refund_pending.reporting": FieldSet(
        "payment_refund_pending",
        frozenset({"id", "action_id", "amount", "currency", "reference", "metadata", "processed_on"}),
        REPORTING + "payment_refund_pending",
    ),
    "payment_refunded": FieldSet(
        "payment_refunded",
        frozenset(
            {
                "action_id",
                "response_code",
                "response_summary",
                "reference",
                "amount",
                "balances",
                "processing",
                "id",
                "currency",
                "processed_on",
                "metadata",
            }
        ),
        WORKFLOWS + "payment_refunded",
    ),
    "payment_refund_declined": FieldSet(
        "payment_refund_declined",
        frozenset(
            {
                "action_id",
                "response_code",
                "response_summary",
                "reference",
                "amount",
                "balances",
                "processing",
                "id",
                "currency",
                "processed_on",
                "metadata",
            }
        ),
        FIDELITY,
    ),
}

"""Configuration of one simulator instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Checkout's webhook retry schedule after a failed delivery (seconds): 5 min ... 12 h, then give up.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (300, 600, 900, 1800, 3600, 14400, 43200, 43200)


@dataclass
class SimConfig:
    """Everything that shapes a simulator. All fields are optional."""

    #: Where webhooks are POSTed. Empty: events are recorded but never delivered.
    webhook_urls: list[str] = field(default_factory=list)
    #: Key for the ``Cko-Signature`` HMAC-SHA256 of the raw body.
    webhook_signing_key: str = "whsec_cko_sim_default_key"
    #: Optional value sent as the webhook ``Authorization`` header.
    webhook_authorization: str | None = None
    #: ``None``: any key in the SDK's sandbox format is accepted; a string makes auth strict.
    secret_key: str | None = None
    #: Answer ``422 processing_channel_id_required`` when ``processing_channel_id`` is missing.
    require_processing_channel: bool = False
    #: Real seconds per simulated second for delays (webhook retries, delay faults, refund
    #: settlement). 0.001 makes the 5-minute first retry happen after 0.3 s.
    time_scale: float = 1.0
    #: Webhook retry schedule in simulated seconds (scaled by ``time_scale``).
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    #: A delivery that takes longer than this (real seconds) counts as failed.
    webhook_timeout_seconds: float = 10.0
    #: A Pending payment expires after this many simulated seconds (``None``: never by itself).
    payment_expiry_seconds: float | None = 3600.0
    #: ``cko-session-id`` lifetime in simulated seconds.
    session_ttl_seconds: float = 15 * 60
    #: Idempotency-key retention in simulated seconds.
    idempotency_ttl_seconds: float = 24 * 3600
    #: Status for a request whose idempotency key is still in flight (409 today, 429 historically).
    idempotency_conflict_status: int = 409
    #: Delay (simulated seconds, scaled) between a refund's 202 and its outcome.
    refund_settle_seconds: float = 2.0
    #: When set, each refund's delay is drawn uniformly from [refund_settle_seconds, this] with the
    #: seeded RNG: refunds that stay pending for hours or days, as Checkout's do (past its 24 h
    #: idempotency window). Meanwhile ``GET /payments/{id}/actions`` does not list the refund: the
    #: simulator lists a refund action only once settled (the worst case; not published either way).
    refund_settle_max_seconds: float | None = None
    #: A failed QPay payment sends ``payment_canceled`` (Checkout's QPay page: "the customer has canceled
    #: the payment or the payment has failed", fidelity F-8) instead of ``payment_capture_declined``; its
    #: status is then ``Canceled``.
    failed_payment_sends_canceled: bool = False
    #: Refuse every ``POST /payments`` with 422 and these codes, as an account or channel without QPay
    #: is refused (``payee_not_onboarded``, ``apm_service_unavailable``; fidelity F-6, S11). Empty: off.
    refuse_payments_with: tuple[str, ...] = ()
    #: ``False``: no ticker thread; due work (refund settlements, expiries) runs only when the clock
    #: moves or the state is read. A deterministic simulation drives the clock itself.
    background_ticker: bool = True
    #: Webhook chaos by probability (0..1).
    webhook_duplicate_probability: float = 0.0
    webhook_drop_probability: float = 0.0
    webhook_reorder_probability: float = 0.0
    #: Probability that an event is delivered twice at the same instant: a redelivery arriving while the
    #: first attempt is still in flight (deliveries are independent and at least once: Checkout's
    #: webhook receiver page, fidelity review S7/F-22).
    webhook_overlap_probability: float = 0.0
    #: Threads that deliver webhooks. Above 1, different events (of one payment too) and retries are in
    #: flight at the same time, as Checkout's independent deliveries can be (fidelity F-22).
    webhook_workers: int = 1
    #: Extra delay (simulated seconds, scaled) added to every first delivery attempt.
    webhook_delay_seconds: float = 0.0
    #: How long a "timeout" fault holds the connection (real seconds) before closing it.
    timeout_hold_seconds: float = 30.0
    #: Seed for the chaos random generator (``None``: random).
    seed: int | None = None
    #: Public base URL used in ``_links`` (``None``: derived from each request's Host).
    public_base_url: str | None = None
    #: Webhook ``version`` field.
    event_version: str = "1.0.39"
    #: ``data.reference`` on ``payment_refunded`` / ``payment_refund_declined``: ``"refund"`` (the refund
    #: request's own reference, absent when it had none, as Checkout documents) or ``"payment"`` (the
    #: payment's reference instead: the correctness review's H2 scenario a).
    refund_webhook_reference: Literal["refund", "payment"] = "refund"
    #: ``payment_refund_pending`` body: ``"workflows"`` (Checkout's workflows page: no ``reference``, no
    #: ``metadata``) or ``"reporting-and-insights"`` (that page's example: with both).
    refund_pending_shape: Literal["workflows", "reporting-and-insights"] = "workflows"
    #: Status ``GET /payments/{id}`` reports for an abandoned (expired) payment: ``"Expired"`` or
    #: ``"Voided"`` (Checkout's QPay page says abandoned payments are voided).
    expired_payment_status: Literal["Expired", "Voided"] = "Expired"
    #: Merchant name shown on the hosted QPay page.
    merchant_name: str = "Demo Merchant"
    #: Metadata key whose value the admin routes (``/_sim/payments/{id}/…``) also accept as a payment
    #: id: the merchant's own payment id. Only a key name: the simulator knows nothing else about it.
    merchant_id_metadata_key: str = "qpay_payment_id"

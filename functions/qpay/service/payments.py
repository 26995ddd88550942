"""Create a payment, read it, and record what the shopper's return tells us (after asking Checkout.com)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from qpay.adapters.checkout import CheckoutClient, CheckoutRejected, CheckoutUnavailable
from qpay.adapters.store import CreateConflict, PaymentStore, ReferenceTaken
from qpay.adapters.store.errors import CheckoutIdTaken
from qpay.api.auth import Caller
from qpay.api.requests import CreatePayment, fingerprint_document
from qpay.domain import ids
from qpay.domain.errors import Conflict, UpstreamRejected, UpstreamUnavailable, ValidationFailed
from qpay.domain.events import METADATA_PAYMENT_ID
from qpay.domain.records import Payment
from qpay.domain.states import DEAD_STAGES, Stage
from qpay.observability import logger, metric
from qpay.settings import Settings

# Checkout.com's validation codes for what the caller sent → the field to name in our 422.
CHECKOUT_FIELD_CODES = {
    "amount_invalid": "amount",
    "amount_required": "amount",
    "currency_invalid": "currency",
    "currency_required": "currency",
    "description_invalid": "description",
    "description_required": "description",
    "language_invalid": "language",
    "quantity_invalid": "quantity",
    "national_id_invalid": "national_id",
    "reference_invalid": "reference",
    "metadata_invalid": "metadata",
    "customer_email_invalid": "customer.email",
    "customer_name_invalid": "customer.name",
}


@dataclass(frozen=True)
class Ports:
    store: PaymentStore
    checkout: CheckoutClient
    settings: Settings
    server_key: str  # keys payment ids, client secrets and request fingerprints (never rotated casually)


def fingerprint(req: CreatePayment, key: str) -> str:
    """What the caller asked for, keyed so a stored hash reveals nothing (the national ID is in it)."""
    doc = fingerprint_document(req)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()


def payment_id_for(caller: Caller, idempotency_key: str | None, server_key: str) -> str:
    """A token names exactly one payment (its jti); a merchant key names one per Idempotency-Key."""
    if caller.kind == "order-token":
        return ids.payment_id_for_key(server_key, caller.scope, "")
    if idempotency_key:
        return ids.payment_id_for_key(server_key, caller.scope, idempotency_key)
    return ids.new_payment_id()


def create_payment(
    req: CreatePayment,
    *,
    caller: Caller,
    idempotency_key: str | None,
    base_url: str,
    now: int,
    ports: Ports,
) -> tuple[Payment, bool]:
    """Returns the payment and whether it was created now (False: an idempotent replay)."""
    s = ports.settings
    payment_id = payment_id_for(caller, idempotency_key, ports.server_key)
    payment = Payment(
        id=payment_id,
        reference=req.reference,
        amount=req.amount,
        currency=req.currency,
        description=req.description,
        language=req.language,
        quantity=req.quantity,
        stage=Stage.PENDING,
        created_at=now,
        updated_at=now,
        deadline=now + s.expiry_window_s,
        request_hash=fingerprint(req, ports.server_key),
        lease_until=now + s.create_lease_s,
        create_attempt=secrets.token_hex(8),
        customer=dict(req.customer) if req.customer else None,
        metadata=dict(req.metadata),
    )
    try:
        ports.store.begin_create(
            payment, timer_at=payment.deadline, now=now, customer_until=now + s.customer_data_retention_days * 86400
        )
    except CreateConflict as conflict:
        return _replay(conflict.existing, payment, caller=caller, now=now, ports=ports), False
    except ReferenceTaken:
        raise Conflict(
            f"order {req.reference} already has a live payment",
            details=[{"field": "reference", "issue": "already has a live payment"}],
        ) from None

    body = _checkout_request(req, payment_id, base_url, s)
    try:
        answer = ports.checkout.create_payment(body, idempotency_key=payment_id)
    except CheckoutUnavailable as exc:
        _abort(ports, payment)
        logger.warning("checkout unavailable on create", extra={"payment_id": payment_id, "attempts": exc.attempts})
        raise UpstreamUnavailable("Checkout.com is unavailable; retry with the same Idempotency-Key") from None
    except CheckoutRejected as exc:
        _abort(ports, payment)
        logger.warning(
            "checkout refused create", extra={"payment_id": payment_id, "status": exc.status, "codes": exc.error_codes}
        )
        raise _refusal(exc) from None
    cko_id = str(answer.get("id", ""))
    redirect_url = str(((answer.get("_links") or {}).get("redirect") or {}).get("href", ""))
    if not ids.CKO_PAYMENT_ID_RE.match(cko_id) or not redirect_url.startswith(("https://", "http://")):
        _abort(ports, payment)
        raise UpstreamRejected("Checkout.com answered without a QPay redirect link")
    try:
        stored = ports.store.complete_create(payment_id, cko_id=cko_id, redirect_url=redirect_url, now=now)
    except CheckoutIdTaken as taken:
        stored = _bound_elsewhere(taken.existing, cko_id=cko_id, now=now, ports=ports)
    logger.info("payment created", extra={"payment_id": payment_id, "cko_id": cko_id})
    return stored, True


def _bound_elsewhere(existing: Payment, *, cko_id: str, now: int, ports: Ports) -> Payment:
    """Checkout's answer could not be bound: another Checkout payment is bound already (an orphan that a
    retry after a 5xx made, whose webhook came first), or the payment ended before it was bound. The
    answer is the bound payment with its own QPay link (read from Checkout if we lack it), or a 409 for
    an ended one: never a 201 without a link, never a link to an ended payment (fidelity F-3)."""
    kind = "second_checkout_payment" if existing.cko_id else "create_completed_after_end"
    detail = {"cko_id": cko_id, "bound_cko_id": existing.cko_id, "stage": existing.stage.value}
    ports.store.record_anomaly(existing.id, f"create:{cko_id}", kind=kind, detail=detail, now=now)
    metric("WebhookAnomalies")
    logger.error("create answered with a Checkout.com payment that cannot be bound", extra={"kind": kind, **detail})
    if not existing.cko_id or existing.stage in DEAD_STAGES:
        raise Conflict(
            f"this payment ended ({existing.stage.value}) before Checkout.com answered; create a new one with a new key"
        )
    if existing.redirect_url:
        return existing
    return _recover_redirect(existing, now=now, ports=ports)


def _replay(existing: Payment, attempt: Payment, *, caller: Caller, now: int, ports: Ports) -> Payment:
    if existing.request_hash != attempt.request_hash:
        what = "order token" if caller.kind == "order-token" else "Idempotency-Key"
        raise Conflict(f"this {what} was used with a different request")
    if existing.cko_id and existing.redirect_url:
        return existing
    if existing.cko_id:
        # Checkout.com accepted it (a webhook told us its id) but our create never completed
        return _recover_redirect(existing, now=now, ports=ports)
    if existing.stage in DEAD_STAGES:
        raise Conflict("this payment ended before it reached Checkout.com; create a new one with a new key")
    raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly")


def _abort(ports: Ports, payment: Payment) -> None:
    """Remove the intent so a retry starts clean; if even that fails, the expiry timer and the sweep
    settle it later (a lookup at Checkout by reference), so the caller still gets its 5xx."""
    try:
        ports.store.abort_create(payment)
    except Exception:
        logger.exception("could not remove a create intent: expiry will settle it", extra={"payment_id": payment.id})


def _refusal(exc: CheckoutRejected) -> Exception:
    """Checkout's 4xx: what the caller sent is invalid (422 naming the fields), or our side is (502)."""
    fields = [{"field": CHECKOUT_FIELD_CODES[c], "issue": c} for c in exc.error_codes if c in CHECKOUT_FIELD_CODES]
    if exc.status == 422 and fields:
        return ValidationFailed("Checkout.com refused the payment's details", details=fields)
    details = [{"field": "checkout", "issue": code} for code in exc.error_codes] or None
    return UpstreamRejected("Checkout.com refused the payment", details=details)


def _recover_redirect(existing: Payment, *, now: int, ports: Ports) -> Payment:
    assert existing.cko_id is not None
    try:
        doc = ports.checkout.get_payment(existing.cko_id)
    except (CheckoutUnavailable, CheckoutRejected):
        raise UpstreamUnavailable("Checkout.com is unavailable; retry with the same Idempotency-Key") from None
    href = str(((doc.get("_links") or {}).get("redirect") or {}).get("href", ""))
    if not href.startswith(("https://", "http://")):
        raise Conflict("the payment exists at Checkout.com but has no QPay redirect link any more")
    return ports.store.complete_create(existing.id, cko_id=existing.cko_id, redirect_url=href, now=now)


def _checkout_request(req: CreatePayment, payment_id: str, base_url: str, s: Settings) -> dict[str, Any]:
    back = urlencode({"payment_id": payment_id})
    body: dict[str, Any] = {
        "amount": req.amount,
        "currency": req.currency,
        "reference": req.reference,
        "source": {
            "type": "qpay",
            "description": req.description,
            "language": req.language,
            "quantity": req.quantity,
            "national_id": req.national_id,
        },
        # built here, never taken from the client
        "success_url": f"{base_url}/payments/return/success?{back}",
        "failure_url": f"{base_url}/payments/return/failure?{back}",
        "metadata": {**req.metadata, METADATA_PAYMENT_ID: payment_id},
    }
    if s.processing_channel_id:
        body["processing_channel_id"] = s.processing_channel_id
    if req.customer:
        body["customer"] = dict(req.customer)
    return body


__all__ = ["Ports", "create_payment"]

"""Create a payment, read it, and record what the shopper's return tells us (after asking Checkout.com)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from qpay.adapters.checkout import CheckoutClient, CheckoutNotFound, CheckoutRejected, CheckoutUnavailable
from qpay.adapters.store import CreateConflict, PaymentStore, ReferenceTaken
from qpay.api.auth import Caller
from qpay.api.models import CreatePaymentRequest
from qpay.domain import ids
from qpay.domain.errors import Conflict, UpstreamRejected, UpstreamUnavailable
from qpay.domain.events import METADATA_PAYMENT_ID
from qpay.domain.records import Payment
from qpay.domain.states import CHECKOUT_STATUS_EVENTS, Stage
from qpay.observability import logger
from qpay.service.transitions import apply_checkout_status
from qpay.settings import Settings


@dataclass(frozen=True)
class Ports:
    store: PaymentStore
    checkout: CheckoutClient
    settings: Settings
    request_hash_key: str  # keys the request fingerprint so a stored hash reveals nothing


def fingerprint(req: CreatePaymentRequest, key: str) -> str:
    doc = req.model_dump(mode="json", exclude={"national_id"})
    doc["national_id"] = req.national_id.get_secret_value()
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()


def create_payment(
    req: CreatePaymentRequest,
    *,
    caller: Caller,
    idempotency_key: str | None,
    base_url: str,
    now: int,
    ports: Ports,
) -> tuple[Payment, bool]:
    """Returns the payment and whether it was created now (False: an idempotent replay)."""
    s = ports.settings
    payment_id = ids.payment_id_for_key(caller.scope, idempotency_key) if idempotency_key else ids.new_payment_id()
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
        request_hash=fingerprint(req, ports.request_hash_key),
        lease_until=now + s.create_lease_s,
        customer=req.customer.model_dump(exclude_none=True) if req.customer else None,
        metadata=dict(req.metadata),
    )
    try:
        ports.store.begin_create(
            payment, timer_at=payment.deadline, now=now, customer_until=now + s.customer_data_retention_days * 86400
        )
    except CreateConflict as conflict:
        existing = conflict.existing
        if existing.request_hash != payment.request_hash:
            raise Conflict("this Idempotency-Key was used with a different request") from None
        if existing.cko_id and existing.redirect_url:
            return existing, False
        if existing.cko_id:
            # Checkout.com accepted it (a webhook told us its id) but our create never completed
            return _recover_redirect(existing, now=now, ports=ports), False
        raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly") from None
    except ReferenceTaken:
        raise Conflict(
            f"order {req.reference} already has a live payment",
            details=[{"field": "reference", "issue": "already has a live payment"}],
        ) from None

    body = _checkout_request(req, payment_id, base_url, s)
    try:
        answer = ports.checkout.create_payment(body, idempotency_key=payment_id)
    except CheckoutUnavailable as exc:
        ports.store.abort_create(payment)
        logger.warning("checkout unavailable on create", extra={"payment_id": payment_id, "attempts": exc.attempts})
        raise UpstreamUnavailable("Checkout.com is unavailable; retry with the same Idempotency-Key") from None
    except CheckoutRejected as exc:
        ports.store.abort_create(payment)
        logger.warning("checkout refused create", extra={"payment_id": payment_id, "codes": exc.error_codes})
        raise UpstreamRejected(
            "Checkout.com refused the payment",
            details=[{"field": "checkout", "issue": code} for code in exc.error_codes] or None,
        ) from None
    cko_id = str(answer.get("id", ""))
    redirect_url = str(((answer.get("_links") or {}).get("redirect") or {}).get("href", ""))
    if not ids.CKO_PAYMENT_ID_RE.match(cko_id) or (
        not redirect_url.startswith("https://") and not redirect_url.startswith("http://")
    ):
        ports.store.abort_create(payment)
        raise UpstreamRejected("Checkout.com answered without a QPay redirect link")
    stored = ports.store.complete_create(payment_id, cko_id=cko_id, redirect_url=redirect_url, now=now)
    logger.info("payment created", extra={"payment_id": payment_id, "cko_id": cko_id})
    return stored, True


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


def _checkout_request(req: CreatePaymentRequest, payment_id: str, base_url: str, s: Settings) -> dict[str, Any]:
    back = urlencode({"payment_id": payment_id})
    body: dict[str, Any] = {
        "amount": req.amount,
        "currency": req.currency,
        "reference": req.reference,
        "source": {
            "type": "qpay",
            "description": req.description,
            "language": req.language,
            "quantity": str(req.quantity),
            "national_id": req.national_id.get_secret_value(),
        },
        # built here, never taken from the client
        "success_url": f"{base_url}/payments/return/success?{back}",
        "failure_url": f"{base_url}/payments/return/failure?{back}",
        "metadata": {**req.metadata, METADATA_PAYMENT_ID: payment_id},
    }
    if s.processing_channel_id:
        body["processing_channel_id"] = s.processing_channel_id
    if req.customer and (req.customer.email or req.customer.name):
        body["customer"] = req.customer.model_dump(exclude_none=True)
    return body


def record_return(
    *, payment_id: str | None, session_id: str | None, now: int, ports: Ports
) -> tuple[Payment | None, str]:
    """The shopper came back. Ask Checkout.com what happened (never the query string), record it, and
    say where to send the shopper: only ever one of the configured storefront URLs."""
    s = ports.settings
    if not payment_id or not ids.is_payment_id(payment_id):
        return None, _storefront(s.storefront_failure_url, {"error": "unknown_payment"})
    payment = ports.store.get_payment(payment_id)
    if payment is None:
        return None, _storefront(s.storefront_failure_url, {"error": "unknown_payment"})
    doc = _fetch_for_return(payment, session_id, ports.checkout)
    if doc is not None:
        payment = apply_checkout_status(ports.store, payment, doc, now=now, settings=s, source="return")
    target = (
        s.storefront_failure_url
        if payment.stage in (Stage.DECLINED, Stage.CANCELED, Stage.EXPIRED)
        else s.storefront_success_url
    )
    return payment, _storefront(target, {"reference": payment.reference, "payment_id": payment.id})


def _fetch_for_return(payment: Payment, session_id: str | None, checkout: CheckoutClient) -> dict[str, Any] | None:
    def belongs(doc: dict[str, Any]) -> bool:
        meta = doc.get("metadata") or {}
        return doc.get("id") == payment.cko_id or meta.get(METADATA_PAYMENT_ID) == payment.id

    try:
        if session_id and ids.CKO_SESSION_ID_RE.match(session_id):
            try:
                doc = checkout.get_payment(session_id)
                if belongs(doc):
                    return doc
                logger.warning("session id names another payment", extra={"payment_id": payment.id})
            except CheckoutNotFound:
                logger.info("session id lapsed; asking by payment id", extra={"payment_id": payment.id})
        if payment.cko_id:
            doc = checkout.get_payment(payment.cko_id)
            return doc if belongs(doc) else None
    except (CheckoutUnavailable, CheckoutRejected) as exc:
        logger.warning(
            "could not confirm return with Checkout.com", extra={"payment_id": payment.id, "error": str(exc)}
        )
    return None


def _storefront(url: str, params: dict[str, str]) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}{urlencode(params)}"


__all__ = ["CHECKOUT_STATUS_EVENTS", "Ports", "create_payment", "record_return"]

"""The shopper's browser comes back from QPay: ask Checkout.com what happened (never the query string),
record it, and say where to send the shopper: only ever one of the configured storefront URLs.

Anonymous hits on the return URL cost at most one Checkout call per payment per few seconds per container
(:class:`RecentChecks`), and none once the payment is final.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from qpay.adapters.checkout import CheckoutClient, CheckoutNotFound, CheckoutRejected, CheckoutUnavailable
from qpay.adapters.store import PaymentStore
from qpay.domain import ids
from qpay.domain.events import METADATA_PAYMENT_ID
from qpay.domain.records import Payment
from qpay.domain.states import DEAD_STAGES, Stage
from qpay.observability import logger
from qpay.service.transitions import apply_checkout_status
from qpay.settings import Settings

SECOND_LOOKUP_MIN_S = 8.0  # time a second Checkout GET needs (connect + read, one retry)


@dataclass(frozen=True)
class ReturnPorts:
    store: PaymentStore
    checkout: CheckoutClient
    settings: Settings


class RecentChecks:
    """Payments this container asked Checkout about in the last few seconds (bounded, LRU): anonymous
    hits on the return URL cost at most one Checkout call per payment per window per container."""

    def __init__(self, size: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size = size
        self._clock = clock

    def release(self, payment_id: str) -> None:
        self._seen.pop(payment_id, None)

    def claim(self, payment_id: str, window_s: float) -> bool:
        now = self._clock()
        last = self._seen.get(payment_id)
        if last is not None and now - last < window_s:
            return False
        self._seen[payment_id] = now
        self._seen.move_to_end(payment_id)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


def record_return(
    *,
    payment_id: str | None,
    session_id: str | None,
    now: int,
    ports: ReturnPorts,
    recent: RecentChecks,
    time_left_s: Callable[[], float] = lambda: 60.0,
) -> tuple[Payment | None, str]:
    """The shopper came back. Ask Checkout.com what happened (never the query string), record it, and
    say where to send the shopper: only ever one of the configured storefront URLs."""
    s = ports.settings
    if not payment_id or not ids.is_payment_id(payment_id):
        return None, _storefront(s.storefront_failure_url, {"error": "unknown_payment"})
    payment = ports.store.get_payment(payment_id)
    if payment is None:
        return None, _storefront(s.storefront_failure_url, {"error": "unknown_payment"})
    if payment.stage in (Stage.PENDING, Stage.CAPTURE_PENDING) and recent.claim(payment.id, s.return_cache_s):
        try:
            doc = _fetch_for_return(payment, session_id, ports.checkout, time_left_s)
            if doc is not None:
                payment = apply_checkout_status(ports.store, payment, doc, now=now, settings=s, source="return")
        except Exception:
            recent.release(payment.id)  # nothing recorded: the next return asks again
            raise
    target = s.storefront_failure_url if payment.stage in DEAD_STAGES else s.storefront_success_url
    return payment, _storefront(target, {"reference": payment.reference, "payment_id": payment.id})


def checking_page(settings: Settings, payment_id: str | None) -> str:
    """Where a shopper goes when the return could not be handled: the result page, which polls the
    payment's status (never "failed": the shopper may well have paid)."""
    params = {"payment_id": payment_id, "check": "1"} if payment_id and ids.is_payment_id(payment_id) else {}
    return _storefront(settings.storefront_success_url, params) if params else settings.storefront_failure_url


def _fetch_for_return(
    payment: Payment, session_id: str | None, checkout: CheckoutClient, time_left_s: Callable[[], float]
) -> dict[str, Any] | None:
    def belongs(doc: dict[str, Any]) -> bool:
        meta = doc.get("metadata") or {}
        if payment.cko_id:
            return doc.get("id") == payment.cko_id
        return isinstance(meta, dict) and meta.get(METADATA_PAYMENT_ID) == payment.id

    try:
        if session_id and ids.CKO_SESSION_ID_RE.match(session_id):
            try:
                doc = checkout.get_payment(session_id)
                if belongs(doc):
                    return doc
                logger.warning("session id names another payment", extra={"payment_id": payment.id})
            except CheckoutNotFound:
                logger.info("session id lapsed; asking by payment id", extra={"payment_id": payment.id})
            if time_left_s() < SECOND_LOOKUP_MIN_S:
                logger.warning("no time left for a second lookup", extra={"payment_id": payment.id})
                return None
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


__all__ = ["RecentChecks", "ReturnPorts", "checking_page", "record_return"]

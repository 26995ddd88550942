"""The simulator's state machine: payments, the hosted page's outcomes, refunds, expiry and webhooks.

No HTTP here: ``cko_sim.simulator.Simulator`` adds the Flask app and the server on top.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cko_sim import ids
from cko_sim.cards import DECLINE_CODE, CardDecision, decide
from cko_sim.clock import Clock
from cko_sim.config import SimConfig
from cko_sim.errors import SimulatorError
from cko_sim.event_bodies import EventFacts, event_body
from cko_sim.faults import Faults, RequestRecord
from cko_sim.idempotency import IdempotencyStore
from cko_sim.models.state import REFUNDABLE, Action, Payment, PaymentStatus, PendingRefund
from cko_sim.validation import PaymentRequest, RefundRequest
from cko_sim.webhooks import WebhookDispatcher, WebhookEvent

log = logging.getLogger("cko_sim")

_TICK_SECONDS = 0.02
APPROVED_CODE = ("10000", "Approved")
DASHBOARD_REFERENCE_PREFIX = "DASHBOARD-"


@dataclass(frozen=True)
class PageResult:
    """Outcome of a hosted-page submission."""

    payment_id: str
    status: PaymentStatus
    redirect_url: str | None
    decision: CardDecision | None


class SimulatorCore:
    """Payments, refunds, expiry and webhooks on a simulator clock; thread-safe."""

    def __init__(self, config: SimConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or SimConfig()
        self.clock = clock or Clock()
        self._lock = threading.RLock()
        self._rng = random.Random(self.config.seed)
        self._payments: dict[str, Payment] = {}
        self._by_pun: dict[str, str] = {}
        self._by_session: dict[str, str] = {}
        self._customers_by_email: dict[str, str] = {}
        self._requests: list[RequestRecord] = []
        # (when, n, payment id) of everything due later (an expiry, a refund's settlement): run_due pops
        # what is due instead of looking at every payment it holds
        self._due: list[tuple[datetime, int, str]] = []
        self._due_seq = itertools.count()
        self._open_refunds = 0
        self._stop_event = threading.Event()
        self._ticker: threading.Thread | None = None
        self._ticker_stop = threading.Event()
        self._closed = False
        self.faults = Faults(self.config.timeout_hold_seconds)
        self.idempotency = IdempotencyStore(self.config.idempotency_ttl_seconds)
        self.webhooks = WebhookDispatcher(self.config, self.clock, self._rng)
        self.webhooks.set_busy_check(self._refunds_pending)
        self.clock.add_listener(self.run_due)

    # -- lifecycle -----------------------------------------------------------------------------

    def start_background(self) -> None:
        """(Re)start the webhook worker and the clock ticker."""
        self._closed = False
        self._stop_event.clear()
        self.webhooks.start()
        self._ensure_ticker()

    def stop_background(self) -> None:
        """Stop the webhook worker and the ticker; release held connections."""
        self._closed = True
        self._stop_event.set()
        self.webhooks.stop()
        self._ticker_stop.set()
        if self._ticker is not None:
            self._ticker.join(5)
            self._ticker = None

    @property
    def base_url(self) -> str:
        return (self.config.public_base_url or "http://localhost").rstrip("/")

    @property
    def lock(self) -> threading.RLock:
        """The state lock (hold it to read a live ``Payment`` consistently)."""
        return self._lock

    @property
    def stop_event(self) -> threading.Event:
        return self._stop_event

    def _ensure_ticker(self) -> None:
        if self._closed or not self.config.background_ticker:
            return
        with self._lock:
            if self._ticker is not None and self._ticker.is_alive():
                return
            self._ticker_stop.clear()
            self._ticker = threading.Thread(target=self._tick_loop, name="cko-sim-ticker", daemon=True)
            self._ticker.start()

    def _tick_loop(self) -> None:
        while not self._ticker_stop.wait(_TICK_SECONDS):
            try:
                self.run_due()
            except Exception:  # pragma: no cover - keep the ticker alive
                log.exception("ticker failed")

    # -- inspection ----------------------------------------------------------------------------

    @property
    def payments(self) -> dict[str, Payment]:
        """Snapshot of every payment by id."""
        with self._lock:
            return copy.deepcopy(self._payments)

    def get_payment(self, pay_id: str) -> Payment:
        """Snapshot of one payment (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._payments[pay_id])

    @property
    def requests(self) -> list[RequestRecord]:
        """API requests received (``/payments...``), oldest first."""
        with self._lock:
            return list(self._requests)

    def record_request(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)
        log.info("%s %s -> %s%s", record.method, record.path, record.status, f" [{record.fault}]" * bool(record.fault))

    def reset(self) -> None:
        """Forget all payments, requests, idempotency keys, faults and webhook history."""
        with self._lock:
            self._payments.clear()
            self._by_pun.clear()
            self._by_session.clear()
            self._customers_by_email.clear()
            self._requests.clear()
            self._due.clear()
            self._open_refunds = 0
        self.idempotency.clear()
        self.faults.reset()
        self.webhooks.reset_chaos()
        self.webhooks.clear()

    # -- persistence ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What a restart needs to keep serving the payments it made (plain Python objects, for pickle):
        payments (without the national ID: it is never kept), their indexes and what is due later.
        Idempotency keys, faults, requests and webhook history are not kept."""
        with self._lock:
            payments = copy.deepcopy(self._payments)
            for payment in payments.values():
                payment.national_id = None
            return {
                "version": 1,
                "payments": payments,
                "by_pun": dict(self._by_pun),
                "customers_by_email": dict(self._customers_by_email),
                "due": [(when, pay_id) for when, _, pay_id in self._due],
            }

    def restore(self, doc: dict[str, Any]) -> int:
        """Take back a :meth:`snapshot` (added to what is here); returns how many payments it held."""
        if doc.get("version") != 1:
            raise ValueError("not a simulator snapshot this version can read")
        with self._lock:
            self._payments.update(doc["payments"])
            self._by_pun.update(doc["by_pun"])
            self._customers_by_email.update(doc["customers_by_email"])
            for when, pay_id in doc["due"]:
                self._schedule_locked(when, pay_id)
            self._open_refunds += sum(len(p.pending_refunds) for p in doc["payments"].values())
        return len(doc["payments"])

    # -- lookups -------------------------------------------------------------------------------

    def find(self, ident: str) -> Payment | None:
        """Live payment by ``pay_…`` id, ``sid_…`` session id (while valid) or QPay ``pun``."""
        with self._lock:
            self._run_due_locked()
            return self._find_locked(ident)

    def _find_locked(self, ident: str) -> Payment | None:
        if ident.startswith("sid_"):
            pay_id = self._by_session.get(ident)
            if pay_id is None:
                return None
            payment = self._payments[pay_id]
            created = payment.session_created
            ttl = timedelta(seconds=self.config.session_ttl_seconds)
            if created is None or self.clock.now() - created >= ttl:
                return None
            return payment
        if ident in self._payments:
            return self._payments[ident]
        pay_id = self._by_pun.get(ident)
        return self._payments.get(pay_id) if pay_id else None

    def resolve(self, ident: str, prefer: frozenset[PaymentStatus] = frozenset()) -> Payment | None:
        """Payment for the admin routes: ``pay_…``, ``pun``, the merchant's own payment id (the value of
        ``metadata[config.merchant_id_metadata_key]``) or the payment ``reference``.

        Several payments can share a merchant id or a reference (retries, a create answered 5xx after
        Checkout processed it). Then the latest one in a ``prefer`` status wins, else the latest one.
        """
        with self._lock:
            self._run_due_locked()
            direct = self._find_locked(ident) if not ident.startswith("sid_") else None
            if direct is not None:
                return direct
            key = self.config.merchant_id_metadata_key
            matches = [p for p in self._payments.values() if p.metadata.get(key) == ident or p.reference == ident]
            if not matches:
                return None
            matches.sort(key=lambda p: p.requested_on)
            preferred = [p for p in matches if p.status in prefer]
            return (preferred or matches)[-1]

    def by_reference(self, reference: str) -> list[Payment]:
        """Payments whose ``reference`` is exactly ``reference``, latest first (Checkout's order)."""
        with self._lock:
            self._run_due_locked()
            found = [p for p in self._payments.values() if p.reference == reference]
        return sorted(found, key=lambda p: p.requested_on, reverse=True)

    def _require(self, ident: str) -> Payment:
        payment = self.find(ident)
        if payment is None:
            raise SimulatorError(404, ["payment_not_found"], f"unknown payment {ident}")
        return payment

    # -- payments ------------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, base_url: str | None = None) -> Payment:
        now = self.clock.now()
        base = (base_url or self.base_url).rstrip("/")
        with self._lock:
            customer = dict(request.customer)
            email = customer.get("email")
            cus_id = customer.get("id")
            if not ids.is_id(cus_id, "cus"):
                cus_id = self._customers_by_email.get(email) if isinstance(email, str) else None
                cus_id = cus_id or ids.new_id("cus")
            if isinstance(email, str):
                self._customers_by_email[email] = str(cus_id)
            customer["id"] = cus_id
            expiry = self.config.payment_expiry_seconds
            payment = Payment(
                id=ids.new_id("pay"),
                pun=ids.new_pun(),
                amount=request.amount,
                currency=request.currency,
                reference=request.reference,
                description=request.description,
                language=request.language,
                quantity=request.quantity,
                national_id=request.national_id,
                success_url=request.success_url,
                failure_url=request.failure_url,
                customer=customer,
                metadata=request.metadata,
                processing_channel_id=request.processing_channel_id,
                requested_on=now,
                expires_on=now + timedelta(seconds=expiry) if expiry is not None else None,
                base_url=base,
            )
            self._payments[payment.id] = payment
            self._by_pun[payment.pun] = payment.id
            if payment.expires_on is not None:
                self._schedule_locked(payment.expires_on, payment.id)
            self._emit(payment, "payment_pending", now=now)
        self._ensure_ticker()
        return payment

    def submit_page(self, ident: str, action: str, card: str = "", expiry: str = "", pin: str = "") -> PageResult:
        """The hosted QPay page's form handler: ``action`` is ``"pay"`` or ``"cancel"``."""
        with self._lock:
            payment = self._require(ident)
            if payment.status != PaymentStatus.PENDING:
                raise SimulatorError(409, ["payment_not_pending"], f"payment is {payment.status.value}")
            now = self.clock.now()
            if action == "cancel":
                payment.status = PaymentStatus.CANCELED
                self._emit(payment, "payment_canceled", now=now)
                return PageResult(payment.id, payment.status, self._return_url(payment, success=False), None)
            if action != "pay":
                raise SimulatorError(422, ["action_invalid"])
            decision = decide(card, expiry, pin, now)
            action_id = ids.new_id("act")
            payment.actions.append(
                Action(
                    id=action_id,
                    type="Capture",
                    processed_on=now,
                    amount=payment.amount,
                    approved=decision.approved,
                    response_code=decision.response_code,
                    response_summary=decision.response_summary,
                    reference=payment.reference,
                )
            )
            if decision.approved:
                self._emit(payment, "payment_capture_pending", now=now, action_id=action_id)
                payment.status = PaymentStatus.CAPTURED
                payment.total_captured = payment.amount
                self._emit(payment, "payment_captured", now=now, action_id=action_id, code=APPROVED_CODE)
                url = self._return_url(payment, success=True)
            elif self.config.failed_payment_sends_canceled:
                payment.status = PaymentStatus.CANCELED
                payment.decline_reason = decision.message
                payment.decline_code = decision.reason
                self._emit(payment, "payment_canceled", now=now)
                url = self._return_url(payment, success=False)
            else:
                payment.status = PaymentStatus.DECLINED
                payment.decline_reason = decision.message
                payment.decline_code = decision.reason
                self._emit(
                    payment,
                    "payment_capture_declined",
                    now=now,
                    action_id=action_id,
                    code=(decision.response_code, decision.response_summary),
                )
                url = self._return_url(payment, success=False)
            return PageResult(payment.id, payment.status, url, decision)

    def pay(
        self, pay_id_or_pun: str, card: str = "4215375500883243", expiry: str | None = None, pin: str = "123456"
    ) -> str:
        """Submit the hosted page's form. Returns the URL the browser is sent to.

        ``expiry`` defaults to December five years after the simulator clock's year. A declined
        card returns the failure URL (where "Return to merchant" leads).
        """
        if expiry is None:
            expiry = f"12/{(self.clock.now().year + 5) % 100:02d}"
        result = self.submit_page(pay_id_or_pun, "pay", card, expiry, pin)
        assert result.redirect_url is not None
        return result.redirect_url

    def cancel(self, pay_id: str) -> str:
        """Press "Cancel" on the hosted page. Returns the failure redirect URL."""
        result = self.submit_page(pay_id, "cancel")
        assert result.redirect_url is not None
        return result.redirect_url

    def expire_payment(self, pay_id: str) -> None:
        """Expire a Pending payment now: status ``Expired`` and a ``payment_expired`` webhook."""
        with self._lock:
            payment = self._require(pay_id)
            if payment.status != PaymentStatus.PENDING:
                raise SimulatorError(409, ["payment_not_pending"], f"payment is {payment.status.value}")
            self._expire_locked(payment, self.clock.now())

    def _expire_locked(self, payment: Payment, now: datetime) -> None:
        payment.status = PaymentStatus.EXPIRED
        self._emit(payment, "payment_expired", now=now)

    def return_url(self, payment: Payment, *, success: bool) -> str:
        with self._lock:
            return self._return_url(payment, success=success)

    def _return_url(self, payment: Payment, *, success: bool) -> str:
        """Merchant URL with ``cko-session-id`` appended; creates the session on first use."""
        if payment.session_id is None:
            payment.session_id = ids.new_id("sid")
            payment.session_created = self.clock.now()
            self._by_session[payment.session_id] = payment.id
        target = payment.success_url if success else payment.failure_url
        if target is None:
            outcome = "success" if success else "failure"
            target = f"{payment.base_url}/qpay-external/result?outcome={outcome}"
        return append_query(target, "cko-session-id", payment.session_id)

    # -- refunds -------------------------------------------------------------------------------

    def request_refund(self, pay_id: str, request: RefundRequest, *, source: str = "api") -> PendingRefund:
        """Accept a refund (202) whose outcome arrives later by webhook.

        Raises ``SimulatorError`` 404 (unknown), 403 (not captured) or 422 ``amount_exceeds_balance``.
        """
        with self._lock:
            payment = self._payments.get(pay_id)
            if payment is None:
                raise SimulatorError(404)
            if payment.status not in REFUNDABLE:
                raise SimulatorError(403, ["refund_not_allowed"])
            available = payment.available_to_refund
            amount = available if request.amount is None else request.amount
            if amount <= 0 or amount > available:
                raise SimulatorError(422, ["amount_exceeds_balance"])
            now = self.clock.now()
            delay = self.config.refund_settle_seconds
            if self.config.refund_settle_max_seconds is not None:
                delay = self._rng.uniform(delay, max(delay, self.config.refund_settle_max_seconds))
            delay *= self.config.time_scale
            refund = PendingRefund(
                action_id=ids.new_id("act"),
                amount=amount,
                reference=request.reference,
                metadata=request.metadata,
                due=now + timedelta(seconds=delay),
                requested_on=now,
                source=source,
                decline=self.faults.decline_refunds,
            )
            payment.pending_refunds.append(refund)
            self._open_refunds += 1
            self._schedule_locked(refund.due, payment.id)
            self._emit_refund(payment, "payment_refund_pending", refund, now)
        self._ensure_ticker()
        return refund

    def dashboard_refund(self, pay_id: str, amount: int | None = None, reference: str | None = None) -> str:
        """A refund made outside the API (e.g. in the Dashboard). Returns its action id."""
        ref = reference or f"{DASHBOARD_REFERENCE_PREFIX}{ids.new_id('act')[4:14].upper()}"
        refund = self.request_refund(pay_id, RefundRequest(amount, ref, None), source="dashboard")
        return refund.action_id

    def _refunds_pending(self) -> bool:
        with self._lock:
            return self._open_refunds > 0

    def _settle_locked(self, payment: Payment, refund: PendingRefund, now: datetime) -> None:
        payment.pending_refunds.remove(refund)
        self._open_refunds -= 1
        approved = not refund.decline
        code = APPROVED_CODE if approved else (DECLINE_CODE, "Refund declined")
        payment.actions.append(
            Action(
                id=refund.action_id,
                type="Refund",
                processed_on=now,
                amount=refund.amount,
                approved=approved,
                response_code=code[0],
                response_summary=code[1],
                reference=refund.reference,
                metadata=refund.metadata,
            )
        )
        if approved:
            payment.total_refunded += refund.amount
            fully = payment.total_refunded >= payment.total_captured
            payment.status = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
            self._emit_refund(payment, "payment_refunded", refund, now, code=code)
        else:
            self._emit_refund(payment, "payment_refund_declined", refund, now, code=code)

    # -- time ----------------------------------------------------------------------------------

    def run_due(self) -> None:
        """Settle refunds and expire payments that are due on the simulator clock."""
        with self._lock:
            self._run_due_locked()

    def _schedule_locked(self, when: datetime, pay_id: str) -> None:
        heapq.heappush(self._due, (when, next(self._due_seq), pay_id))

    def _run_due_locked(self) -> None:
        now = self.clock.now()
        while self._due and self._due[0][0] <= now:
            _, _, pay_id = heapq.heappop(self._due)
            payment = self._payments.get(pay_id)
            if payment is None:
                continue
            for refund in sorted(payment.pending_refunds, key=lambda r: r.due):
                if refund.due <= now:
                    self._settle_locked(payment, refund, now)
            if payment.status == PaymentStatus.PENDING and payment.expires_on is not None and payment.expires_on <= now:
                self._expire_locked(payment, now)

    # -- webhooks ------------------------------------------------------------------------------

    def _emit(
        self,
        payment: Payment,
        event_type: str,
        *,
        now: datetime,
        action_id: str | None = None,
        code: tuple[str, str] | None = None,
    ) -> None:
        """A payment-level event. ``payment_pending`` carries no action id; the others get a fresh one."""
        if event_type != "payment_pending" and action_id is None:
            action_id = ids.new_id("act")
        self._send_event(payment, event_type, now, action_id, payment.amount, payment.reference, code)

    def _emit_refund(
        self,
        payment: Payment,
        event_type: str,
        refund: PendingRefund,
        now: datetime,
        code: tuple[str, str] | None = None,
    ) -> None:
        """A refund event: the refund's action id and amount, and its own reference (absent when the
        refund request had none) unless ``config.refund_webhook_reference == "payment"``."""
        reference = refund.reference
        if self.config.refund_webhook_reference == "payment":
            reference = payment.reference
        self._send_event(payment, event_type, now, refund.action_id, refund.amount, reference, code)

    def _send_event(
        self,
        payment: Payment,
        event_type: str,
        now: datetime,
        action_id: str | None,
        amount: int,
        reference: str | None,
        code: tuple[str, str] | None,
    ) -> None:
        facts = EventFacts(
            event_id=ids.new_id("evt"),
            event_type=event_type,
            version=self.config.event_version,
            created_on=now,
            payment=payment,
            base=payment.base_url,
            action_id=action_id,
            amount=amount,
            reference=reference,
            response_code=code[0] if code else None,
            response_summary=code[1] if code else None,
        )
        body = event_body(facts, refund_pending_shape=self.config.refund_pending_shape)
        self.webhooks.emit(WebhookEvent(facts.event_id, event_type, payment.id, body, now))


def append_query(url: str, name: str, value: str) -> str:
    """Append ``name=value`` to ``url``'s query, keeping the existing query and fragment as they are."""
    parts = urlsplit(url)
    query = f"{parts.query}&{name}={value}" if parts.query else f"{name}={value}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

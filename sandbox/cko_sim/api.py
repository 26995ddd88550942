"""Checkout.com's payments API for QPay: create, get (by id, session id or reference), actions, refunds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from cko_sim import ids, views
from cko_sim.errors import SimulatorError
from cko_sim.faults import NO_IDEMPOTENCY_CACHE_KEY, SLOW_ENVIRON_KEY
from cko_sim.idempotency import Outcome
from cko_sim.validation import validate_payment, validate_refund

if TYPE_CHECKING:
    from cko_sim.core import SimulatorCore


def _json(body: Any, status: int) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status=status, content_type="application/json; charset=utf-8"
    )


def _empty(status: int) -> Response:
    return Response(b"", status=status)


def _request_id() -> str:
    return str(uuid.uuid4())


def invalid(codes: list[str]) -> Response:
    """``422`` in Checkout's shape."""
    return _json({"request_id": _request_id(), "error_type": "request_invalid", "error_codes": codes}, 422)


def _paging_param(name: str, default: int, low: int, high: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    if value < low or (high is not None and value > high):
        return None
    return value


def _parse_json(optional: bool) -> tuple[bool, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return (True, None) if optional else (False, None)
    try:
        return True, json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False, None


def register(app: Flask, sim: SimulatorCore) -> None:  # noqa: PLR0915 - one flat list of routes
    def base_url() -> str:
        return (sim.config.public_base_url or request.host_url).rstrip("/")

    def authorised() -> bool:
        header = request.headers.get("Authorization", "").strip()
        token = header[7:].strip() if header.lower().startswith("bearer ") else header
        if not token:
            return False
        if sim.config.secret_key is not None:
            return token == sim.config.secret_key
        return ids.is_sandbox_secret_key(token)

    def maybe_slow() -> None:
        seconds = request.environ.pop(SLOW_ENVIRON_KEY, None)
        if seconds:
            sim.stop_event.wait(float(seconds))

    def idempotent(handler: Callable[[], Response]) -> Response:
        key = request.headers.get("Cko-Idempotency-Key")
        if not key:
            maybe_slow()
            return handler()
        path = request.path
        outcome, cached = sim.idempotency.begin(key, path, sim.clock.now())
        if outcome is Outcome.REPLAY and cached is not None:
            return Response(cached.body, status=cached.status, content_type=cached.content_type)
        if outcome is Outcome.IN_FLIGHT:
            status = sim.config.idempotency_conflict_status
            return _json(
                {
                    "request_id": _request_id(),
                    "error_type": "request_invalid",
                    "error_codes": ["idempotency_key_in_use"],
                },
                status,
            )
        try:
            maybe_slow()
            response = handler()
        except BaseException:
            sim.idempotency.abandon(key, path)
            raise
        if request.environ.get(NO_IDEMPOTENCY_CACHE_KEY):
            # the caller will see a 5xx instead of this answer: Checkout keeps no result for the key
            sim.idempotency.abandon(key, path)
        else:
            sim.idempotency.finish(
                key, path, response.status_code, response.get_data(), response.content_type or "", sim.clock.now()
            )
        return response

    @app.before_request
    def _auth() -> Response | None:
        if request.path.startswith("/payments") and not authorised():
            return _empty(401)
        if request.method == "GET":
            maybe_slow()
        return None

    @app.after_request
    def _request_id_header(response: Response) -> Response:
        if request.path.startswith("/payments"):
            response.headers.setdefault("Cko-Request-Id", _request_id())
            response.headers.setdefault("Cko-Version", "1.0.0")
        return response

    @app.post("/payments")
    def create_payment() -> Response:
        def handle() -> Response:
            ok, body = _parse_json(optional=False)
            if not ok:
                return invalid(["request_json_invalid"])
            parsed, codes = validate_payment(body, require_processing_channel=sim.config.require_processing_channel)
            if parsed is None:
                return invalid(codes)
            if sim.config.refuse_payments_with:
                return invalid(list(sim.config.refuse_payments_with))
            payment = sim.create_payment(parsed, base_url())
            return _json(views.created_view(payment, payment.base_url), 202)

        return idempotent(handle)

    @app.get("/payments")
    def list_payments() -> Response:
        # Checkout's "Get payment lists" (beta): payments matching a reference, latest first.
        reference = request.args.get("reference")
        codes: list[str] = []
        if not reference:
            codes.append("reference_required")
        limit = _paging_param("limit", default=10, low=1, high=100)
        if limit is None:
            codes.append("paging_limit_invalid")
        skip = _paging_param("skip", default=0, low=0, high=None)
        if skip is None:
            codes.append("paging_skip_invalid")
        if codes or reference is None or limit is None or skip is None:
            return invalid(codes)
        found = sim.by_reference(reference)
        with sim.lock:
            body = views.payment_list_view(
                found, limit=limit, skip=skip, expired_status=sim.config.expired_payment_status
            )
        return _json(body, 200)

    @app.get("/payments/<ident>")
    def get_payment(ident: str) -> Response:
        if not (ident.startswith(("pay_", "sid_"))):
            return _empty(404)
        payment = sim.find(ident)
        if payment is None:
            return _empty(404)
        with sim.lock:
            return _json(views.payment_view(payment, payment.base_url, sim.config.expired_payment_status), 200)

    @app.get("/payments/<pay_id>/actions")
    def get_actions(pay_id: str) -> Response:
        payment = sim.find(pay_id) if pay_id.startswith("pay_") else None
        if payment is None:
            return _empty(404)
        with sim.lock:
            return _json(views.actions_view(payment), 200)

    @app.post("/payments/<pay_id>/refunds")
    def refund(pay_id: str) -> Response:
        def handle() -> Response:
            ok, body = _parse_json(optional=True)
            if not ok:
                return invalid(["request_json_invalid"])
            parsed, codes = validate_refund(body)
            if parsed is None:
                return invalid(codes)
            try:
                pending = sim.request_refund(pay_id, parsed)
            except SimulatorError as err:
                if err.status == 422:
                    return invalid(err.codes)
                return _empty(err.status)
            payment_href = f"{base_url()}/payments/{pay_id}"
            answer: dict[str, Any] = {"action_id": pending.action_id}
            if pending.reference is not None:
                answer["reference"] = pending.reference
            answer["_links"] = {"payment": {"href": payment_href}}
            return _json(answer, 202)

        return idempotent(handle)

    @app.route("/payments/<pay_id>/<action>", methods=["POST"])
    def unsupported(pay_id: str, action: str) -> Response:
        # QPay supports neither capture nor void.
        if sim.find(pay_id) is None:
            return _empty(404)
        return _empty(403)

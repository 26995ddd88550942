"""Admin endpoints under ``/_sim/…``: drive payments, clock, faults and webhook chaos over HTTP.

Payment routes take any of: Checkout's ``pay_…`` id, the QPay ``pun``, the merchant's own payment id
(the value of ``metadata[SimConfig.merchant_id_metadata_key]``) or the payment ``reference``.
Errors (and unknown routes) answer in Checkout's error shape ``{request_id, error_type, error_codes}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from cko_sim.clock import iso
from cko_sim.errors import SimulatorError
from cko_sim.faults import FaultKind
from cko_sim.models.state import REFUNDABLE, Payment, PaymentStatus
from cko_sim.views import actions_view, admin_summary

if TYPE_CHECKING:
    from cko_sim.core import SimulatorCore

PREFIX = "/_sim"
_PENDING = frozenset({PaymentStatus.PENDING})
_ERROR_TYPES = {404: "resource_not_found", 405: "method_not_allowed", 409: "operation_not_allowed"}

#: One line per admin route for the ``GET /_sim`` index.
ROUTE_HELP: dict[str, str] = {
    "GET /_sim": "this index",
    "GET /_sim/health": "status and simulator time",
    "POST /_sim/reset": "forget every payment, request, key, fault and event",
    "GET /_sim/payments": "every payment (summary)",
    "GET /_sim/payments/{id}": "one payment with its actions; id = pay_…, pun, merchant payment id or reference",
    "POST /_sim/payments/{id}/pay": '{"card", "expiry", "pin"} -> {redirect_url, status}',
    "POST /_sim/payments/{id}/cancel": "press Cancel on the QPay page",
    "POST /_sim/payments/{id}/expire": "abandon a Pending payment now",
    "POST /_sim/payments/{id}/dashboard-refund": '{"amount", "reference"?}: a refund made outside the API',
    "GET /_sim/requests": "API request log",
    "GET /_sim/clock": "simulator time",
    "POST /_sim/clock/advance": '{"seconds": 900}',
    "GET /_sim/faults": "programmed faults",
    "POST /_sim/faults/fail-next": '{"n", "status", "path_prefix", "method", "seconds"}',
    "POST /_sim/faults/decline-refunds": '{"enabled": true}',
    "POST /_sim/faults/reset": "clear faults",
    "POST /_sim/webhooks/pause": "queue webhooks without delivering",
    "POST /_sim/webhooks/resume": "deliver again",
    "POST /_sim/webhooks/duplicate-next": '{"n"}',
    "POST /_sim/webhooks/reorder-next": '{"n"}',
    "POST /_sim/webhooks/release-held": "deliver held (reordered) events now",
    "POST /_sim/webhooks/drop-next": '{"n"}',
    "POST /_sim/webhooks/delay-next": '{"n", "seconds"}',
    "POST /_sim/webhooks/overlap-next": '{"n"}: each delivered twice at the same instant',
    "POST /_sim/webhooks/burst-next": '{"n"}: held, then all delivered at the same instant',
    "POST /_sim/webhooks/chaos": '{"duplicate", "drop", "reorder", "overlap", "delay_seconds", "workers"}',
    "POST /_sim/webhooks/wait-idle": '{"timeout"} -> {"idle"}',
    "GET /_sim/webhooks/events": "bodies of every event emitted",
    "GET /_sim/webhooks/deliveries": "every delivery attempt",
}


class AdminInputError(ValueError):
    """A malformed admin request body."""


def error_response(status: int, codes: list[str], error_type: str | None = None) -> Response:
    """Checkout's error shape."""
    if error_type is None:
        error_type = _ERROR_TYPES.get(status, "request_invalid")
    response = jsonify({"request_id": str(uuid.uuid4()), "error_type": error_type, "error_codes": codes})
    response.status_code = status
    return response


def _from_error(err: SimulatorError) -> Response:
    return error_response(err.status, err.codes or [f"status_{err.status}"])


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _number(data: dict[str, Any], name: str, default: float, cast: Callable[[Any], Any] = int) -> Any:
    raw = data.get(name, default)
    if isinstance(raw, bool):
        raise AdminInputError(f"{name}_invalid")
    try:
        return cast(raw)
    except (TypeError, ValueError) as exc:
        raise AdminInputError(f"{name}_invalid") from exc


def _ok(**extra: Any) -> Response:
    return jsonify({"ok": True, **extra})


def register(app: Flask, sim: SimulatorCore) -> None:  # noqa: PLR0915 - one flat list of routes
    def lookup(ident: str, prefer: frozenset[PaymentStatus] = frozenset()) -> Payment:
        payment = sim.resolve(ident, prefer)
        if payment is None:
            raise SimulatorError(404, ["payment_not_found"], f"unknown payment {ident}")
        return payment

    @app.errorhandler(SimulatorError)
    def _simulator_error(err: SimulatorError) -> Response:
        return _from_error(err)

    @app.errorhandler(AdminInputError)
    def _input_error(err: AdminInputError) -> Response:
        return error_response(422, [str(err)])

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> BaseResponse:
        status = err.code or 500
        if status < 400:  # routing redirects
            return err.get_response()
        if request.path.startswith("/payments"):
            return Response(b"", status=status)  # Checkout's API answers 401/404 with an empty body
        code = "route_not_found" if status == 404 else f"http_{status}"
        return error_response(status, [code])

    @app.get(PREFIX)
    @app.get(f"{PREFIX}/")
    def index() -> Response:
        return jsonify({"simulator": "cko_sim", "base_url": sim.base_url, "routes": ROUTE_HELP})

    @app.get(f"{PREFIX}/health")
    def health() -> Response:
        return _ok(base_url=sim.base_url, now=iso(sim.clock.now()))

    @app.post(f"{PREFIX}/reset")
    def reset() -> Response:
        sim.reset()
        return _ok()

    # -- payments -------------------------------------------------------------------------------

    @app.get(f"{PREFIX}/payments")
    def list_sim_payments() -> Response:
        with sim.lock:
            return jsonify([admin_summary(p) for p in sim.payments.values()])

    @app.get(f"{PREFIX}/payments/<ident>")
    def show_payment(ident: str) -> Response:
        payment = lookup(ident)
        with sim.lock:
            return jsonify({**admin_summary(payment), "actions": actions_view(payment)})

    @app.post(f"{PREFIX}/payments/<ident>/pay")
    def pay(ident: str) -> Response:
        data = _body()
        payment = lookup(ident, _PENDING)
        expiry = data.get("expiry")
        url = sim.pay(
            payment.id,
            card=str(data.get("card", "4215375500883243")),
            expiry=str(expiry) if expiry is not None else None,
            pin=str(data.get("pin", "123456")),
        )
        return _ok(id=payment.id, redirect_url=url, status=sim.get_payment(payment.id).status.value)

    @app.post(f"{PREFIX}/payments/<ident>/cancel")
    def cancel(ident: str) -> Response:
        payment = lookup(ident, _PENDING)
        return _ok(id=payment.id, redirect_url=sim.cancel(payment.id))

    @app.post(f"{PREFIX}/payments/<ident>/expire")
    def expire(ident: str) -> Response:
        payment = lookup(ident, _PENDING)
        sim.expire_payment(payment.id)
        return _ok(id=payment.id)

    @app.post(f"{PREFIX}/payments/<ident>/dashboard-refund")
    def dashboard_refund(ident: str) -> Response:
        data = _body()
        payment = lookup(ident, REFUNDABLE)
        amount = _number(data, "amount", 0) if data.get("amount") is not None else None
        reference = data.get("reference")
        action_id = sim.dashboard_refund(payment.id, amount, str(reference) if reference is not None else None)
        return _ok(id=payment.id, action_id=action_id)

    @app.get(f"{PREFIX}/requests")
    def requests_log() -> Response:
        return jsonify([r._asdict() for r in sim.requests])

    # -- clock ----------------------------------------------------------------------------------

    @app.get(f"{PREFIX}/clock")
    def clock() -> Response:
        return _ok(now=iso(sim.clock.now()), time_scale=sim.config.time_scale)

    @app.post(f"{PREFIX}/clock/advance")
    def advance() -> Response:
        seconds = _number(_body(), "seconds", 0, float)
        if seconds < 0:
            raise AdminInputError("seconds_invalid")
        return _ok(now=iso(sim.clock.advance(seconds)))

    # -- faults ---------------------------------------------------------------------------------

    @app.get(f"{PREFIX}/faults")
    def faults() -> Response:
        return jsonify(
            {
                "decline_refunds": sim.faults.decline_refunds,
                "rules": [
                    {"kind": r.kind, "remaining": r.remaining, "path_prefix": r.path_prefix, "method": r.method}
                    for r in sim.faults.pending
                ],
            }
        )

    @app.post(f"{PREFIX}/faults/fail-next")
    def fail_next() -> Response:
        data = _body()
        raw = data.get("status", 503)
        kind: FaultKind = int(raw) if isinstance(raw, int) or str(raw).isdigit() else raw
        seconds = data.get("seconds")
        try:
            sim.faults.fail_next(
                _number(data, "n", 1),
                kind,
                data.get("path_prefix"),
                method=data.get("method"),
                seconds=float(seconds) if seconds is not None else None,
            )
        except ValueError as err:
            raise SimulatorError(422, ["fault_invalid"], str(err)) from err
        return _ok()

    @app.post(f"{PREFIX}/faults/decline-refunds")
    def decline_refunds() -> Response:
        sim.faults.decline_refunds = bool(_body().get("enabled", True))
        return _ok(decline_refunds=sim.faults.decline_refunds)

    @app.post(f"{PREFIX}/faults/reset")
    def reset_faults() -> Response:
        sim.faults.reset()
        return _ok()

    # -- webhooks -------------------------------------------------------------------------------

    @app.post(f"{PREFIX}/webhooks/pause")
    def pause() -> Response:
        sim.webhooks.pause()
        return _ok()

    @app.post(f"{PREFIX}/webhooks/resume")
    def resume() -> Response:
        sim.webhooks.resume()
        return _ok()

    @app.post(f"{PREFIX}/webhooks/duplicate-next")
    def duplicate_next() -> Response:
        sim.webhooks.duplicate_next(_number(_body(), "n", 1))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/reorder-next")
    def reorder_next() -> Response:
        sim.webhooks.reorder_next(_number(_body(), "n", 2))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/release-held")
    def release_held() -> Response:
        sim.webhooks.release_held()
        return _ok()

    @app.post(f"{PREFIX}/webhooks/drop-next")
    def drop_next() -> Response:
        sim.webhooks.drop_next(_number(_body(), "n", 1))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/delay-next")
    def delay_next() -> Response:
        data = _body()
        sim.webhooks.delay_next(_number(data, "n", 1), _number(data, "seconds", 60, float))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/overlap-next")
    def overlap_next() -> Response:
        sim.webhooks.overlap_next(_number(_body(), "n", 1))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/burst-next")
    def burst_next() -> Response:
        sim.webhooks.burst_next(_number(_body(), "n", 2))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/chaos")
    def chaos() -> Response:
        data = _body()
        cfg = sim.config
        for name in ("duplicate", "drop", "reorder", "overlap"):
            if name in data:
                setattr(cfg, f"webhook_{name}_probability", _number(data, name, 0, float))
        if "delay_seconds" in data:
            cfg.webhook_delay_seconds = _number(data, "delay_seconds", 0, float)
        if "workers" in data:
            sim.webhooks.set_workers(_number(data, "workers", 1))
        return _ok(
            duplicate=cfg.webhook_duplicate_probability,
            drop=cfg.webhook_drop_probability,
            reorder=cfg.webhook_reorder_probability,
            overlap=cfg.webhook_overlap_probability,
            delay_seconds=cfg.webhook_delay_seconds,
            workers=cfg.webhook_workers,
        )

    @app.post(f"{PREFIX}/webhooks/wait-idle")
    def wait_idle() -> Response:
        return _ok(idle=sim.webhooks.wait_idle(_number(_body(), "timeout", 10, float)))

    @app.get(f"{PREFIX}/webhooks/events")
    def events() -> Response:
        return jsonify(sim.webhooks.bodies())

    @app.get(f"{PREFIX}/webhooks/deliveries")
    def deliveries() -> Response:
        return jsonify(
            [
                {
                    "event_id": d.event_id,
                    "type": d.type,
                    "payment_id": d.payment_id,
                    "attempt": d.attempt,
                    "result": d.result,
                    "at": iso(d.at),
                }
                for d in sim.webhooks.deliveries
            ]
        )

"""Admin endpoints under ``/_sim/…``: drive payments, clock, faults and webhook chaos over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from cko_sim.clock import iso
from cko_sim.faults import FaultKind
from cko_sim.simulator import SimulatorError, public_payment_fields
from cko_sim.views import actions_view

if TYPE_CHECKING:
    from cko_sim.simulator import Simulator

PREFIX = "/_sim"


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _count(data: dict[str, Any], default: int = 1) -> int:
    return int(data.get("n", default))


def _error(err: SimulatorError) -> Response:
    response = jsonify({"error": str(err), "status": err.status, "codes": err.codes})
    response.status_code = err.status
    return response


def _ok(**extra: Any) -> Response:
    return jsonify({"ok": True, **extra})


def register(app: Flask, sim: Simulator) -> None:  # noqa: PLR0915 - one flat list of routes
    @app.get(f"{PREFIX}/health")
    def health() -> Response:
        return _ok(base_url=sim.base_url, now=iso(sim.clock.now()))

    @app.post(f"{PREFIX}/reset")
    def reset() -> Response:
        sim.reset()
        return _ok()

    # -- payments -------------------------------------------------------------------------------

    @app.get(f"{PREFIX}/payments")
    def list_payments() -> Response:
        with sim.lock:
            return jsonify([public_payment_fields(p) for p in sim.payments.values()])

    @app.get(f"{PREFIX}/payments/<pay_id>")
    def show_payment(pay_id: str) -> Response:
        payment = sim.find(pay_id)
        if payment is None:
            return _error(SimulatorError(404, message="unknown payment"))
        with sim.lock:
            return jsonify({**public_payment_fields(payment), "actions": actions_view(payment)})

    @app.post(f"{PREFIX}/payments/<pay_id>/pay")
    def pay(pay_id: str) -> Response:
        data = _body()
        try:
            url = sim.pay(
                pay_id,
                card=str(data.get("card", "4215375500883243")),
                expiry=data.get("expiry"),
                pin=str(data.get("pin", "123456")),
            )
        except SimulatorError as err:
            return _error(err)
        payment = sim.find(pay_id)
        return _ok(redirect_url=url, status=payment.status.value if payment else None)

    @app.post(f"{PREFIX}/payments/<pay_id>/cancel")
    def cancel(pay_id: str) -> Response:
        try:
            return _ok(redirect_url=sim.cancel(pay_id))
        except SimulatorError as err:
            return _error(err)

    @app.post(f"{PREFIX}/payments/<pay_id>/expire")
    def expire(pay_id: str) -> Response:
        try:
            sim.expire_payment(pay_id)
        except SimulatorError as err:
            return _error(err)
        return _ok()

    @app.post(f"{PREFIX}/payments/<pay_id>/dashboard-refund")
    def dashboard_refund(pay_id: str) -> Response:
        data = _body()
        amount = data.get("amount")
        try:
            action_id = sim.dashboard_refund(pay_id, int(amount) if amount is not None else None, data.get("reference"))
        except SimulatorError as err:
            return _error(err)
        return _ok(action_id=action_id)

    @app.get(f"{PREFIX}/requests")
    def requests_log() -> Response:
        return jsonify([r._asdict() for r in sim.requests])

    # -- clock ----------------------------------------------------------------------------------

    @app.get(f"{PREFIX}/clock")
    def clock() -> Response:
        return _ok(now=iso(sim.clock.now()), time_scale=sim.config.time_scale)

    @app.post(f"{PREFIX}/clock/advance")
    def advance() -> Response:
        seconds = float(_body().get("seconds", 0))
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
        try:
            sim.faults.fail_next(
                _count(data),
                kind,
                data.get("path_prefix"),
                method=data.get("method"),
                seconds=data.get("seconds"),
            )
        except ValueError as err:
            return _error(SimulatorError(422, ["fault_invalid"], str(err)))
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
        sim.webhooks.duplicate_next(_count(_body()))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/reorder-next")
    def reorder_next() -> Response:
        sim.webhooks.reorder_next(_count(_body(), 2))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/release-held")
    def release_held() -> Response:
        sim.webhooks.release_held()
        return _ok()

    @app.post(f"{PREFIX}/webhooks/drop-next")
    def drop_next() -> Response:
        sim.webhooks.drop_next(_count(_body()))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/delay-next")
    def delay_next() -> Response:
        data = _body()
        sim.webhooks.delay_next(_count(data), float(data.get("seconds", 60)))
        return _ok()

    @app.post(f"{PREFIX}/webhooks/chaos")
    def chaos() -> Response:
        data = _body()
        cfg = sim.config
        for name in ("duplicate", "drop", "reorder"):
            if name in data:
                setattr(cfg, f"webhook_{name}_probability", float(data[name]))
        if "delay_seconds" in data:
            cfg.webhook_delay_seconds = float(data["delay_seconds"])
        return _ok(
            duplicate=cfg.webhook_duplicate_probability,
            drop=cfg.webhook_drop_probability,
            reorder=cfg.webhook_reorder_probability,
            delay_seconds=cfg.webhook_delay_seconds,
        )

    @app.post(f"{PREFIX}/webhooks/wait-idle")
    def wait_idle() -> Response:
        timeout = float(_body().get("timeout", 10))
        return _ok(idle=sim.webhooks.wait_idle(timeout))

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

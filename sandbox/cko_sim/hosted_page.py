"""The hosted QPay page: a plain HTML form (no JavaScript) that pays, cancels or declines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, redirect, request
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as BaseResponse

from cko_sim.models.state import Payment, PaymentStatus
from cko_sim.simulator import SimulatorError

if TYPE_CHECKING:
    from cko_sim.simulator import Simulator

PAGE_PATH = "/qpay-external/redirect-to-qpay"
RESULT_PATH = "/qpay-external/result"

_STYLE = (
    "body{font-family:sans-serif;max-width:28rem;margin:2rem auto;color:#222}"
    "label{display:block;margin-top:.8rem}input{width:100%;padding:.4rem;font-size:1rem}"
    "button,a.button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}"
    "#decline-message{color:#a00;font-weight:bold}"
)


def _page(title: str, body: Markup | str, status: int = 200) -> Response:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>QPay (Checkout.com simulator)</h1>{body}</body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _summary(payment: Payment) -> Markup:
    amount = f"{payment.amount / 100:.2f}"
    return Markup(
        "<p id='payment-summary'>{} &mdash; <strong>{} {}</strong></p>"
        "<p>Reference: <span id='payment-reference'>{}</span></p>"
    ).format(payment.description, payment.currency, amount, payment.reference or "")


def _form(payment: Payment) -> Markup:
    return Markup(
        "<form method='post' action='{action}'>"
        "<input type='hidden' name='pun' value='{pun}'>"
        "<label for='card_number'>Card number</label>"
        "<input id='card_number' name='card_number' inputmode='numeric' autocomplete='cc-number'>"
        "<label for='expiry'>Expiry date (MM/YY)</label>"
        "<input id='expiry' name='expiry' placeholder='MM/YY' autocomplete='cc-exp'>"
        "<label for='pin'>PIN</label>"
        "<input id='pin' name='pin' type='password' inputmode='numeric'>"
        "<button type='submit' id='pay' name='action' value='pay'>Pay</button> "
        "<button type='submit' id='cancel' name='action' value='cancel'>Cancel</button>"
        "</form>"
    ).format(action=f"{PAGE_PATH}?pun={payment.pun}", pun=payment.pun)


def _final(sim: Simulator, payment: Payment, status: int = 200) -> Response:
    """Page for a payment that is no longer Pending."""
    parts: list[Markup] = [
        _summary(payment),
        Markup("<p id='payment-status'>Status: {}</p>").format(payment.status.value),
    ]
    success = payment.status in (
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    )
    if payment.status == PaymentStatus.DECLINED:
        parts.append(Markup("<p id='decline-message' role='alert'>{}</p>").format(payment.decline_reason or ""))
    url = sim.return_url(payment, success=success)
    parts.append(
        Markup("<p><a id='return-to-merchant' class='button' href='{}'>Return to merchant</a></p>").format(url)
    )
    return _page("QPay", Markup("").join(parts), status)


def register(app: Flask, sim: Simulator) -> None:
    @app.get(PAGE_PATH)
    def show() -> Response:
        payment = sim.find(request.args.get("pun", ""))
        if payment is None or payment.id.startswith("sid_"):
            return _page("QPay", "<p id='error-message'>Unknown payment.</p>", 404)
        with sim.lock:
            if payment.status != PaymentStatus.PENDING:
                return _final(sim, payment)
            return _page("QPay", _summary(payment) + _form(payment))

    @app.post(PAGE_PATH)
    def submit() -> BaseResponse:
        pun = request.form.get("pun") or request.args.get("pun", "")
        payment = sim.find(pun) if pun else None
        if payment is None:
            return _page("QPay", "<p id='error-message'>Unknown payment.</p>", 404)
        action = request.form.get("action", "pay")
        try:
            result = sim.submit_page(
                payment.id,
                "cancel" if action == "cancel" else "pay",
                request.form.get("card_number", ""),
                request.form.get("expiry", ""),
                request.form.get("pin", ""),
            )
        except SimulatorError:
            with sim.lock:
                return _final(sim, payment, 409)
        if result.status == PaymentStatus.DECLINED:
            with sim.lock:
                return _final(sim, payment)
        assert result.redirect_url is not None
        return redirect(result.redirect_url, code=303)

    @app.get(RESULT_PATH)
    def result() -> Response:
        outcome = request.args.get("outcome", "")
        sid = request.args.get("cko-session-id", "")
        body = Markup("<p id='result'>Payment flow finished: {}.</p><p>cko-session-id: <code>{}</code></p>")
        return _page("QPay result", body.format(outcome, sid))

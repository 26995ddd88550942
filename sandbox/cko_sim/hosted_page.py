"""The hosted QPay page: a bank-style payment form that pays, cancels or declines.

Served at ``_links.redirect.href``. It works without JavaScript (a small inline script only ticks the
server-rendered countdown); inline CSS only, no external assets. English, or Arabic right-to-left when
the payment's ``source.language`` is ``ar``. Element ids and names (``card_number``, ``expiry``,
``pin``, ``#pay``, ``#cancel``, ``#decline-message``, ``#return-to-merchant``) are a stable contract
for browser tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, redirect, request
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from cko_sim.clock import iso
from cko_sim.errors import SimulatorError
from cko_sim.models.state import APPROVED, Payment, PaymentStatus
from cko_sim.page_style import COUNTDOWN_SCRIPT, STYLE
from cko_sim.page_text import direction, format_amount, format_duration, language_of, text

if TYPE_CHECKING:
    from cko_sim.core import SimulatorCore

PAGE_PATH = "/qpay-external/redirect-to-qpay"
RESULT_PATH = "/qpay-external/result"


def _page(language: str, merchant: str, body: Markup, status: int = 200, script: bool = False) -> Response:
    lang = language_of(language)
    tail = Markup("<script>{}</script>").format(COUNTDOWN_SCRIPT) if script else Markup("")
    html = Markup(
        '<!doctype html><html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title}</title><style>{style}</style></head><body>"
        '<header class="bar"><span class="brand">{brand}</span><span class="secure">{secure} &middot; {merchant}'
        "</span></header><main>{body}</main>{tail}</body></html>"
    ).format(
        lang=lang,
        dir=direction(lang),
        title=text(lang, "title"),
        style=STYLE,
        brand=text(lang, "brand"),
        secure=text(lang, "secure"),
        merchant=merchant,
        body=body,
        tail=tail,
    )
    return Response(str(html), status=status, content_type="text/html; charset=utf-8")


def _summary(sim: SimulatorCore, payment: Payment, with_countdown: bool) -> Markup:
    lang = language_of(payment.language)
    amount = Markup(
        '<p class="amount-row"><span class="label">{}</span><span id="amount" class="amount" dir="ltr">{}</span></p>'
    ).format(text(lang, "amount"), format_amount(payment.amount, payment.currency))
    rows = [
        ("merchant", Markup('<span id="merchant-name">{}</span>').format(sim.config.merchant_name)),
        ("description", Markup('<span id="payment-description">{}</span>').format(payment.description)),
    ]
    if payment.reference:
        reference = Markup('<span id="payment-reference" dir="ltr">{}</span>').format(payment.reference)
        rows.append(("reference", reference))
    items = Markup("").join(Markup("<dt>{}</dt><dd>{}</dd>").format(text(lang, key), value) for key, value in rows)
    countdown = Markup("")
    if with_countdown and payment.expires_on is not None:
        left = int((payment.expires_on - sim.clock.now()).total_seconds())
        countdown = Markup(
            '<p id="countdown" class="countdown" role="timer" data-expires-at="{at}" data-expired-text="{gone}">'
            '{label}: <strong id="countdown-value" dir="ltr" data-seconds-left="{left}">{shown}</strong></p>'
        ).format(
            at=iso(payment.expires_on),
            gone=text(lang, "session_expired"),
            label=text(lang, "time_left"),
            left=max(left, 0),
            shown=format_duration(left),
        )
    return Markup(
        '<section class="card" id="payment-summary" aria-label="{}"><span class="sandbox">{}</span>'
        "{}<dl>{}</dl>{}</section>"
    ).format(text(lang, "summary"), text(lang, "sandbox"), amount, items, countdown)


def _form(payment: Payment) -> Markup:
    lang = language_of(payment.language)
    return Markup(
        '<section class="card"><form method="post" action="{action}">'
        '<input type="hidden" name="pun" value="{pun}">'
        '<label for="card_number">{card}</label>'
        '<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" dir="ltr">'
        '<label for="expiry">{expiry}</label>'
        '<input id="expiry" name="expiry" placeholder="MM/YY" inputmode="numeric" autocomplete="cc-exp" dir="ltr">'
        '<label for="pin">{pin}</label>'
        '<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" dir="ltr">'
        '<div class="actions">'
        '<button type="submit" id="pay" name="action" value="pay">{pay}</button>'
        '<button type="submit" id="cancel" name="action" value="cancel" formnovalidate>{cancel}</button>'
        "</div></form></section>"
    ).format(
        action=f"{PAGE_PATH}?pun={payment.pun}",
        pun=payment.pun,
        card=text(lang, "card_number"),
        expiry=text(lang, "expiry"),
        pin=text(lang, "pin"),
        pay=text(lang, "pay"),
        cancel=text(lang, "cancel"),
    )


def _final(sim: SimulatorCore, payment: Payment, status: int = 200) -> Response:
    """Page for a payment that is no longer Pending."""
    lang = language_of(payment.language)
    parts: list[Markup] = [
        _summary(sim, payment, with_countdown=False),
        Markup(
            '<section class="card"><p id="payment-status" class="status" data-status="{value}">{label}: {shown}</p>'
        ).format(
            value=payment.status.value,
            label=text(lang, "status"),
            shown=text(lang, f"status_{payment.status.value}"),
        ),
    ]
    if payment.status == PaymentStatus.DECLINED:
        reason = text(lang, f"decline_{payment.decline_code}") if payment.decline_code else payment.decline_reason
        parts.append(Markup('<p id="decline-message" role="alert">{}</p>').format(reason or ""))
    url = sim.return_url(payment, success=payment.status in APPROVED)
    parts.append(
        Markup('<p><a id="return-to-merchant" class="button" href="{}">{}</a></p></section>').format(
            url, text(lang, "return")
        )
    )
    return _page(lang, sim.config.merchant_name, Markup("").join(parts), status)


def _unknown(sim: SimulatorCore) -> Response:
    return _page(
        "en", sim.config.merchant_name, Markup('<p id="error-message">{}</p>').format(text("en", "unknown")), 404
    )


def register(app: Flask, sim: SimulatorCore) -> None:
    @app.get(PAGE_PATH)
    def show() -> Response:
        pun = request.args.get("pun", "")
        payment = sim.find(pun) if pun and not pun.startswith("sid_") else None
        if payment is None:
            return _unknown(sim)
        with sim.lock:
            if payment.status != PaymentStatus.PENDING:
                return _final(sim, payment)
            body = _summary(sim, payment, with_countdown=True) + _form(payment)
            return _page(payment.language, sim.config.merchant_name, body, script=payment.expires_on is not None)

    @app.post(PAGE_PATH)
    def submit() -> BaseResponse:
        pun = request.form.get("pun") or request.args.get("pun", "")
        payment = sim.find(pun) if pun and not pun.startswith("sid_") else None
        if payment is None:
            return _unknown(sim)
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
        body = Markup(
            '<section class="card"><p id="result">Payment flow finished: {}.</p>'
            '<p>cko-session-id: <code dir="ltr">{}</code></p></section>'
        ).format(outcome, sid)
        return _page("en", sim.config.merchant_name, body)

"""The demo storefront's Flask app (see the package docstring). Routes, relative to the mount point:

``GET /`` order form · ``POST /checkout`` make the order, mint its token, hand over to the browser ·
``GET /result`` live payment status and refunds · ``POST /refund`` the signed merchant proxy.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx
from botocore.credentials import Credentials
from flask import Flask, Response, jsonify, render_template, request, url_for

from demo_shop import i18n
from demo_shop.i18n import LANGUAGES
from demo_shop.money import AmountError, format_minor, to_minor_units
from demo_shop.orders import Order, OrderBook
from demo_shop.signing import KeyPair, as_botocore, signed_headers
from qpay.api.auth import mint_order_token
from qpay.domain import ids

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("demo_shop")

CURRENCY = "QAR"
ORDER_TOKEN_TTL_S = 900
DEFAULT_NATIONAL_ID = "28763400000"  # synthetic
LANG_COOKIE = "shop_lang"
_REF_ALPHABET = string.ascii_uppercase + string.digits
_IDEM_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_NATIONAL_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


@dataclass(frozen=True)
class ShopConfig:
    api_url: str
    order_token_key: str
    credentials: Credentials
    region: str
    upstream_timeout_s: float = 10.0
    order_token_kid: str = "local-1"  # noqa: S105 - a key id, not a key
    merchant_api_key: str = ""  # server side only: reads why a payment was declined (merchant view)


def new_reference() -> str:
    return "ORD-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(10))


def create_app(
    *,
    api_url: str,
    order_token_key: str,
    credentials: Credentials | KeyPair,
    region: str,
    public_prefix: str = "/shop",
    order_token_kid: str = "local-1",  # noqa: S107 - a key id, not a key
    merchant_api_key: str = "",
) -> WSGIApplication:
    """The storefront as a WSGI app.

    ``api_url``: the QPay HTTP API's base URL as the shopper's browser reaches it (the browser calls
    ``POST {api_url}/payments`` and polls ``GET {api_url}/payments/{id}``; the refund proxy calls it
    server-side). ``credentials``: botocore ``Credentials`` or anything with ``access_key_id`` and
    ``secret_access_key`` (e.g. ``LocalStack.credentials``), used only to sign refunds.
    ``public_prefix``: where the shop lives when it is served on its own (a mount that sets
    ``SCRIPT_NAME``, like the local stack's, takes precedence). ``merchant_api_key``: server side only,
    to show the shopper why a payment was declined (``GET …/payments/{id}/decline``); without it the
    result page shows the generic decline text.
    """
    config = ShopConfig(
        api_url=api_url.rstrip("/"),
        order_token_key=order_token_key,
        credentials=as_botocore(credentials),
        region=region,
        order_token_kid=order_token_kid,
        merchant_api_key=merchant_api_key,
    )
    app = Flask(__name__)
    app.config["DEMO_SHOP"] = config
    app.jinja_env.globals.update(currency=CURRENCY, format_minor=format_minor)
    _routes(app, config, OrderBook())
    return _PrefixFallback(app, public_prefix)


class _PrefixFallback:
    """Served at the root of a server (no ``SCRIPT_NAME``), treat ``public_prefix`` as the mount point."""

    def __init__(self, app: Flask, prefix: str) -> None:
        self.app = app
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if (
            self.prefix
            and not environ.get("SCRIPT_NAME")
            and (path == self.prefix or path.startswith(self.prefix + "/"))
        ):
            environ["SCRIPT_NAME"] = self.prefix
            environ["PATH_INFO"] = path[len(self.prefix) :]
        if not environ.get("PATH_INFO") and environ.get("SCRIPT_NAME"):
            environ["PATH_INFO"] = "/"  # "/shop" itself is the order form (no redirect to "/shop/")
        return self.app.wsgi_app(environ, start_response)


def _lang() -> str:
    """The page's language: ``?lang=``, else the shop's cookie (set from the last order's language)."""
    return i18n.pick(request.args.get("lang"), request.cookies.get(LANG_COOKIE))


def _render(template: str, lang: str, status: int = 200, **context: Any) -> tuple[str, int]:
    def t(key: str, **values: str) -> str:
        return i18n.translate(lang, key, **values)

    def switch_url() -> str:
        other = "en" if lang == "ar" else "ar"
        args = {k: v for k, v in request.args.items() if k != "lang"}
        return url_for(request.endpoint or "order_form") + "?" + urlencode({**args, "lang": other})

    html = render_template(
        template,
        lang=lang,
        dir=i18n.direction(lang),
        t=t,
        money=lambda minor: i18n.money(minor, lang),
        switch_url=switch_url()
        if request.method == "GET"
        else url_for("order_form", lang="en" if lang == "ar" else "ar"),
        script_strings=i18n.script_strings(lang),
        **context,
    )
    return html, status


def _order_form(
    lang: str, *, form: dict[str, str], errors: dict[str, str], status: int = 200, **extra: Any
) -> tuple[str, int]:
    return _render("order.html", lang, status, form=form, errors=errors, languages=LANGUAGES, **extra)


def _routes(app: Flask, config: ShopConfig, orders: OrderBook) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, chosen, max_age=30 * 86400, samesite="Lax", path=request.script_root or "/"
            )
        return response

    @app.get("/")
    def order_form() -> tuple[str, int]:
        lang = _lang()
        form = {"amount": "125.00", "description": "Demo order", "language": lang, "national_id": DEFAULT_NATIONAL_ID}
        return _order_form(lang, form=form, errors={})

    @app.get("/retry")
    def retry() -> tuple[str, int]:
        """Try again with QPay: the same order (reference, amount), a new payment."""
        lang = _lang()
        order = orders.get(request.args.get("reference", ""))
        form = {"amount": "", "description": "", "language": lang, "national_id": DEFAULT_NATIONAL_ID}
        if order is None:
            form.update(amount="125.00", description="Demo order")
            return _order_form(lang, form=form, errors={}, notice=i18n.translate(lang, "order_unknown"), status=404)
        return _order_form(lang, form=form, errors={}, retry_order=order)

    @app.post("/checkout")
    def checkout() -> tuple[str, int] | Response:
        return _checkout(config, orders)

    @app.get("/result")
    def result() -> tuple[str, int]:
        lang = _lang()
        payment_id = request.args.get("payment_id", "")
        reference = request.args.get("reference", "")
        error = request.args.get("error", "")
        valid = ids.is_payment_id(payment_id)
        return _render(
            "result.html",
            lang,
            200 if valid else 404,
            api_url=config.api_url,
            payment_id=payment_id if valid else "",
            reference=reference,
            checking=request.args.get("check") == "1",
            can_retry=bool(reference and orders.get(reference)),
            error=error or ("" if valid else "unknown_payment"),
        )

    @app.post("/refund")
    def refund() -> tuple[Response, int]:
        return _refund_proxy(config)

    @app.get("/payments/<payment_id>/decline")
    def decline(payment_id: str) -> tuple[Response, int]:
        return _decline_reason(config, payment_id)


def _checkout(config: ShopConfig, orders: OrderBook) -> tuple[str, int] | Response:
    """Make (or retry) the order, mint its token, hand over to the browser."""
    form = {k: request.form.get(k, "").strip() for k in ("amount", "description", "language", "national_id")}
    lang = i18n.pick(form["language"], _lang())
    errors: dict[str, str] = {}
    if form["language"] not in LANGUAGES:
        errors["language"] = i18n.translate(lang, "err_language")
    if not _NATIONAL_ID.match(form["national_id"]):
        errors["national_id"] = i18n.translate(lang, "err_national_id")
    retry_of = request.form.get("reference", "").strip()
    order: Order | None = None
    if retry_of:
        order = orders.get(retry_of)
        if order is None:
            form.update(amount="125.00", description="Demo order")
            return _order_form(lang, form=form, errors={}, notice=i18n.translate(lang, "order_unknown"), status=404)
        if errors:
            return _order_form(lang, form=form, errors=errors, retry_order=order, status=400)
        order = orders.next_attempt(retry_of, form["language"])
        assert order is not None
    else:
        amount = 0
        try:
            amount = to_minor_units(form["amount"], CURRENCY)
        except AmountError as exc:
            errors["amount"] = i18n.translate(lang, exc.key)
        if not 1 <= len(form["description"]) <= 100:
            errors["description"] = i18n.translate(lang, "err_description")
        if errors:
            return _order_form(lang, form=form, errors=errors, status=400)
        # The merchant's server decides the order and what the shopper may pay for it.
        order = Order(new_reference(), amount, form["description"], form["language"])
        orders.add(order)
    # One order token per payment attempt: a new jti, so a new payment for the same order.
    token = mint_order_token(
        config.order_token_key,
        kid=config.order_token_kid,
        reference=order.reference,
        amount=order.amount,
        currency=CURRENCY,
        expires_at=int(time.time()) + ORDER_TOKEN_TTL_S,
    )
    body = {
        "reference": order.reference,
        "amount": order.amount,
        "currency": CURRENCY,
        "description": order.description,
        "language": order.language,
        "national_id": form["national_id"],
        "metadata": {"source": "demo-shop"},
    }
    html, status = _render(
        "pay.html",
        lang,
        api_url=config.api_url,
        order_token=token,
        idempotency_key=f"{order.reference}-{order.attempts}",
        body_json=json.dumps(body, separators=(",", ":")),
        reference=order.reference,
        amount=order.amount,
        description=order.description,
    )
    response = Response(html, status, mimetype="text/html")
    response.set_cookie(LANG_COOKIE, lang, max_age=30 * 86400, samesite="Lax", path=request.script_root or "/")
    return response


def _problem(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message, "fields": fields or []}), status


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.host


def _refund_proxy(config: ShopConfig) -> tuple[Response, int]:
    """The merchant back office: check the request, sign it with SigV4 and forward it to the API.

    Demo only: a real back office authenticates its staff first. JSON only (a cross-site form cannot
    send it without a CORS preflight) and same-origin only.
    """
    if not request.is_json:
        return _problem(415, "unsupported_media_type", "send application/json")
    if not _same_origin():
        return _problem(403, "forbidden", "cross-origin refund requests are not accepted")
    doc: Any = request.get_json(silent=True)
    if not isinstance(doc, dict):
        return _problem(400, "validation_error", "the body must be a JSON object")
    payment_id = str(doc.get("payment_id", ""))
    if not ids.is_payment_id(payment_id):
        return _problem(
            400, "validation_error", "unknown payment", [{"field": "payment_id", "issue": "not a payment id"}]
        )
    try:
        amount = to_minor_units(str(doc.get("amount", "")), CURRENCY)
    except AmountError as exc:
        return _problem(400, "validation_error", "invalid refund amount", [{"field": "amount", "issue": str(exc)}])
    key = str(doc.get("idempotency_key") or "")
    if not _IDEM_KEY.match(key):
        key = "shop-" + secrets.token_hex(16)
    body: dict[str, Any] = {"amount": amount}
    reason = str(doc.get("reason") or "").strip()
    if reason:
        body["reason"] = reason[:200]
    raw = json.dumps(body, separators=(",", ":")).encode()
    url = f"{config.api_url}/payments/{payment_id}/refunds"
    headers = signed_headers(
        method="POST",
        url=url,
        body=raw,
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
        credentials=config.credentials,
        region=config.region,
    )
    try:
        upstream = httpx.post(url, content=raw, headers=headers, timeout=config.upstream_timeout_s)
    except httpx.HTTPError as exc:
        log.warning("refund proxy: API unreachable: %s", exc)
        return _problem(502, "upstream_unavailable", "the payments API did not answer; try again")
    try:
        answer: Any = upstream.json()
    except ValueError:
        answer = {"code": "upstream_error", "message": upstream.text[:200] or upstream.reason_phrase}
    if not isinstance(answer, dict):
        answer = {"code": "upstream_error", "message": "unexpected answer from the payments API"}
    response = jsonify(answer)
    response.headers["Idempotency-Key"] = key
    if upstream.headers.get("Idempotent-Replayed"):
        response.headers["Idempotent-Replayed"] = upstream.headers["Idempotent-Replayed"]
    return response, upstream.status_code


def _decline_reason(config: ShopConfig, payment_id: str) -> tuple[Response, int]:
    """Why a payment was declined, as the merchant's view of the API says it (the browser's client secret
    does not show it): only ``{status, decline}``, read server side with the merchant key."""
    if not ids.is_payment_id(payment_id) or not config.merchant_api_key:
        return _problem(404, "not_found", "unknown payment")
    try:
        upstream = httpx.get(
            f"{config.api_url}/payments/{payment_id}",
            headers={"Authorization": f"Bearer {config.merchant_api_key}"},
            timeout=config.upstream_timeout_s,
        )
    except httpx.HTTPError as exc:
        log.warning("decline reason: API unreachable: %s", exc)
        return _problem(502, "upstream_unavailable", "the payments API did not answer; try again")
    if upstream.status_code != 200:
        return _problem(404, "not_found", "unknown payment")
    doc = upstream.json()
    return jsonify({"status": doc.get("status"), "decline": doc.get("decline")}), 200


def for_stack(stack: Any) -> WSGIApplication:
    """The storefront wired to a running ``qpay_local.LocalStack`` (its API URL, order-token key,
    SigV4 credentials and region): what ``make run`` and the browser tests mount at ``/shop``."""
    return create_app(
        api_url=stack.api_url,
        order_token_key=stack.keys.order_token_key,
        order_token_kid=stack.keys.order_token_kid,
        credentials=stack.credentials,
        region=stack.region,
        merchant_api_key=stack.keys.merchant_api_key,
    )

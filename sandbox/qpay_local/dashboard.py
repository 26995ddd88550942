"""The local dashboard at ``http://127.0.0.1:3000/_local`` — like the Stripe Dashboard, for the local stack.

Plain HTML, CSS and JavaScript from ``static/`` (no build step, no external assets), refreshed by
polling two JSON endpoints:

- ``GET /_local/api/payments?q=…``: payments, newest first; ``q`` matches an id or order reference
  (case-insensitive substring);
- ``GET /_local/api/payments/{id}`` (our id or the order reference): the payment, its refunds and
  expiry timer as stored, and its timeline (:mod:`qpay_local.activity`), with every attempt to forward
  its order events (``--forward-events-to``);
- ``POST /_local/api/events/{event id}/resend``: forward that order event again (``202``; ``404`` for an
  event the forwarder has not seen; ``409`` when forwarding is off).

Never the shopper's personal data: the national ID is not stored anywhere, and the customer item
(name, email) is not read.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from qpay_local.activity import Activity, plain, status_of

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

STATIC = Path(__file__).resolve().parent / "static"
PAGE = "dashboard.html"
MAX_LIST = 200

_PAYMENT_FIELDS = (
    "id",
    "reference",
    "amount",
    "currency",
    "description",
    "stage",
    "captured_amount",
    "refunded_amount",
    "refundable_amount",
    "cko_id",
    "version",
    "expiry_attempts",
    "attention",
    "last_event",
    "created_at",
    "updated_at",
    "deadline",
)
_REFUND_FIELDS = ("id", "amount", "state", "reference", "reason", "action_id", "failure", "created_at", "updated_at")


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float) or not epoch:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def payment_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {k: item.get(k) for k in _PAYMENT_FIELDS if k in item}
    view["status"] = status_of(item)
    for key in ("created_at", "updated_at", "deadline"):
        view[f"{key}_iso"] = _iso(item.get(key))
    return view


class Dashboard:
    """WSGI app; ``ddb`` is a DynamoDB client for the stack's table."""

    def __init__(
        self,
        ddb_client: Callable[[], Any],
        table: Callable[[], str],
        activity: Activity,
        resend: Callable[[], Callable[[str], bool] | None] = lambda: None,
    ) -> None:
        self._ddb = ddb_client
        self._table = table
        self.activity = activity
        self._resend = resend  # the forwarder's resend, when --forward-events-to is on

    # -- data ----------------------------------------------------------------------------------

    def payments(self, query: str = "") -> list[dict[str, Any]]:
        ddb, table = self._ddb(), self._table()
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": {":sk": {"S": "PAYMENT"}},
        }
        while True:
            page = ddb.scan(**kwargs)
            items.extend(plain(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        needle = query.strip().lower()
        if needle:
            items = [
                i
                for i in items
                if needle in str(i.get("id", "")).lower() or needle in str(i.get("reference", "")).lower()
            ]
        items.sort(key=lambda i: (i.get("created_at") or 0, str(i.get("id"))), reverse=True)
        return [payment_view(i) for i in items[:MAX_LIST]]

    def payment(self, ident: str) -> dict[str, Any] | None:
        ddb, table = self._ddb(), self._table()
        payment_id = ident
        if not ident.startswith("qpp_"):
            guard = ddb.get_item(TableName=table, Key={"pk": {"S": f"REFERENCE#{ident}"}, "sk": {"S": "REFERENCE"}})
            found = plain(guard.get("Item"))
            if not found.get("payment_id"):
                return None
            payment_id = str(found["payment_id"])
        items = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"PAYMENT#{payment_id}"}},
            ConsistentRead=True,
        ).get("Items", [])
        by_sk = {str(i["sk"]["S"]): plain(i) for i in items}
        item = by_sk.get("PAYMENT")
        if item is None:
            return None
        refunds = [{k: v.get(k) for k in _REFUND_FIELDS} for sk, v in sorted(by_sk.items()) if sk.startswith("REFUND#")]
        timer = by_sk.get("TIMER")
        return {
            "payment": payment_view(item),
            "refunds": refunds,
            "timer": {
                "due": timer.get("expires_at_epoch"),
                "due_iso": _iso(timer.get("expires_at_epoch")),
                "attempt": timer.get("attempt"),
            }
            if timer
            else None,
            "timeline": self.activity.timeline(payment_id),
            "forwarding": self._resend() is not None,
        }

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.route(request)
        return response(environ, start_response)

    def route(self, request: Request) -> Response:
        path = request.path  # under the mount point
        if request.method == "POST" and path.startswith("/api/events/") and path.endswith("/resend"):
            return self.resend(path.removeprefix("/api/events/").removesuffix("/resend"))
        if request.method != "GET":
            return _json({"message": "Method Not Allowed"}, 405)
        if path in ("", "/"):
            base = request.script_root
            html = (STATIC / PAGE).read_text(encoding="utf-8").replace("{{BASE}}", base)
            return Response(html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            file = (STATIC / name).resolve()
            if file.parent != STATIC or not file.is_file():
                return _json({"message": "Not Found"}, 404)
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            return Response(file.read_bytes(), content_type=kind, headers={"Cache-Control": "no-store"})
        if path == "/api/payments":
            return _json({"payments": self.payments(request.args.get("q", ""))})
        if path.startswith("/api/payments/"):
            found = self.payment(path.removeprefix("/api/payments/"))
            return _json(found) if found is not None else _json({"message": "no such payment"}, 404)
        return _json({"message": "Not Found"}, 404)

    def resend(self, event_id: str) -> Response:
        resend = self._resend()
        if resend is None:
            return _json({"message": 'forwarding is off: make run ARGS="--forward-events-to URL"'}, 409)
        if not resend(event_id):
            return _json({"message": f"no forwarded order event {event_id}"}, 404)
        return _json({"resent": event_id}, 202)


def _json(doc: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, default=str),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )

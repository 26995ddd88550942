"""A demo storefront for the local stack: an order form, the QPay hand-off and a live result page.

``create_app(api_url=…, order_token_key=…, credentials=…, region=…)`` returns a WSGI app that the local
stack mounts at ``/shop`` (``LocalStack(extra_apps={"/shop": app})`` or ``stack.mount("/shop", app)``).
Nothing here is deployed; it shows how a storefront talks to the API:

- the merchant's server mints an order token, the shopper's browser creates the payment with it;
- the result page polls ``GET /payments/{id}``;
- refunds go through a small merchant-side proxy that signs ``POST /payments/{id}/refunds`` with SigV4;
- a declined or cancelled payment offers "Try again with QPay": a new payment (a new token, a new
  ``jti``) for the same order, at the amount the server keeps for it;
- English or Arabic (``?lang=ar``, or the order's language): ``dir="rtl"``, translated copy, QAR amounts.
"""

from __future__ import annotations

from demo_shop.app import create_app, for_stack

__all__ = ["create_app", "for_stack"]

"""Order events forwarded to the merchant's endpoint are signed per the Standard Webhooks spec
(https://www.standardwebhooks.com/: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), verified
here with the spec's own library, ``standardwebhooks`` on PyPI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["WebhookVerificationError", "verify_order_event"]


def verify_order_event(secret: str, body: bytes | str, headers: Mapping[str, str]) -> dict[str, Any]:
    """The event (the EventBridge envelope; ``detail`` per docs/events.md) if the signature is ours and
    the timestamp within 5 minutes; raises ``WebhookVerificationError`` otherwise. ``body`` is the raw
    request body, before any JSON parsing."""
    payload = body.decode() if isinstance(body, bytes) else body
    flat = {k.lower(): v for k, v in headers.items()}
    return cast("dict[str, Any]", Webhook(secret).verify(payload, flat))

"""Keys from one Secrets Manager JSON secret, cached for ``secret_max_age_s`` by Powertools parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Keys:
    checkout_secret_key: str
    webhook_signing_keys: tuple[str, ...]
    merchant_api_keys: tuple[str, ...]
    order_token_keys: tuple[str, ...]
    webhook_authorization: str | None = None

    def __repr__(self) -> str:  # never print a key, even by accident
        return "Keys(<redacted>)"


def parse_keys(doc: dict[str, Any]) -> Keys:
    def many(name: str) -> tuple[str, ...]:
        value = doc.get(name) or ()
        return (value,) if isinstance(value, str) else tuple(str(v) for v in value)

    return Keys(
        checkout_secret_key=str(doc["checkout_secret_key"]),
        webhook_signing_keys=many("webhook_signing_keys"),
        merchant_api_keys=many("merchant_api_keys"),
        order_token_keys=many("order_token_keys"),
        webhook_authorization=doc.get("webhook_authorization") or None,
    )


def load_keys(secret_id: str, max_age_s: int) -> Keys:
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only when a key is needed

    doc = parameters.get_secret(secret_id, transform="json", max_age=max_age_s)
    if not isinstance(doc, dict):
        raise TypeError("the secret must be a JSON object")
    return parse_keys(doc)

"""The local stack's keys and AWS credentials (kept across restarts by :mod:`qpay_local.state`).

``LocalKeys`` holds the keys in the shape of the Secrets Manager contract (``order_token_keys`` is an
object ``{kid: key}``, plus a ``server_key``), and the secret that signs forwarded order events.
:func:`secret_document` is the ONE place that turns them into the secret the handlers read.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from dataclasses import dataclass
from typing import Any

_B32 = "abcdefghijklmnopqrstuvwxyz234567"
#: The product refuses keys shorter than this (merchant, order-token and server keys).
MIN_KEY_LENGTH = 32


def _pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def checkout_sandbox_secret_key() -> str:
    """``sk_sbox_`` + 26 base32 characters + a final one: the format Checkout.com's SDK accepts."""
    return "sk_sbox_" + _pick(_B32, 26) + _pick(_B32, 1)


class KeysInvalid(ValueError):
    """A stored keys document is incomplete or malformed (the message names the field)."""


def _text(doc: dict[str, Any], name: str, *, min_length: int = 1) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or len(value) < min_length:
        need = f"at least {min_length} characters" if min_length > 1 else "a non-empty string"
        raise KeysInvalid(f"{name} must be {need}")
    return value


@dataclass(frozen=True)
class LocalKeys:
    checkout_secret_key: str
    webhook_signing_key: str
    merchant_api_key: str
    order_token_keys: dict[str, str]  # kid -> key, the first one signs
    server_key: str
    forwarding_secret: str  # signs order events forwarded to the merchant (Standard Webhooks: whsec_<base64>)

    @property
    def order_token_kid(self) -> str:
        return next(iter(self.order_token_keys))

    @property
    def order_token_key(self) -> str:
        return self.order_token_keys[self.order_token_kid]

    @classmethod
    def generate(cls) -> LocalKeys:
        return cls(
            checkout_secret_key=checkout_sandbox_secret_key(),
            webhook_signing_key="whsec_local_" + secrets.token_hex(16),
            merchant_api_key="mk_local_" + secrets.token_urlsafe(24),
            order_token_keys={"local-" + secrets.token_hex(4): "otk_local_" + secrets.token_urlsafe(32)},
            server_key="srv_local_" + secrets.token_urlsafe(32),
            forwarding_secret=standard_webhooks_secret(),
        )

    def to_doc(self) -> dict[str, Any]:
        """The secret in the contract's shape, plus the local-only forwarding secret."""
        return {
            "checkout_secret_key": self.checkout_secret_key,
            "webhook_signing_keys": [self.webhook_signing_key],
            "merchant_api_keys": [self.merchant_api_key],
            "order_token_keys": dict(self.order_token_keys),
            "server_key": self.server_key,
            "event_forwarding_secret": self.forwarding_secret,
        }

    @classmethod
    def from_doc(cls, doc: Any) -> LocalKeys:
        if not isinstance(doc, dict):
            raise KeysInvalid("the keys must be a JSON object")
        hooks = doc.get("webhook_signing_keys")
        merchants = doc.get("merchant_api_keys")
        tokens = doc.get("order_token_keys")
        if not (isinstance(hooks, list) and hooks and isinstance(hooks[0], str) and hooks[0]):
            raise KeysInvalid("webhook_signing_keys must be a non-empty list of strings")
        if not (isinstance(merchants, list) and merchants and isinstance(merchants[0], str)):
            raise KeysInvalid("merchant_api_keys must be a non-empty list of strings")
        if len(merchants[0]) < MIN_KEY_LENGTH:
            raise KeysInvalid(f"merchant_api_keys[0] must be at least {MIN_KEY_LENGTH} characters")
        if not (isinstance(tokens, dict) and tokens):
            raise KeysInvalid('order_token_keys must be an object {"<kid>": "<key>"}')
        for kid, key in tokens.items():
            if not (isinstance(key, str) and len(key) >= MIN_KEY_LENGTH):
                raise KeysInvalid(f"order_token_keys[{kid!r}] must be at least {MIN_KEY_LENGTH} characters")
        return cls(
            checkout_secret_key=_text(doc, "checkout_secret_key"),
            webhook_signing_key=hooks[0],
            merchant_api_key=merchants[0],
            order_token_keys={str(k): str(v) for k, v in tokens.items()},
            server_key=_text(doc, "server_key", min_length=MIN_KEY_LENGTH),
            # a secret from before Standard Webhooks (whsec_fwd_<hex>) is replaced: receivers verify with the spec's libraries
            forwarding_secret=_forwarding_secret(doc.get("event_forwarding_secret")),
        )


def standard_webhooks_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes (the spec: 24 to 64 bytes,
    https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def is_standard_webhooks_secret(value: object) -> bool:
    if not (isinstance(value, str) and value.startswith("whsec_")):
        return False
    try:
        return 24 <= len(base64.b64decode(value.removeprefix("whsec_"), validate=True)) <= 64
    except (binascii.Error, ValueError):
        return False


def _forwarding_secret(value: object) -> str:
    return value if is_standard_webhooks_secret(value) and isinstance(value, str) else standard_webhooks_secret()


def secret_document(keys: LocalKeys) -> dict[str, object]:
    """The JSON the handlers read from Secrets Manager — the only conversion from the local keys
    (the contract's shape: ``order_token_keys`` an object ``{kid: key}``, and a ``server_key``)."""
    return {
        "checkout_secret_key": keys.checkout_secret_key,
        "webhook_signing_keys": [keys.webhook_signing_key],
        "merchant_api_keys": [keys.merchant_api_key],
        "order_token_keys": dict(keys.order_token_keys),
        "server_key": keys.server_key,
    }


@dataclass(frozen=True)
class LocalCredentials:
    access_key_id: str
    secret_access_key: str
    region: str
    account_id: str = "123456789012"

    @classmethod
    def generate(cls, region: str) -> LocalCredentials:
        return cls(
            access_key_id="AKIA" + _pick(string.ascii_uppercase + "234567", 16),
            secret_access_key=_pick(string.ascii_letters + string.digits, 40),
            region=region,
        )

    def to_doc(self) -> dict[str, str]:
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": self.region,
        }

    @classmethod
    def from_doc(cls, doc: Any, *, region: str | None = None) -> LocalCredentials:
        if not isinstance(doc, dict):
            raise KeysInvalid("aws_credentials must be an object")
        return cls(
            access_key_id=_text(doc, "access_key_id", min_length=16),
            secret_access_key=_text(doc, "secret_access_key", min_length=16),
            region=region or _text(doc, "region"),
        )

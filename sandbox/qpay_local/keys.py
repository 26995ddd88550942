"""Fresh local keys and credentials for one run (nothing is persisted)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def _pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def checkout_sandbox_secret_key() -> str:
    """``sk_sbox_`` + 26 base32 characters + a final one: the format Checkout.com's SDK accepts."""
    return "sk_sbox_" + _pick(_B32, 26) + _pick(_B32, 1)


@dataclass(frozen=True)
class LocalKeys:
    checkout_secret_key: str
    webhook_signing_key: str
    merchant_api_key: str
    order_token_key: str
    server_key: str
    order_token_kid: str = "local-1"  # noqa: S105 - a key id, not a key

    @classmethod
    def generate(cls) -> LocalKeys:
        return cls(
            checkout_secret_key=checkout_sandbox_secret_key(),
            webhook_signing_key="whsec_local_" + secrets.token_hex(16),
            merchant_api_key="mk_local_" + secrets.token_urlsafe(24),
            order_token_key="otk_local_" + secrets.token_urlsafe(32),
            server_key="srv_local_" + secrets.token_urlsafe(32),
        )

    def secret_document(self) -> dict[str, object]:
        """The JSON the handlers read from Secrets Manager."""
        return {
            "checkout_secret_key": self.checkout_secret_key,
            "webhook_signing_keys": [self.webhook_signing_key],
            "merchant_api_keys": [self.merchant_api_key],
            "order_token_keys": {self.order_token_kid: self.order_token_key},
            "server_key": self.server_key,
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

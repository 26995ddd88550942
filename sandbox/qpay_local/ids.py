"""The local account id and random local identifiers."""

from __future__ import annotations

import secrets
import string

ACCOUNT_ID = "123456789012"


def rand(n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))

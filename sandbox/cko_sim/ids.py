"""Identifiers in Checkout.com's format: a prefix plus 26 lowercase base32 characters."""

from __future__ import annotations

import random
import re
import secrets

BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
ID_BODY_LENGTH = 26
PUN_LENGTH = 20
_PUN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

PREFIXES = ("pay", "act", "evt", "sid", "cus", "pc")

_source: random.Random = secrets.SystemRandom()


def use_random(rng: random.Random | None) -> None:
    """Draw ids from ``rng`` (a seeded ``random.Random``: a deterministic simulation replays the same
    ids) or, with ``None``, from the operating system's CSPRNG again (the default)."""
    global _source  # noqa: PLW0603 - one id source per process, as ids are module-level
    _source = rng if rng is not None else secrets.SystemRandom()


def new_id(prefix: str) -> str:
    """Return ``<prefix>_`` followed by 26 random lowercase base32 characters."""
    body = "".join(_source.choice(BASE32_ALPHABET) for _ in range(ID_BODY_LENGTH))
    return f"{prefix}_{body}"


def new_pun() -> str:
    """Return a QPay payment unique number (the ``pun`` query parameter of the QPay page)."""
    return "".join(_source.choice(_PUN_ALPHABET) for _ in range(PUN_LENGTH))


def id_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}_[a-z2-7]{{{ID_BODY_LENGTH}}}$")


def is_id(value: object, prefix: str) -> bool:
    return isinstance(value, str) and id_pattern(prefix).fullmatch(value) is not None


#: The official SDK's sandbox secret-key format: ``sk_sbox_`` + 26 base32 chars + one of those or ``*#$=``.
SANDBOX_SECRET_KEY_RE = re.compile(r"^sk_sbox_[a-z2-7]{26}[a-z2-7*#$=]$")


def is_sandbox_secret_key(value: str) -> bool:
    return SANDBOX_SECRET_KEY_RE.fullmatch(value) is not None

"""Money is an integer number of minor units (QAR: dirhams, 100 to the riyal). Pure."""

from __future__ import annotations

SUPPORTED_CURRENCIES = frozenset({"QAR"})
MINOR_UNITS = {"QAR": 2}
# Checkout.com caps amounts to what fits in a 32-bit signed int; stay inside that.
MAX_AMOUNT = 2_147_483_647


def is_valid_amount(value: object) -> bool:
    """A positive whole number of minor units; bools and floats are not amounts."""
    return type(value) is int and 0 < value <= MAX_AMOUNT


def format_amount(amount: int, currency: str) -> str:
    digits = MINOR_UNITS.get(currency, 2)
    major, minor = divmod(amount, 10**digits)
    return f"{major}.{minor:0{digits}d} {currency}"

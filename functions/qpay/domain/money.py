"""Money is an integer number of minor units (QAR: dirhams, 100 to the riyal). Pure."""

from __future__ import annotations

# Digits after the decimal point per currency (QAR: 2; Checkout.com's 3-decimal list excludes it)
MINOR_UNITS = {"QAR": 2}
# Checkout.com caps amounts to what fits in a 32-bit signed int; stay inside that.
MAX_AMOUNT = 2_147_483_647


def is_valid_amount(value: object) -> bool:
    """A positive whole number of minor units; bools and floats are not amounts."""
    return type(value) is int and 0 < value <= MAX_AMOUNT

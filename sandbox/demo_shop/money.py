"""QAR amounts as the shopper types them ("125", "125.5", "1,250.00") to integer minor units (dirhams)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from qpay.domain.money import MAX_AMOUNT, MINOR_UNITS

_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$|^\d+(\.\d*)?$|^\.\d+$")


class AmountError(ValueError):
    """The text is not a positive QAR amount with at most two decimals (the message is for the shopper;
    ``key`` names it in the storefront's translations)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def to_minor_units(text: str, currency: str = "QAR") -> int:
    digits = MINOR_UNITS.get(currency, 2)
    raw = text.strip()
    if raw.upper().startswith(currency):
        raw = raw[len(currency) :].strip()
    if not _AMOUNT.match(raw):
        raise AmountError(f"enter an amount in {currency}, e.g. 125.00", "err_amount_format")
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise AmountError(f"enter an amount in {currency}, e.g. 125.00", "err_amount_format") from None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise AmountError(f"at most {digits} decimals", "err_amount_decimals")
    amount = int(minor)
    if amount <= 0:
        raise AmountError("the amount must be more than zero", "err_amount_zero")
    if amount > MAX_AMOUNT:
        raise AmountError("the amount is too large", "err_amount_large")
    return amount


def format_minor(amount: int, currency: str = "QAR") -> str:
    digits = MINOR_UNITS.get(currency, 2)
    major, minor = divmod(amount, 10**digits)
    return f"{major:,}.{minor:0{digits}d}"

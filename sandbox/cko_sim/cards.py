"""QPay sandbox test-card rules for the hosted page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

PIN_CARD = "4215375500883243"
PIN_CARD_PIN = "123456"
FIXED_EXPIRY_CARD = "4166390419570368"
FIXED_EXPIRY = (6, 2022)

DECLINE_CODE = "20006"
DECLINE_SUMMARY = "Error / Invalid request parameters"

_EXPIRY_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


@dataclass(frozen=True)
class CardDecision:
    approved: bool
    message: str
    response_code: str = "10000"
    response_summary: str = "Approved"
    #: Why a card was declined: ``expiry_format``, ``card_expired``, ``wrong_pin``, ``expiry_mismatch``,
    #: ``card_refused`` (``""`` when approved). The hosted page words it in the shopper's language.
    reason: str = ""


def normalise_card(card: str) -> str:
    return re.sub(r"[\s-]", "", card)


def parse_expiry(expiry: str) -> tuple[int, int] | None:
    """``MM/YY`` or ``MM/YYYY`` to ``(month, year)``; ``None`` when malformed."""
    match = _EXPIRY_RE.fullmatch(expiry)
    if not match:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    if len(match.group(2)) == 2:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return month, year


def _declined(reason: str, message: str) -> CardDecision:
    return CardDecision(False, message, DECLINE_CODE, DECLINE_SUMMARY, reason)


def decide(card: str, expiry: str, pin: str, now: datetime) -> CardDecision:
    """Apply the sandbox rules documented by Checkout.com for QPay."""
    number = normalise_card(card)
    parsed = parse_expiry(expiry)
    if parsed is None:
        return _declined("expiry_format", "Payment declined: the expiry date is not valid (use MM/YY).")
    month, year = parsed
    if number == PIN_CARD:
        if (year, month) < (now.year, now.month):
            return _declined("card_expired", "Payment declined: the card has expired.")
        if pin.strip() != PIN_CARD_PIN:
            return _declined("wrong_pin", "Payment declined: incorrect PIN.")
        return CardDecision(True, "Payment approved.")
    if number == FIXED_EXPIRY_CARD:
        if (month, year) != FIXED_EXPIRY:
            return _declined("expiry_mismatch", "Payment declined: the expiry date does not match the card.")
        return CardDecision(True, "Payment approved.")
    return _declined("card_refused", "Payment declined: the card was not accepted by the bank.")

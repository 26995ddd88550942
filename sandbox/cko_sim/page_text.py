"""Words and number formats of the hosted QPay page, in English and Arabic."""

from __future__ import annotations

from typing import Final

#: Page strings by language (``Payment.language``: ``en`` or ``ar``).
TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "QPay secure payment",
        "brand": "QPay",
        "secure": "Secure payment",
        "sandbox": "Test environment: no real money moves",
        "summary": "Payment summary",
        "merchant": "Merchant",
        "amount": "Amount",
        "description": "Description",
        "reference": "Reference",
        "time_left": "Time left to pay",
        "session_expired": "This payment session has expired.",
        "card_number": "Debit card number",
        "expiry": "Expiry date (MM/YY)",
        "pin": "PIN",
        "pay": "Pay",
        "cancel": "Cancel",
        "status": "Status",
        "return": "Return to merchant",
        "unknown": "Unknown payment.",
        "status_Captured": "Paid",
        "status_Partially Refunded": "Paid (partially refunded)",
        "status_Refunded": "Refunded",
        "status_Declined": "Declined",
        "status_Canceled": "Canceled",
        "status_Expired": "Expired",
        "status_Pending": "Waiting for payment",
        "decline_expiry_format": "Payment declined: the expiry date is not valid (use MM/YY).",
        "decline_card_expired": "Payment declined: the card has expired.",
        "decline_wrong_pin": "Payment declined: incorrect PIN.",
        "decline_expiry_mismatch": "Payment declined: the expiry date does not match the card.",
        "decline_card_refused": "Payment declined: the card was not accepted by the bank.",
    },
    "ar": {
        "title": "الدفع الآمن عبر QPay",
        "brand": "QPay",
        "secure": "دفع آمن",
        "sandbox": "بيئة اختبار: لا تُنقل أموال حقيقية",
        "summary": "ملخص الدفع",
        "merchant": "التاجر",
        "amount": "المبلغ",
        "description": "الوصف",
        "reference": "المرجع",
        "time_left": "الوقت المتبقي للدفع",
        "session_expired": "انتهت صلاحية جلسة الدفع هذه.",
        "card_number": "رقم بطاقة الخصم",
        "expiry": "تاريخ الانتهاء (MM/YY)",
        "pin": "الرقم السري",
        "pay": "ادفع",
        "cancel": "إلغاء",
        "status": "الحالة",
        "return": "العودة إلى التاجر",
        "unknown": "عملية دفع غير معروفة.",
        "status_Captured": "تم الدفع",
        "status_Partially Refunded": "تم الدفع (استرداد جزئي)",
        "status_Refunded": "تم الاسترداد",
        "status_Declined": "مرفوض",
        "status_Canceled": "ملغى",
        "status_Expired": "منتهي الصلاحية",
        "status_Pending": "بانتظار الدفع",
        "decline_expiry_format": "تم رفض الدفع: تاريخ الانتهاء غير صالح (استخدم MM/YY).",
        "decline_card_expired": "تم رفض الدفع: انتهت صلاحية البطاقة.",
        "decline_wrong_pin": "تم رفض الدفع: الرقم السري غير صحيح.",
        "decline_expiry_mismatch": "تم رفض الدفع: تاريخ الانتهاء لا يطابق البطاقة.",
        "decline_card_refused": "تم رفض الدفع: لم يقبل البنك البطاقة.",
    },
}


def language_of(code: str | None) -> str:
    return "ar" if (code or "").lower() == "ar" else "en"


def direction(language: str) -> str:
    return "rtl" if language == "ar" else "ltr"


def text(language: str, key: str) -> str:
    return TEXT[language_of(language)].get(key, TEXT["en"].get(key, key))


def format_amount(amount: int, currency: str) -> str:
    """Minor units to ``QAR 1,234.50`` (QAR has two decimals)."""
    return f"{currency} {amount // 100:,}.{amount % 100:02d}"


def format_duration(seconds: int) -> str:
    """``59:07`` or ``1:05:03``."""
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"

"""The storefront's words in English and Arabic: page labels (Jinja's ``t``) and the strings the
browser scripts show (handed to them as JSON). Shopper copy only: developer details (HTTP status,
error code, request id) go in a small "details" line, never in the message itself."""

from __future__ import annotations

from collections.abc import Mapping

from demo_shop.money import format_minor

LANGUAGES = {"en": "English", "ar": "العربية"}
DEFAULT = "en"
RTL = frozenset({"ar"})

EN: dict[str, str] = {
    # page chrome
    "shop_name": "Souq Demo",
    "tag": "QPay · local sandbox",
    "footer": "Demo storefront for the local QPay stack. Nothing here is real money.",
    "switch_language": "العربية",
    # order form
    "title_order": "New order",
    "checkout": "Checkout",
    "intro": "Pay with QPay, Qatar's online debit-card payment, through Checkout.com.",
    "amount_label": "Amount (QAR)",
    "description_label": "Description",
    "language_label": "QPay page language",
    "national_id_label": "National ID",
    "national_id_hint": "Sent to Checkout.com only; the payments API never stores it. The prefilled one is synthetic.",
    "pay_with_qpay": "Pay with QPay",
    "test_cards": "Test cards",
    "card": "Card",
    "expiry": "Expiry",
    "pin": "PIN",
    "result": "Result",
    "any_future": "any future MM/YY",
    "any": "any",
    "anything_else": "anything else",
    "captured_word": "Captured",
    "declined_word": "Declined",
    "past_expiry_note": "Checkout.com's documented test card: its expiry is in the past on purpose.",
    "retry_title": "Pay again for order {reference}",
    "retry_intro": "Nothing was charged. Confirm your national ID to open a new QPay payment for {amount}.",
    "order_unknown": "We no longer have this order. Please start a new one.",
    # field errors
    "err_amount_format": "Enter an amount in QAR, e.g. 125.00",
    "err_amount_decimals": "at most 2 decimals",
    "err_amount_zero": "The amount must be more than zero",
    "err_amount_large": "The amount is too large",
    "err_description": "1 to 100 characters",
    "err_language": "English or Arabic",
    "err_national_id": "1 to 32 letters or digits",
    # pay page
    "order": "Order",
    "amount": "Amount",
    "description": "Description",
    "creating": "Opening QPay…",
    "redirecting": "Taking you to QPay…",
    "try_again": "Try again",
    "start_new_order": "Start a new order",
    "needs_js": "This page needs JavaScript: your browser opens the QPay payment.",
    "details": "Details",
    "request_id": "request",
    "error_unavailable": "QPay is not reachable right now. Nothing was charged. Please try again in a moment.",
    "error_misconfigured": "Payments are temporarily unavailable. Nothing was charged. Please try again later.",
    "error_token": "This checkout page has expired or was changed. Please start the order again.",
    "error_conflict": "This order already has a payment in progress. Please wait a moment and try again.",
    "error_invalid": "Some order details were not accepted. Please check them and try again.",
    "error_rejected": "The payment could not be opened. Nothing was charged. Please try again or contact us.",
    "error_generic": "Something went wrong opening QPay. Nothing was charged. Please try again.",
    "error_network": "We could not reach the payment service. Check your connection and try again.",
    "error_not_payable": "This payment can no longer be paid. Please start the order again.",
    # result page
    "title_result": "Order",
    "payment_not_found": "Payment not found",
    "payment_not_found_text": "We could not find this payment.",
    "status": "Status",
    "loading": "Loading…",
    "payment": "Payment",
    "refunded": "Refunded",
    "updated": "Updated",
    "refunds": "Refunds",
    "refund": "Refund",
    "requested": "Requested",
    "refund_amount_label": "Amount (QAR)",
    "refund_hint": "Back office demo: sent by the shop's server, signed with AWS SigV4 (the refund route is not public).",
    "refunding": "Refunding…",
    "new_order": "New order",
    "try_again_qpay": "Try again with QPay",
    "up_to": "up to {amount}",
    "awaiting": "Past its deadline and still open: waiting for the bank to decide.",
    "outcome_Pending": "Waiting for QPay to confirm your payment…",
    "outcome_check": "We are confirming your payment with the bank. This page updates by itself.",
    "outcome_Capture Pending": "Your payment was approved and is being completed.",
    "outcome_Captured": "Thank you: your payment was received.",
    "outcome_Partially Refunded": "Your payment was received; part of it has been refunded.",
    "outcome_Refunded": "Your payment has been refunded in full.",
    "outcome_Declined": "Your bank or QPay declined the payment. No money was taken. "
    "You can try again, with the same card or another one.",
    "outcome_decline_reason": "The bank's answer: {summary} (code {code}).",
    "outcome_Canceled": "You cancelled the payment on the QPay page. No money was taken. "
    "Your order is kept: you can pay for it again.",
    "outcome_Expired": "The payment was not completed in time. No money was taken. You can try again.",
    "load_error": "We could not load the payment status; retrying…",
    "not_found_poll": "This payment does not exist.",
    "unknown_status": "Unknown",
    "refund_enter_amount": "Enter an amount to refund.",
    "refund_done": "Refund {id} for {amount}: {status}.",
    "refund_too_much": "You can refund at most {amount}.",
    "refund_not_refundable": "This payment cannot be refunded (it is not captured).",
    "refund_invalid": "Enter a refund amount in QAR with at most 2 decimals, e.g. 25.00.",
    "refund_refused": "The refund was refused.",
    "refund_unreachable": "Could not reach the shop's server. Nothing was refunded; try again.",
    "status_Pending": "Pending",
    "status_Capture Pending": "Capture Pending",
    "status_Captured": "Captured",
    "status_Partially Refunded": "Partially Refunded",
    "status_Refunded": "Refunded",
    "status_Declined": "Declined",
    "status_Canceled": "Canceled",
    "status_Expired": "Expired",
    "status_Requested": "Requested",
    "status_Failed": "Failed",
    "currency_symbol": "QAR",
}

AR: dict[str, str] = {
    "shop_name": "سوق التجربة",
    "tag": "كيو باي · بيئة تجريبية محلية",
    "footer": "متجر تجريبي لبيئة كيو باي المحلية. لا توجد أموال حقيقية هنا.",
    "switch_language": "English",
    "title_order": "طلب جديد",
    "checkout": "إتمام الطلب",
    "intro": "ادفع عبر كيو باي، خدمة الدفع الإلكتروني ببطاقات الخصم في قطر، من خلال Checkout.com.",
    "amount_label": "المبلغ (ر.ق)",
    "description_label": "الوصف",
    "language_label": "لغة صفحة كيو باي",
    "national_id_label": "رقم البطاقة الشخصية",
    "national_id_hint": "يُرسل إلى Checkout.com فقط ولا تحفظه واجهة المدفوعات. الرقم المعبأ مسبقاً وهمي.",
    "pay_with_qpay": "ادفع عبر كيو باي",
    "test_cards": "بطاقات الاختبار",
    "card": "البطاقة",
    "expiry": "الانتهاء",
    "pin": "الرقم السري",
    "result": "النتيجة",
    "any_future": "أي تاريخ مستقبلي MM/YY",
    "any": "أي رقم",
    "anything_else": "أي بطاقة أخرى",
    "captured_word": "تم الدفع",
    "declined_word": "مرفوض",
    "past_expiry_note": "بطاقة الاختبار الموثقة من Checkout.com: تاريخ انتهائها في الماضي عن قصد.",
    "retry_title": "ادفع مجدداً للطلب {reference}",
    "retry_intro": "لم يُخصم أي مبلغ. أكّد رقم بطاقتك الشخصية لفتح دفعة جديدة عبر كيو باي بقيمة {amount}.",
    "order_unknown": "لم يعد هذا الطلب متاحاً لدينا. يرجى بدء طلب جديد.",
    "err_amount_format": "أدخل مبلغاً بالريال القطري، مثل 125.00",
    "err_amount_decimals": "خانتان عشريتان على الأكثر",
    "err_amount_zero": "يجب أن يكون المبلغ أكبر من صفر",
    "err_amount_large": "المبلغ كبير جداً",
    "err_description": "من 1 إلى 100 حرف",
    "err_language": "الإنجليزية أو العربية",
    "err_national_id": "من 1 إلى 32 حرفاً أو رقماً",
    "order": "الطلب",
    "amount": "المبلغ",
    "description": "الوصف",
    "creating": "جارٍ فتح كيو باي…",
    "redirecting": "جارٍ تحويلك إلى كيو باي…",
    "try_again": "حاول مجدداً",
    "start_new_order": "ابدأ طلباً جديداً",
    "needs_js": "تحتاج هذه الصفحة إلى JavaScript: متصفحك يفتح دفعة كيو باي.",
    "details": "تفاصيل",
    "request_id": "الطلب",
    "error_unavailable": "تعذّر الوصول إلى كيو باي حالياً. لم يُخصم أي مبلغ. يرجى المحاولة بعد قليل.",
    "error_misconfigured": "المدفوعات غير متاحة مؤقتاً. لم يُخصم أي مبلغ. يرجى المحاولة لاحقاً.",
    "error_token": "انتهت صلاحية صفحة الدفع هذه أو تم تغييرها. يرجى بدء الطلب من جديد.",
    "error_conflict": "يوجد دفع قيد التنفيذ لهذا الطلب. يرجى الانتظار قليلاً ثم المحاولة مجدداً.",
    "error_invalid": "لم تُقبل بعض تفاصيل الطلب. يرجى مراجعتها والمحاولة مجدداً.",
    "error_rejected": "تعذّر فتح الدفع. لم يُخصم أي مبلغ. يرجى المحاولة مجدداً أو التواصل معنا.",
    "error_generic": "حدث خطأ أثناء فتح كيو باي. لم يُخصم أي مبلغ. يرجى المحاولة مجدداً.",
    "error_network": "تعذّر الوصول إلى خدمة الدفع. تحقق من اتصالك وحاول مجدداً.",
    "error_not_payable": "لم يعد بالإمكان دفع هذه الدفعة. يرجى بدء الطلب من جديد.",
    "title_result": "الطلب",
    "payment_not_found": "لم يتم العثور على الدفعة",
    "payment_not_found_text": "لم نتمكن من العثور على هذه الدفعة.",
    "status": "الحالة",
    "loading": "جارٍ التحميل…",
    "payment": "الدفعة",
    "refunded": "المبلغ المسترد",
    "updated": "آخر تحديث",
    "refunds": "المبالغ المستردة",
    "refund": "استرداد",
    "requested": "تاريخ الطلب",
    "refund_amount_label": "المبلغ (ر.ق)",
    "refund_hint": "تجربة لوحة التحكم: يرسلها خادم المتجر موقّعة بـ AWS SigV4 (مسار الاسترداد غير عام).",
    "refunding": "جارٍ الاسترداد…",
    "new_order": "طلب جديد",
    "try_again_qpay": "حاول مجدداً عبر كيو باي",
    "up_to": "حتى {amount}",
    "awaiting": "تجاوزت الدفعة مهلتها وما زالت مفتوحة: بانتظار قرار البنك.",
    "outcome_Pending": "بانتظار تأكيد كيو باي لدفعتك…",
    "outcome_check": "نتحقق من دفعتك مع البنك. تتحدّث هذه الصفحة تلقائياً.",
    "outcome_Capture Pending": "تمت الموافقة على دفعتك وجارٍ إتمامها.",
    "outcome_Captured": "شكراً لك: تم استلام دفعتك.",
    "outcome_Partially Refunded": "تم استلام دفعتك واسترداد جزء منها.",
    "outcome_Refunded": "تم استرداد دفعتك بالكامل.",
    "outcome_decline_reason": "رد البنك: {summary} (الرمز {code}).",
    "outcome_Declined": "رفض البنك أو كيو باي الدفع. لم يُخصم أي مبلغ. يمكنك المحاولة مجدداً بالبطاقة نفسها أو بأخرى.",
    "outcome_Canceled": "ألغيت الدفع في صفحة كيو باي. لم يُخصم أي مبلغ. طلبك محفوظ ويمكنك الدفع مجدداً.",
    "outcome_Expired": "لم يكتمل الدفع في الوقت المحدد. لم يُخصم أي مبلغ. يمكنك المحاولة مجدداً.",
    "load_error": "تعذّر تحميل حالة الدفع؛ نعيد المحاولة…",
    "not_found_poll": "هذه الدفعة غير موجودة.",
    "unknown_status": "غير معروفة",
    "refund_enter_amount": "أدخل المبلغ المراد استرداده.",
    "refund_done": "الاسترداد {id} بقيمة {amount}: {status}.",
    "refund_too_much": "يمكنك استرداد {amount} على الأكثر.",
    "refund_not_refundable": "لا يمكن استرداد هذه الدفعة (لم يتم تحصيلها).",
    "refund_invalid": "أدخل مبلغ الاسترداد بالريال القطري بخانتين عشريتين على الأكثر، مثل 25.00.",
    "refund_refused": "تم رفض الاسترداد.",
    "refund_unreachable": "تعذّر الوصول إلى خادم المتجر. لم يُسترد أي مبلغ؛ حاول مجدداً.",
    "status_Pending": "بانتظار الدفع",
    "status_Capture Pending": "جارٍ إتمام الدفع",
    "status_Captured": "تم الدفع",
    "status_Partially Refunded": "مسترد جزئياً",
    "status_Refunded": "مسترد",
    "status_Declined": "مرفوض",
    "status_Canceled": "ملغى",
    "status_Expired": "منتهي الصلاحية",
    "status_Requested": "مطلوب",
    "status_Failed": "فشل",
    "currency_symbol": "ر.ق",
}

CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": EN, "ar": AR}

#: What the browser scripts need (the rest is rendered on the server).
SCRIPT_KEYS = tuple(
    k
    for k in EN
    if k.startswith(("error_", "outcome_", "status_", "refund_"))
    or k
    in (
        "creating",
        "redirecting",
        "details",
        "request_id",
        "load_error",
        "not_found_poll",
        "unknown_status",
        "refunding",
        "refund",
        "up_to",
        "currency_symbol",
    )
)


def pick(*candidates: str | None) -> str:
    """The first supported language among the candidates (query, cookie, order), else English."""
    for candidate in candidates:
        if candidate in CATALOGUES:
            return str(candidate)
    return DEFAULT


def translate(lang: str, key: str, **values: str) -> str:
    text = CATALOGUES.get(lang, EN).get(key) or EN[key]
    return text.format(**values) if values else text


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def script_strings(lang: str) -> dict[str, str]:
    return {key: translate(lang, key) for key in SCRIPT_KEYS}


def money(amount_minor: int, lang: str) -> str:
    """``QAR 125.00`` / ``125.00 ر.ق`` (digits stay Latin, as on Qatari receipts)."""
    text = format_minor(amount_minor)
    return f"{text} {AR['currency_symbol']}" if lang == "ar" else f"QAR {text}"

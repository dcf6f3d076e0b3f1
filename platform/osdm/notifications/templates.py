"""What each notification says, in Arabic and English. `{amount}` is formatted money, `{number}`
the order number; the rest comes from the event's data."""

from __future__ import annotations

# kind → who receives it (fields of the event data holding user ids) and its text per language.
TEMPLATES: dict[str, dict] = {
    "order.created": {
        "to": ["seller_id"],
        "en": ("New order #{number}", "You have a new order #{number} for {amount}. It starts when it is paid."),
        "ar": ("طلب جديد رقم {number}", "لديك طلب جديد رقم {number} بقيمة {amount}. يبدأ العمل عليه بعد الدفع."),
    },
    "order.paid": {
        "to": ["buyer_id", "seller_id"],
        "en": ("Order #{number} is paid", "The payment of {amount} for order #{number} arrived."),
        "ar": ("تم دفع الطلب رقم {number}", "وصلت دفعة بقيمة {amount} للطلب رقم {number}."),
    },
    "order.delivered": {
        "to": ["buyer_id"],
        "en": ("Order #{number} was delivered", "The seller delivered order #{number}. Review it and accept it."),
        "ar": ("تم تسليم الطلب رقم {number}", "سلّم البائع الطلب رقم {number}. راجعه ثم اقبله."),
    },
    "order.completed": {
        "to": ["seller_id"],
        "en": ("Order #{number} is complete", "Order #{number} is complete. Your earnings are in your wallet."),
        "ar": ("اكتمل الطلب رقم {number}", "اكتمل الطلب رقم {number}، وأُضيفت أرباحك إلى محفظتك."),
    },
    "order.cancelled": {
        "to": ["buyer_id", "seller_id"],
        "en": ("Order #{number} was cancelled", "Order #{number} was cancelled."),
        "ar": ("أُلغي الطلب رقم {number}", "تم إلغاء الطلب رقم {number}."),
    },
    "payment.failed": {
        "to": ["payer_id"],
        "en": ("Your payment did not go through", "Your payment of {amount} was declined. You can try again."),
        "ar": ("لم تنجح عملية الدفع", "رُفضت دفعتك بقيمة {amount}. يمكنك المحاولة مرة أخرى."),
    },
    "dispute.opened": {
        "to": ["seller_id"],
        "en": ("A dispute was opened", "The buyer opened a dispute on an order. Answer it before the deadline."),
        "ar": ("تم فتح نزاع", "فتح المشتري نزاعًا على أحد الطلبات. يرجى الرد قبل الموعد النهائي."),
    },
    "dispute.resolved": {
        "to": ["buyer_id", "seller_id"],
        "en": ("The dispute was resolved", "The dispute was resolved: {outcome}."),
        "ar": ("تم حل النزاع", "تم حل النزاع: {outcome}."),
    },
    "review.published": {
        "to": ["subject_id"],
        "en": ("You received a review", "You received a {rating}-star review."),
        "ar": ("لديك تقييم جديد", "حصلت على تقييم بـ {rating} نجوم."),
    },
    "message.created": {
        "to": ["recipient_id"],
        "en": ("New message", "You have a new message."),
        "ar": ("رسالة جديدة", "لديك رسالة جديدة."),
    },
    "withdrawal.paid": {
        "to": ["seller_id"],
        "en": ("Withdrawal paid", "Your withdrawal of {amount} was paid to your bank account."),
        "ar": ("تم تحويل السحب", "تم تحويل مبلغ السحب {amount} إلى حسابك البنكي."),
    },
    "withdrawal.failed": {
        "to": ["seller_id"],
        "en": ("Withdrawal failed", "Your withdrawal of {amount} could not be paid; the money is back in your wallet."),
        "ar": ("تعذّر السحب", "تعذّر تحويل مبلغ السحب {amount}، وأُعيد المبلغ إلى محفظتك."),
    },
}

OUTCOMES = {
    "en": {"release": "the money goes to the seller", "refund": "the buyer is refunded",
           "split": "the amount is split"},
    "ar": {"release": "يُحوَّل المبلغ إلى البائع", "refund": "يُعاد المبلغ إلى المشتري", "split": "يُقسَّم المبلغ"},
}
CURRENCY_NAMES = {"ar": {"SAR": "ر.س", "AED": "د.إ", "KWD": "د.ك", "BHD": "د.ب", "OMR": "ر.ع", "QAR": "ر.ق",
                         "EGP": "ج.م", "JOD": "د.أ", "USD": "دولار", "EUR": "يورو", "GBP": "جنيه"}}

"""A stand-in for STC Pay's direct merchant API (B2B DirectPayment V4): authorise by mobile number, text
the payer an OTP, confirm with it, inquire, refund. See `osdm.payments.gateways.stcpay` for what is known
of the real API and what is second-hand; this simulator speaks the same wrapped JSON messages.

Test data (the values Moyasar publishes for its STC Pay sandbox, reused here):
    OTP 123456 pays, OTP 111111 is declined (insufficient funds, code 2023), any other OTP is refused
    (code 2031) and the third wrong OTP cancels the payment. Mobile 966500000000 has no STC Pay account
    (code 2008). Merchant codes (`X-ClientCode`) outside `merchant_ids` get an empty 401.

STC Pay sends no callbacks, so neither does this simulator: status is polled with PaymentInquiry.

The payer's side: the OTP arrives by SMS. The simulator keeps an inbox per mobile number, shown at
`GET /sim/inbox/<9665xxxxxxxx>` (HTML; `?format=json` for JSON) and through `sim.inbox(mobile)`.
`sim.complete(pmt_reference, "paid" | "failed" | "expired")` forces an outcome, and `sim.expire(...)`
lets an OTP run out.

Optionally the simulator speaks TLS and demands a client certificate, as the real API does: pass an
`ssl_context` (server certificate loaded, `verify_mode = CERT_REQUIRED`, the merchant certificate
trusted) and `url` becomes https.
"""

from __future__ import annotations

import html
import re
import secrets
import ssl
import string
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import Request, Response, Simulator

PREFIX = r"/B2B\.DirectPayment\.WebApi/DirectPayment/V4"
PAYING_OTP, DECLINING_OTP = "123456", "111111"
NO_ACCOUNT_MOBILE = "966500000000"
OTP_ATTEMPTS = 3
EXPIRY_SECONDS = 300  # what the simulator reports as ExpiryDuration (the real unit is not documented)
RIYADH = timezone(timedelta(hours=3))

PENDING, PAID, CANCELLED, EXPIRED = 1, 2, 4, 5
STATUS_TEXT = {PENDING: "Pending", PAID: "Paid", CANCELLED: "Cancelled", EXPIRED: "Expired"}

ERRORS = {
    2001: "Invalid Request Format.",
    2003: "Generic Business Validation.",
    2006: "No Such Payment.",
    2008: "No Account Found With This Mobile No.",
    2009: "Already Paid.",
    2010: "RefNum Or Payment Date Required",
    2011: "Required BranchID.",
    2012: "Required TellerID.",
    2013: "Required DeviceID.",
    2014: "Required RefNum.",
    2015: "Required BillNumber.",
    2016: "Required Amount.",
    2017: "Required Mobile No.",
    2018: "Invalid Mobile No.",
    2019: "Required OtpReference.",
    2020: "Required OtpValue.",
    2021: "Required STCPayPmtReference.",
    2023: "Customer doesn't have Sufficient Fund.",
    2026: "Payment Expired.",
    2027: "Payment Cancelled.",
    2031: "Invalid OTP either expired or not found, please request a new OTP.",
    2033: "MerchantId Required.",
    2036: "Invalid Amount.",
    2037: "Payment information mismatch with the OtpReference.",
}


def _error(code: int, text: str | None = None) -> Response:
    # The HTTP status of STC Pay's errors is not documented publicly; 400 is assumed.
    return Response(400, {"Code": code, "Text": text or ERRORS[code]})


def _valid_amount(amount: Decimal) -> bool:
    """Positive riyals with at most two decimals (halalas)."""
    return amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))


def _number(value: Decimal) -> float:
    """Amounts go out as JSON numbers (as STC Pay sends them: `"Amount": 20.800`)."""
    return float(value)


class StcpaySimulator(Simulator):
    slug = "stcpay"
    TEST_MERCHANT_ID = "61240000001"
    routes = [
        ("POST", f"(?i:{PREFIX}/DirectPaymentAuthorize)", "authorize"),
        ("POST", f"(?i:{PREFIX}/DirectPaymentConfirm)", "confirm_payment"),
        ("POST", f"(?i:{PREFIX}/PaymentInquiry)", "inquiry"),
        ("POST", f"(?i:{PREFIX}/RefundPayment)", "refund_payment"),
        ("GET", r"/sim/inbox/(?P<mobile>[0-9]+)", "inbox_page"),
    ]

    def __init__(self, *, port: int = 0, public_url: str | None = None, merchant_ids: set[str] | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(port=port, public_url=public_url)
        self.merchant_ids = set(merchant_ids or {self.TEST_MERCHANT_ID})
        self.sms: dict[str, list[dict[str, Any]]] = {}
        if ssl_context is not None:
            # Handshake lazily, in the request's own thread, so a client that never finishes one cannot
            # stall the accept loop; a refused client certificate just closes that connection.
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True,
                                                          do_handshake_on_connect=False)
            self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
            if public_url is None:
                self.url = f"https://127.0.0.1:{self.port}"

    # test controls
    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.sms.clear()

    def inbox(self, mobile: str) -> list[dict[str, Any]]:
        """The SMS messages STC Pay sent to this mobile number (9665xxxxxxxx), oldest first."""
        with self.lock:
            return list(self.sms.get(mobile, []))

    def complete(self, pmt_reference: str, outcome: str) -> None:
        """Force a payment's outcome: "paid", "failed" (cancelled) or "expired"."""
        with self.lock:
            payment = self.payments[pmt_reference]
            payment["status"] = {"paid": PAID, "failed": CANCELLED, "expired": EXPIRED}[outcome]
            if outcome == "paid":
                payment["paid_at"] = datetime.now(RIYADH)

    def expire(self, pmt_reference: str) -> None:
        """Let the payment's OTP run out (the next confirmation or inquiry sees it expired)."""
        with self.lock:
            self.payments[pmt_reference]["expires_at"] = time.monotonic() - 1

    # API plumbing
    def _merchant(self, request: Request) -> str | Response:
        merchant = request.headers.get("x-clientcode", "").strip()
        if not merchant:
            return _error(2033)
        if merchant not in self.merchant_ids:
            return Response(401, b"")  # STC Pay answers an unknown merchant or certificate with no body
        return merchant

    @staticmethod
    def _message(request: Request, name: str) -> dict[str, Any] | Response:
        try:
            body = request.json()
        except ValueError:
            return _error(2001)
        message = body.get(name) if isinstance(body, dict) else None
        return message if isinstance(message, dict) else _error(2001)

    def _tick(self, payment: dict[str, Any]) -> None:
        if payment["status"] == PENDING and time.monotonic() > payment["expires_at"]:
            payment["status"] = EXPIRED

    def _transaction(self, payment: dict[str, Any]) -> dict[str, Any]:
        when = payment["paid_at"] or payment["created_at"]
        return {
            "MerchantID": payment["merchant_id"],
            "BranchID": payment["branch_id"],
            "TellerID": payment["teller_id"],
            "DeviceID": payment["device_id"],
            "RefNum": payment["ref_num"],
            "STCPayRefNum": payment["pmt_reference"],
            "Amount": _number(payment["amount"]),
            "AmountReversed": _number(payment["reversed"]),
            "PaymentDate": when.replace(tzinfo=None).isoformat(timespec="milliseconds"),
            "PaymentStatus": payment["status"],
            "PaymentStatusDesc": STATUS_TEXT[payment["status"]],
        }

    # handlers
    def authorize(self, request: Request) -> Response:
        merchant = self._merchant(request)
        if isinstance(merchant, Response):
            return merchant
        message = self._message(request, "DirectPaymentAuthorizeV4RequestMessage")
        if isinstance(message, Response):
            return message
        for field, code in (("BranchID", 2011), ("TellerID", 2012), ("DeviceID", 2013), ("RefNum", 2014),
                            ("BillNumber", 2015), ("Amount", 2016), ("MobileNo", 2017)):
            if message.get(field) in (None, ""):
                return _error(code)
        mobile = str(message["MobileNo"])
        if not re.fullmatch(r"9665[0-9]{8}", mobile):
            return _error(2018)
        try:
            amount = Decimal(str(message["Amount"]))
        except InvalidOperation:
            return _error(2036)
        if not _valid_amount(amount):
            return _error(2036)
        if mobile == NO_ACCOUNT_MOBILE:
            return _error(2008)
        ref_num = str(message["RefNum"])
        with self.lock:
            existing = next((p for p in self.payments.values()
                             if p["merchant_id"] == merchant and p["ref_num"] == ref_num), None)
            if existing is not None:
                # The same merchant reference again: a retried authorisation. Replay it if it is the same
                # payment and still open (not confirmed publicly: the real API may refuse duplicates).
                self._tick(existing)
                if existing["amount"] != amount or existing["mobile"] != mobile:
                    return _error(2003, "RefNum already used for another payment.")
                if existing["status"] != PENDING:
                    return _error({PAID: 2009, CANCELLED: 2027, EXPIRED: 2026}[existing["status"]])
                payment = existing
            else:
                payment = {
                    "merchant_id": merchant,
                    "pmt_reference": str(secrets.randbelow(9 * 10 ** 9) + 10 ** 9),
                    "otp_reference": "".join(secrets.choice(string.ascii_letters) for _ in range(20)),
                    "ref_num": ref_num,
                    "bill_number": str(message["BillNumber"]),
                    "branch_id": str(message["BranchID"]),
                    "teller_id": str(message["TellerID"]),
                    "device_id": str(message["DeviceID"]),
                    "note": str(message.get("MerchantNote") or ""),
                    "mobile": mobile,
                    "amount": amount,
                    "reversed": Decimal(0),
                    "status": PENDING,
                    "attempts": 0,
                    "created_at": datetime.now(RIYADH),
                    "paid_at": None,
                    "expires_at": time.monotonic() + EXPIRY_SECONDS,
                    "refunds": [],
                }
                self.payments[payment["pmt_reference"]] = payment
            self.sms.setdefault(mobile, []).append({
                "otp_reference": payment["otp_reference"],
                "otp": PAYING_OTP,
                "amount": str(amount),
                "text": f"stc pay: {PAYING_OTP} is your code to pay SAR {amount}. "
                        f"(Simulator: {DECLINING_OTP} declines, any other code is wrong.)",
                "sent_at": datetime.now(UTC).isoformat(),
            })
            return Response(200, {"DirectPaymentAuthorizeV4ResponseMessage": {
                "OtpReference": payment["otp_reference"],
                "STCPayPmtReference": payment["pmt_reference"],
                "ExpiryDuration": EXPIRY_SECONDS,
            }})

    def confirm_payment(self, request: Request) -> Response:
        merchant = self._merchant(request)
        if isinstance(merchant, Response):
            return merchant
        message = self._message(request, "DirectPaymentConfirmV4RequestMessage")
        if isinstance(message, Response):
            return message
        for field, code in (("OtpReference", 2019), ("OtpValue", 2020), ("STCPayPmtReference", 2021)):
            if message.get(field) in (None, ""):
                return _error(code)
        with self.lock:
            payment = self.payments.get(str(message["STCPayPmtReference"]))
            if payment is None or payment["merchant_id"] != merchant:
                return _error(2006)
            self._tick(payment)
            if payment["status"] != PENDING:
                return _error({PAID: 2009, CANCELLED: 2027, EXPIRED: 2026}[payment["status"]])
            if str(message["OtpReference"]) != payment["otp_reference"]:
                return _error(2037)
            otp = str(message["OtpValue"])
            if otp == PAYING_OTP:
                payment["status"], payment["paid_at"] = PAID, datetime.now(RIYADH)
                transaction = self._transaction(payment)
                transaction.pop("AmountReversed")
                return Response(200, {"DirectPaymentConfirmV4ResponseMessage": {**transaction, "TokenId": ""}})
            if otp == DECLINING_OTP:
                payment["status"] = CANCELLED
                return _error(2023)
            payment["attempts"] += 1
            if payment["attempts"] >= OTP_ATTEMPTS:
                payment["status"] = CANCELLED
            return _error(2031)

    def inquiry(self, request: Request) -> Response:
        merchant = self._merchant(request)
        if isinstance(merchant, Response):
            return merchant
        message = self._message(request, "PaymentInquiryV4RequestMessage")
        if isinstance(message, Response):
            return message
        ref_num, date = message.get("RefNum"), message.get("PaymentDate")
        if not ref_num and not date:
            return _error(2010)
        with self.lock:
            found = []
            for payment in self.payments.values():
                if payment["merchant_id"] != merchant or (ref_num and payment["ref_num"] != str(ref_num)):
                    continue
                if date and payment["created_at"].date().isoformat() != str(date)[:10]:
                    continue
                self._tick(payment)
                found.append(self._transaction(payment))
            return Response(200, {"PaymentInquiryV4ResponseMessage": {"TransactionList": found}})

    def refund_payment(self, request: Request) -> Response:
        merchant = self._merchant(request)
        if isinstance(merchant, Response):
            return merchant
        message = self._message(request, "RefundPaymentRequestMessage")
        if isinstance(message, Response):
            return message
        if message.get("STCPayRefNum") in (None, ""):
            return _error(2021)
        if message.get("Amount") in (None, ""):
            return _error(2016)
        try:
            amount = Decimal(str(message["Amount"]))
        except InvalidOperation:
            return _error(2036)
        with self.lock:
            payment = self.payments.get(str(message["STCPayRefNum"]))
            if payment is None or payment["merchant_id"] != merchant:
                return _error(2006)
            if payment["status"] != PAID:
                return _error(2003, "Only a paid payment can be refunded.")
            refundable = payment["amount"] - payment["reversed"]
            if not _valid_amount(amount) or amount > refundable:
                return _error(2036)
            payment["reversed"] += amount
            new_reference = str(secrets.randbelow(9 * 10 ** 9) + 10 ** 9)
            payment["refunds"].append({"NewSTCPayRefNum": new_reference, "Amount": str(amount)})
            return Response(200, {"RefundPaymentResponseMessage": {"NewSTCPayRefNum": new_reference}})

    def inbox_page(self, request: Request, mobile: str) -> Response:
        messages = self.inbox(mobile)
        if request.query.get("format", [""])[0] == "json":
            return Response(200, {"mobile": mobile, "messages": messages})
        items = "".join(f"<li><b>{html.escape(m['otp'])}</b> — {html.escape(m['text'])} "
                        f"<small>({html.escape(m['otp_reference'])}, {html.escape(m['sent_at'])})</small></li>"
                        for m in reversed(messages)) or "<li>No messages yet.</li>"
        return Response(200, f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>STC Pay simulator: SMS to {html.escape(mobile)}</title></head><body>
<h1>SMS to {html.escape(mobile)}</h1><p>Enter the code on the merchant's checkout page.</p><ul>{items}</ul>
</body></html>""")

"""A local PayTabs PT2: the two API endpoints, a hosted payment page, signed IPNs and signed browser
returns.

API (JSON POSTs, the server key in `authorization`, `profile_id` in the body):
    POST /payment/request   tran_type "sale" → {tran_ref, redirect_url, ...}; tran_type "refund" with
                            the sale's tran_ref → the refund transaction (partial allowed, over-refund
                            refused)
    POST /payment/query     {tran_ref} → the transaction; {cart_id} → an array of the cart's transactions
Errors are `{"code", "message", "trace"}`: code 1 "Authentication failed" (HTTP 401), code 4 "Duplicate
Request" (the same cart id, amount and currency within DUPLICATE_WINDOW seconds), code 2 otherwise.

Hosted page (the `redirect_url`): GET /payment/page/<page_id>/start shows it; POST (or GET) to the same
URL with `outcome=success|decline|cancel`, or with the payer's data (`card_number`; STC Pay `mobile` +
`otp`), completes it. Published test data (GATEWAYS.md; PayTabs shows its own test cards only inside
the merchant dashboard): 4111111111111111 Visa and 5421080101000000 Mastercard pay,
4201320111111010 mada pays, 4201320000311101 is declined for insufficient funds; STC Pay OTP 123456
pays, 111111 fails. Completing a page sends the signed IPN to the request's `callback` and answers
with the browser's signed return: an auto-submitting form POSTed to `return`.

Tests drive it from Python too:
    sim.complete(tran_ref, "paid" | "declined" | "cancelled")  → the signed return form's fields
    sim.return_forms                                           → every (url, fields) return it produced
    sim.page_url(tran_ref)                                     → the hosted page of a payment
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import Request, Response, Simulator

EXPONENTS = {"SAR": 2, "AED": 2, "KWD": 3, "BHD": 3, "OMR": 3, "QAR": 2, "EGP": 2, "JOD": 3, "USD": 2, "EUR": 2,
             "GBP": 2, "IQD": 3, "MAD": 2}
SERVER_KEY = re.compile(r"^S[A-Z0-9]{9}-[A-Z0-9]{10}-[A-Z0-9]{10}$")
DUPLICATE_WINDOW = 120.0

# card number → (response_status, response_code, response_message, scheme, card_type)
TEST_CARDS = {
    "4111111111111111": ("A", None, "Authorised", "Visa", "Credit"),
    "5421080101000000": ("A", None, "Authorised", "MasterCard", "Credit"),
    "4201320111111010": ("A", None, "Authorised", "mada", "Debit"),
    "4201320000311101": ("D", "51", "Insufficient funds", "mada", "Debit"),
}
DEFAULT_CARD = {"mada": ("4201320111111010", "4201320000311101"),
                "creditcard": ("4111111111111111", "4201320000311101")}
STCPAY_OTPS = {"123456": ("A", None, "Authorised"), "111111": ("D", "51", "Insufficient funds")}


class PaytabsSimulator(Simulator):
    slug = "paytabs"
    routes = [
        ("POST", r"/payment/request", "api_request"),
        ("POST", r"/payment/query", "api_query"),
        ("GET", r"/payment/page/(?P<page_id>[0-9A-F]+)/start", "page"),
        ("POST", r"/payment/page/(?P<page_id>[0-9A-F]+)/start", "page"),
    ]

    def __init__(self, *, profiles: dict[str, str] | None = None, merchant_id: int = 10001, **kwargs: Any) -> None:
        """`profiles` pins profile ids to their server keys; without it, any well-formed server key
        (S + 9, 10 and 10 upper-case letters or digits) works with any numeric profile id."""
        super().__init__(**kwargs)
        # ThreadingHTTPServer.server_close() joins every handler thread unless told not to: a handler
        # sleeping out a simulated timeout would hold stop() for a minute.
        self._server.block_on_close = False
        self.profiles = {str(k): v for k, v in (profiles or {}).items()}
        self.merchant_id = merchant_id
        self.pages: dict[str, str] = {}  # page id → tran_ref
        self.return_forms: list[tuple[str, dict[str, str]]] = []

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.pages.clear()
            self.return_forms.clear()

    # test controls
    def page_url(self, tran_ref: str) -> str:
        return f"{self.url}/payment/page/{self.payments[tran_ref]['_page_id']}/start"

    def complete(self, tran_ref: str, outcome: str = "paid") -> dict[str, str]:
        """Finish a payment as the payer would on the hosted page: "paid", "declined" or "cancelled"."""
        words = {"paid": "success", "success": "success", "declined": "decline", "decline": "decline",
                 "failed": "decline", "cancelled": "cancel", "cancel": "cancel"}
        with self.lock:
            tran = self.payments[tran_ref]
            fields = self._finish(tran, self._outcome(tran, {"outcome": words[outcome]}))
        return fields

    # API
    def api_request(self, request: Request) -> Response:
        body, error = self._authenticate(request)
        if error:
            return error
        tran_type = str(body.get("tran_type") or "").lower()
        if str(body.get("tran_class") or "").lower() != "ecom":
            return _error(2, "Transaction class is not supported")
        if tran_type == "sale":
            return self._sale(request, body)
        if tran_type == "refund":
            return self._refund(body)
        return _error(2, "Transaction type is not supported")

    def api_query(self, request: Request) -> Response:
        body, error = self._authenticate(request)
        if error:
            return error
        profile_id = str(body["profile_id"])
        with self.lock:
            if body.get("tran_ref"):
                tran = self.payments.get(str(body["tran_ref"]))
                if not tran or tran["_profile_id"] != profile_id:
                    return _error(2, "Transaction reference is not valid")
                return Response(200, self._public(tran))
            if body.get("cart_id"):
                rows = [self._public(t) for t in self.payments.values()
                        if t["cart_id"] == str(body["cart_id"]) and t["_profile_id"] == profile_id]
                return Response(200, rows)
        return _error(2, "Either tran_ref or cart_id is required")

    # hosted page
    def page(self, request: Request, page_id: str) -> Response:
        data = {k: v[0] for k, v in request.query.items()}
        if request.method == "POST":
            data.update(request.form())
        with self.lock:
            tran_ref = self.pages.get(page_id)
            if not tran_ref:
                return Response(404, "<h1>Payment page not found</h1>")
            tran = self.payments[tran_ref]
            if tran["_status"] != "P":
                return Response(200, self._return_page(tran, self._return_fields(tran)))
            if not ({"outcome", "card_number", "otp"} & data.keys()):
                return Response(200, self._payment_page(tran))
            outcome = self._outcome(tran, data)
            fields = self._finish(tran, outcome)
        return Response(200, self._return_page(tran, fields))

    # internals: requests
    def _authenticate(self, request: Request) -> tuple[dict, Response | None]:
        try:
            body = request.json()
        except ValueError:
            return {}, _error(2, "Request must be in JSON format with content-type Application/JSON.")
        if not isinstance(body, dict):
            return {}, _error(2, "Request must be a JSON object.")
        key = request.headers.get("authorization", "")
        profile_id = str(body.get("profile_id") or "")
        if self.profiles:
            valid = self.profiles.get(profile_id) == key
        else:
            valid = bool(SERVER_KEY.match(key)) and profile_id.isdigit()
        if not valid:
            return body, _error(1, "Authentication failed. Check authentication header.", status=401)
        return body, None

    def _sale(self, request: Request, body: dict) -> Response:
        missing = [f for f in ("cart_id", "cart_currency", "cart_amount", "cart_description") if not body.get(f)]
        if missing:
            return _error(2, f"Missing required parameter: {missing[0]}")
        currency = str(body["cart_currency"]).upper()
        amount = _minor(body["cart_amount"], currency)
        if amount is None or amount <= 0:
            return _error(2, "Cart amount is not valid")
        methods = body.get("payment_methods") or ["all"]
        profile_id, cart_id = str(body["profile_id"]), str(body["cart_id"])
        now = time.monotonic()
        with self.lock:
            for other in self.payments.values():
                if (other["_profile_id"] == profile_id and other["cart_id"] == cart_id and other["tran_type"] == "Sale"
                        and other["_minor"] == amount and other["cart_currency"] == currency
                        and now - other["_created"] < DUPLICATE_WINDOW):
                    return _error(4, "Duplicate Request")
            tran_ref = self._tran_ref()
            page_id = uuid.uuid4().hex.upper()
            tran = {
                "tran_ref": tran_ref,
                "tran_type": "Sale",
                "cart_id": cart_id,
                "cart_description": str(body["cart_description"]),
                "cart_currency": currency,
                "cart_amount": _major(amount, currency),
                "tran_currency": currency,
                "tran_total": _major(amount, currency),
                "callback": str(body.get("callback") or ""),
                "return": str(body.get("return") or ""),
                "customer_details": body.get("customer_details") or {},
                "_profile_id": profile_id,
                "_key": request.headers["authorization"],
                "_minor": amount,
                "_methods": [str(m).lower() for m in methods],
                "_page_id": page_id,
                "_created": now,
                "_status": "P",
                "_result": {"response_status": "P", "response_code": "", "response_message": "Pending"},
                "_info": {},
            }
            self.payments[tran_ref] = tran
            self.pages[page_id] = tran_ref
            answer = {key: value for key, value in self._public(tran).items() if key != "payment_result"}
            answer.update(callback=tran["callback"], **{"return": tran["return"]}, redirect_url=f"{self.url}/payment/page/{page_id}/start")
        return Response(200, answer)

    def _refund(self, body: dict) -> Response:
        profile_id = str(body["profile_id"])
        missing = [f for f in ("tran_ref", "cart_id", "cart_currency", "cart_amount", "cart_description")
                   if not body.get(f)]
        if missing:
            return _error(2, f"Missing required parameter: {missing[0]}")
        with self.lock:
            sale = self.payments.get(str(body["tran_ref"]))
            if not sale or sale["_profile_id"] != profile_id or sale["tran_type"] != "Sale":
                return _error(2, "Transaction reference is not valid")
            if sale["_status"] != "A":
                return _error(2, "Transaction is not eligible for refund")
            currency = str(body["cart_currency"]).upper()
            if currency != sale["cart_currency"]:
                return _error(2, "Currency does not match the original transaction")
            amount = _minor(body["cart_amount"], currency)
            if amount is None or amount <= 0:
                return _error(2, "Cart amount is not valid")
            refunded = sum(t["_minor"] for t in self.payments.values()
                           if t.get("previous_tran_ref") == sale["tran_ref"] and t["_status"] == "A")
            if amount > sale["_minor"] - refunded:
                return _error(2, "Refund amount exceeds the remaining amount of the original transaction")
            tran_ref = self._tran_ref()
            refund = {
                "tran_ref": tran_ref,
                "previous_tran_ref": sale["tran_ref"],
                "tran_type": "Refund",
                "cart_id": str(body["cart_id"]),
                "cart_description": str(body["cart_description"]),
                "cart_currency": currency,
                "cart_amount": _major(amount, currency),
                "tran_currency": currency,
                "tran_total": _major(amount, currency),
                "callback": sale["callback"],
                "return": "",
                "customer_details": sale["customer_details"],
                "_profile_id": profile_id,
                "_key": sale["_key"],
                "_minor": amount,
                "_created": time.monotonic(),
                "_status": "A",
                "_result": _result("A", self._auth_code(), "Authorised"),
                "_info": sale["_info"],
            }
            self.payments[tran_ref] = refund
            self._ipn(refund)
            return Response(200, self._public(refund))

    # internals: the page
    def _outcome(self, tran: dict, data: dict[str, str]) -> dict[str, Any]:
        """What the payer's submission does: the result, and what it says of the card or wallet."""
        methods = tran["_methods"]
        method = data.get("method") or next((m for m in ("mada", "creditcard", "applepay", "stcpay") if m in methods),
                                            "creditcard")
        outcome = data.get("outcome", "")
        if outcome == "cancel":
            return {"result": _result("C", "321", "Cancelled"), "info": {}}
        if method == "stcpay" or "otp" in data:
            otp = data.get("otp") or ("123456" if outcome != "decline" else "111111")
            status, code, message = STCPAY_OTPS.get(otp, ("D", "55", "Invalid OTP"))
            return {"result": _result(status, code or self._auth_code(), message),
                    "info": {"payment_method": "STCPay", "payment_description": data.get("mobile", "05XXXXXXXX")}}
        if method == "applepay" and "card_number" not in data:
            if outcome == "decline":
                return {"result": _result("D", "05", "Do not honour"), "info": {"payment_method": "ApplePay"}}
            return {"result": _result("A", self._auth_code(), "Authorised"),
                    "info": {"payment_method": "ApplePay", "card_scheme": "Visa", "card_type": "Credit",
                             "payment_description": "4111 11## #### 1111"}}
        number = re.sub(r"\D", "", data.get("card_number", ""))
        if not number:
            success, decline = DEFAULT_CARD["mada" if method == "mada" else "creditcard"]
            number = decline if outcome == "decline" else success
        status, code, message, scheme, card_type = TEST_CARDS.get(number, ("D", "05", "Do not honour", "Visa", "Credit"))
        return {"result": _result(status, code or self._auth_code(), message),
                "info": {"payment_method": scheme, "card_type": card_type, "card_scheme": scheme,
                         "payment_description": f"{number[:4]} {number[4:6]}## #### {number[-4:]}"}}

    def _finish(self, tran: dict, outcome: dict[str, Any]) -> dict[str, str]:
        tran["_result"] = outcome["result"]
        tran["_status"] = outcome["result"]["response_status"]
        tran["_info"] = outcome["info"]
        self._ipn(tran)
        fields = self._return_fields(tran)
        if tran["return"]:
            self.return_forms.append((tran["return"], fields))
        return fields

    def _return_fields(self, tran: dict) -> dict[str, str]:
        result = tran["_result"]
        fields = {
            "acquirerMessage": "",
            "acquirerRRN": "",
            "cartId": tran["cart_id"],
            "customerEmail": str(tran["customer_details"].get("email", "")),
            "respCode": str(result.get("response_code") or ""),
            "respMessage": str(result.get("response_message") or ""),
            "respStatus": tran["_status"],
            "token": "",
            "tranRef": tran["tran_ref"],
        }
        fields["signature"] = _sign(tran["_key"], _form_payload(fields))
        return fields

    def _payment_page(self, tran: dict) -> str:
        action = html.escape(f"/payment/page/{tran['_page_id']}/start")
        amount = html.escape(f"{tran['cart_amount']} {tran['cart_currency']}")
        methods = tran["_methods"]
        parts = [f"<h1>PayTabs (simulator)</h1><p>{html.escape(tran['cart_description'])}: <b>{amount}</b></p>"]
        if {"creditcard", "mada", "all"} & set(methods):
            method = "mada" if "mada" in methods else "creditcard"
            parts.append(f"""<form method="post" action="{action}"><input type="hidden" name="method" value="{method}">
<label>Card number <input name="card_number" value="{DEFAULT_CARD[method][0]}"></label>
<label>Expiry <input name="card_expiry" value="12/30"></label> <label>CVV <input name="card_cvv" value="123"></label>
<button>Pay {amount}</button></form>
<p>Test cards: 4111111111111111 Visa, 5421080101000000 Mastercard, 4201320111111010 mada (paid);
4201320000311101 (insufficient funds).</p>""")
        if "applepay" in methods or "all" in methods:
            parts.append(f"""<form method="post" action="{action}"><input type="hidden" name="method" value="applepay">
<button name="outcome" value="success">Pay with Apple Pay</button>
<button name="outcome" value="decline">Apple Pay: decline</button></form>""")
        if "stcpay" in methods or "all" in methods:
            parts.append(f"""<form method="post" action="{action}"><input type="hidden" name="method" value="stcpay">
<label>Mobile <input name="mobile" value="0500000000"></label> <label>OTP <input name="otp" value="123456"></label>
<button>Pay with STC Pay</button></form><p>OTP 123456 pays, 111111 fails.</p>""")
        parts.append(f"""<form method="post" action="{action}"><button name="outcome" value="cancel">Cancel</button></form>""")
        return "<!doctype html><html><body>" + "\n".join(parts) + "</body></html>"

    @staticmethod
    def _return_page(tran: dict, fields: dict[str, str]) -> str:
        message = html.escape(f"{fields['respStatus']}: {fields['respMessage']}")
        if not tran["return"]:
            return f"<!doctype html><html><body><h1>Payment finished</h1><p>{message}</p></body></html>"
        inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in fields.items())
        return (f'<!doctype html><html><body onload="document.forms[0].submit()"><p>{message}</p>'
                f'<form method="post" action="{html.escape(tran["return"])}">{inputs}'
                f'<button>Return to the merchant</button></form></body></html>')

    # internals: callbacks and shapes
    def _ipn(self, tran: dict) -> None:
        if not tran["callback"]:
            return
        payload = {**self._public(tran), "ipn_trace": f"IPNS0001.{uuid.uuid4().hex[:8].upper()}.{secrets.randbelow(10 ** 8):08d}"}
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.send_callback(tran["callback"], body, {"Content-Type": "application/json",
                                                     "Signature": _sign(tran["_key"], body)})

    def _public(self, tran: dict) -> dict[str, Any]:
        public = {key: value for key, value in tran.items() if not key.startswith("_") and key not in ("callback", "return")}
        result = dict(tran["_result"])
        if tran["_status"] != "P":
            result.setdefault("transaction_time", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        public.update(merchant_id=self.merchant_id, profile_id=int(tran["_profile_id"]), tran_class="ECom",
                      payment_result=result, serviceId=2, trace=f"PMNT0101.{uuid.uuid4().hex[:8].upper()}")
        if tran["_info"]:
            public["payment_info"] = tran["_info"]
        return public

    @staticmethod
    def _tran_ref() -> str:
        return "TST" + "".join(secrets.choice("0123456789") for _ in range(13))

    @staticmethod
    def _auth_code() -> str:
        return "G" + "".join(secrets.choice("0123456789") for _ in range(5))


def _error(code: int, message: str, status: int = 400) -> Response:
    return Response(status, {"code": code, "message": message, "trace": f"PMNT0101.{uuid.uuid4().hex[:8].upper()}"})


def _result(status: str, code: str, message: str) -> dict[str, str]:
    return {"response_status": status, "response_code": code, "response_message": message,
            "acquirer_ref": "", "cvv_result": " ", "avs_result": " ",
            "transaction_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def _minor(value: Any, currency: str) -> int | None:
    """A request's major-unit amount in minor units, or None when it has more decimals than the currency."""
    if currency not in EXPONENTS or isinstance(value, bool):
        return None
    try:
        scaled = Decimal(str(value)).scaleb(EXPONENTS[currency])
    except InvalidOperation:
        return None
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _major(amount: int, currency: str) -> str:
    exponent = EXPONENTS[currency]
    return str((Decimal(amount).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent)))


def _sign(key: str, data: bytes | str) -> str:
    return hmac.new(key.encode(), data.encode() if isinstance(data, str) else data, hashlib.sha256).hexdigest()


def _form_payload(fields: dict[str, str]) -> str:
    # As PayTabs' PHP SDK builds it: array_filter (drops "" and "0"), ksort, http_build_query.
    kept = sorted((k, v) for k, v in fields.items() if k != "signature" and v not in ("", "0"))
    return "&".join(f"{_urlencode(k)}={_urlencode(v)}" for k, v in kept)


def _urlencode(value: str) -> str:
    # PHP's urlencode: letters, digits and "-_." stay; space is "+"; everything else is %XX.
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "+" if ch == " "
                   else "".join(f"%{b:02X}" for b in ch.encode()) for ch in value)


__all__ = ["PaytabsSimulator"]

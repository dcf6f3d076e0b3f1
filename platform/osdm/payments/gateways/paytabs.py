"""PayTabs PT2 adapter: the hosted payment page (HPP) for mada, Visa, Mastercard, Apple Pay and STC Pay.

What it speaks (PayTabs PT2 API; docs.paytabs.com "PT2 API Endpoints", the official PHP/Python samples
in github.com/paytabscom):
- every call is a JSON POST to the profile's regional host (`Credentials.base_url`, e.g.
  https://secure.paytabs.sa), the raw server key in the `authorization` header and `profile_id` in
  the body;
- `POST /payment/request` with `tran_type` "sale", `tran_class` "ecom" → `tran_ref` and `redirect_url`
  (the hosted page); the same endpoint with `tran_type` "refund" and the original `tran_ref` refunds,
  in full or in part, and answers at once with the refund transaction;
- `POST /payment/query` with `tran_ref` → the transaction, its outcome in
  `payment_result.response_status` (A authorised, H hold, P pending, V voided, E error, D declined,
  C cancelled, X expired); with `cart_id` instead → every transaction of that cart (a JSON array:
  the sale and its refunds, which carry `previous_tran_ref`);
- failures as `{"code": n, "message": ..., "trace": ...}` (code 1: authentication failed, code 4:
  duplicate request); PayTabs' own SDK recognises them by the body, not the HTTP status, so do we;
- amounts in major units (`cart_amount` 12.5; answers carry strings such as "12.50"), converted here
  and nowhere else.

Callbacks: the IPN/callback is a JSON POST whose `Signature` header is the hex HMAC-SHA256 of the raw
body keyed with the server key; the browser's return to `return` is a form signed with HMAC-SHA256
over its sorted, URL-encoded non-empty fields except `signature` (`verify_return_form`).

Idempotency: PayTabs has no idempotency header. The `cart_id` is our payment id plus a suffix derived
from our idempotency key, so a retry sends the same cart id; before creating, the adapter queries the
cart and replays a sale that has already reached an outcome instead of opening a second page. A page
created by an attempt that timed out but never paid cannot be recovered (the query does not return a
`redirect_url`): PayTabs refuses the repeated cart as a duplicate (code 4) and we say so
(GatewayError "duplicate_request"); the payer never saw that page, so nothing can be paid twice.
Refunds carry a marker derived from their idempotency key in `cart_description`; a retried refund
finds its earlier twin among the cart's transactions and is not sent again.

Refunded totals: a sale's own query does not report its refunds, so `fetch_payment` sums the approved
refunds of the cart that point back at the sale (`previous_tran_ref`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote_plus

from .base import (
    EXPONENTS,
    Gateway,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayStatus,
    InvalidCallback,
    Method,
    NextAction,
    PaymentRequest,
    WebhookEvent,
    to_major,
    to_minor,
)

# PayTabs' payment_methods codes for its hosted page (docs.paytabs.com, "Supported Payment Methods in
# Hosted Payment Page"). Visa and Mastercard are both "creditcard"; mada has its own code.
PAYMENT_METHODS: dict[Method, list[str]] = {
    Method.MADA: ["mada"],
    Method.VISA: ["creditcard"],
    Method.MASTERCARD: ["creditcard"],
    Method.APPLEPAY: ["applepay"],
    Method.STCPAY: ["stcpay"],
}

# payment_result.response_status → our status, for a sale. "P" is what an unpaid page (or a payment
# still being processed) reports; "H" is authorised but held for PayTabs' fraud review: not money yet.
SALE_STATUSES = {
    "A": GatewayStatus.SUCCEEDED,
    "H": GatewayStatus.PENDING,
    "P": GatewayStatus.PENDING,
    "D": GatewayStatus.FAILED,
    "E": GatewayStatus.FAILED,
    "C": GatewayStatus.FAILED,
    "X": GatewayStatus.FAILED,
    "V": GatewayStatus.FAILED,
}
FINAL = {"A", "H", "D", "E", "C", "X", "V"}  # a sale in one of these was acted on: replay it, never re-create
ERROR_CODES = {1: "authentication_failed", 4: "duplicate_request"}
CART_ID_MAX = 64  # PayTabs' documented limit for cart_id (not confirmed for every region)
SUFFIX_LEN = 10
MAX_REFUND_LOOKUPS = 10


def _digest(value: str, length: int = SUFFIX_LEN) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def cart_id_for(payment_id: str, idempotency_key: str) -> str:
    """Our payment id and a suffix from the idempotency key: deterministic, so a retry reuses it."""
    cart_id = f"{payment_id}-{_digest(idempotency_key)}"
    return cart_id if len(cart_id) <= CART_ID_MAX else _digest(f"{payment_id}|{idempotency_key}", 40)


def payment_id_from_cart(cart_id: str) -> str | None:
    match = re.fullmatch(rf"(.+)-[0-9a-f]{{{SUFFIX_LEN}}}", cart_id or "")
    return match.group(1) if match else None


def refund_marker(idempotency_key: str) -> str:
    return f"[ref {_digest(idempotency_key, 16)}]"


def signed_form_payload(form: Mapping[str, Any]) -> str:
    """The string PayTabs signs on the browser return: the fields except `signature`, without empty
    ones (PHP's array_filter, which PayTabs' SDK uses, also drops "0"), sorted by name, encoded as
    PHP's http_build_query does (spaces as "+", "~" escaped)."""
    fields = {}
    for name, value in form.items():
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if name == "signature" or value is None or str(value) in ("", "0"):
            continue
        fields[str(name)] = str(value)
    return "&".join(f"{_php_urlencode(name)}={_php_urlencode(value)}" for name, value in sorted(fields.items()))


def _php_urlencode(value: str) -> str:
    return quote_plus(value, safe="").replace("~", "%7E")


class PaytabsGateway(Gateway):
    slug = "paytabs"
    display_name = "PayTabs"
    methods = frozenset(PAYMENT_METHODS)
    supports_refunds = True
    supports_partial_refunds = True
    credential_fields: ClassVar[tuple[str, ...]] = ("server_key", "profile_id")

    # the API
    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        if request.method not in PAYMENT_METHODS:
            raise GatewayError("unsupported_method", f"PayTabs does not take {request.method} here.")
        self._check_currency(request.currency)
        cart_id = cart_id_for(request.payment_id, request.idempotency_key)

        # A retry of an attempt whose sale already has an outcome gets that outcome, not a new page.
        sales = [row for row in self._query_cart(cart_id) if _tran_type(row) == "sale"]
        done = [row for row in sales if _result(row).get("response_status") in FINAL]
        if done:
            approved = [row for row in done if _result(row).get("response_status") == "A"]
            return self._payment(self._with_refunds(approved[-1] if approved else done[-1]))

        body: dict[str, Any] = {
            "tran_type": "sale",
            "tran_class": "ecom",
            "cart_id": cart_id,
            "cart_currency": request.currency,
            "cart_amount": self._amount(request.amount, request.currency),
            "cart_description": (request.description or f"Payment {request.payment_id}")[:128],
            "payment_methods": PAYMENT_METHODS[request.method],
            "callback": request.callback_url,
            "return": request.return_url,
            "hide_shipping": True,
        }
        customer = {key: request.metadata[f"customer_{key}"] for key in ("name", "email", "phone", "country")
                    if request.metadata.get(f"customer_{key}")}
        if customer:
            body["customer_details"] = customer
        if request.metadata.get("lang") in ("ar", "en"):
            body["paypage_lang"] = request.metadata["lang"]
        data = self._call("/payment/request", body)
        tran_ref, redirect_url = data.get("tran_ref"), data.get("redirect_url")
        if not tran_ref or not redirect_url:
            raise GatewayError("invalid_response", "PayTabs returned no transaction reference or page.", raw=data)
        return GatewayPayment(
            gateway_payment_id=tran_ref,
            status=GatewayStatus.REQUIRES_ACTION,
            amount=request.amount,
            currency=request.currency,
            next_action=NextAction("redirect", url=redirect_url),
            raw=data,
        )

    def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        transaction = self._query_ref(gateway_payment_id)
        if _tran_type(transaction) not in ("sale", "auth"):
            raise GatewayError("not_a_payment", f"{gateway_payment_id} is a {transaction.get('tran_type')}.",
                               raw=transaction)
        return self._payment(self._with_refunds(transaction))

    def refund(self, gateway_payment_id: str, *, amount: int, currency: str, idempotency_key: str,
               reason: str = "") -> GatewayRefund:
        self._check_currency(currency)
        if amount <= 0:
            raise GatewayError("invalid_amount", "A refund must be of a positive amount.")
        sale = self._query_ref(gateway_payment_id)
        if _tran_type(sale) != "sale":
            raise GatewayError("not_refundable", f"{gateway_payment_id} is not a sale.", raw=sale)
        if sale.get("cart_currency") != currency:
            raise GatewayError("currency_mismatch", f"The payment is in {sale.get('cart_currency')}.", raw=sale)
        cart_id = sale.get("cart_id") or ""
        marker = refund_marker(idempotency_key)

        # A retried refund (same idempotency key) finds the one it already made.
        for row in self._refunds_of(gateway_payment_id, cart_id):
            if (row.get("cart_description") or "").endswith(marker):
                return self._refund(row)

        description = f"{(reason or 'Refund')[:100]} {marker}"
        data = self._call("/payment/request", {
            "tran_type": "refund",
            "tran_class": "ecom",
            "tran_ref": gateway_payment_id,
            "cart_id": cart_id,
            "cart_currency": currency,
            "cart_amount": self._amount(amount, currency),
            "cart_description": description,
        })
        if not data.get("tran_ref"):
            raise GatewayError("invalid_response", "PayTabs returned no refund reference.", raw=data)
        return self._refund(data)

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        signature = next((value for name, value in headers.items() if name.lower() == "signature"), None)
        if not signature:
            raise InvalidCallback("PayTabs callback without a Signature header.")
        expected = hmac.new(self._server_key.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise InvalidCallback("PayTabs callback signature does not match.")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise InvalidCallback("PayTabs callback body is not JSON.") from exc
        if not isinstance(data, dict) or not data.get("tran_ref"):
            raise InvalidCallback("PayTabs callback without a transaction reference.")
        result = _result(data)
        status_letter = result.get("response_status") or ""
        dedupe_key = f"{data['tran_ref']}:{status_letter}"
        payment_id = payment_id_from_cart(data.get("cart_id") or "")

        if _tran_type(data) == "refund":
            # The refund's own IPN names only its amount: ask PayTabs for the sale's refunded total.
            sale_ref = data.get("previous_tran_ref") or ""
            if not sale_ref:
                raise InvalidCallback("PayTabs refund callback without previous_tran_ref.")
            payment = self.fetch_payment(sale_ref)
            return WebhookEvent(dedupe_key=dedupe_key, gateway_payment_id=sale_ref, status=payment.status,
                                amount=payment.amount, refunded_amount=payment.refunded_amount,
                                payment_id=payment_id, raw=data)

        currency = data.get("cart_currency") or ""
        amount = self._minor(data.get("cart_amount"), currency)
        return WebhookEvent(dedupe_key=dedupe_key, gateway_payment_id=data["tran_ref"],
                            status=_sale_status(data), amount=amount, payment_id=payment_id, raw=data)

    def verify_return_form(self, form: Mapping[str, Any]) -> bool:
        """Whether the form PayTabs had the payer's browser POST to `return` is genuine. Its outcome
        is still only a hint: confirm with fetch_payment before acting on it."""
        signature = form.get("signature")
        if isinstance(signature, list | tuple):
            signature = signature[0] if signature else None
        if not signature or not isinstance(signature, str):
            return False
        expected = hmac.new(self._server_key.encode(), signed_form_payload(form).encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.strip().lower())

    # helpers
    @property
    def _server_key(self) -> str:
        return self.credentials.values.get("server_key", "")

    @property
    def _profile_id(self) -> int | str:
        profile_id = str(self.credentials.values.get("profile_id", "")).strip()
        return int(profile_id) if profile_id.isdigit() else profile_id

    def _call(self, path: str, body: dict[str, Any]) -> Any:
        payload = {"profile_id": self._profile_id, **body}
        response = self._request("POST", path, content=json.dumps(payload).encode(), headers={
            "authorization": self._server_key, "content-type": "application/json", "accept": "application/json"})
        try:
            data = response.json()
        except ValueError as exc:
            raise GatewayError("invalid_response", f"PayTabs answered HTTP {response.status_code} without JSON.") from exc
        if isinstance(data, dict) and isinstance(data.get("code"), int) and data["code"] > 0:
            code = ERROR_CODES.get(data["code"], f"paytabs_{data['code']}")
            raise GatewayError(code, str(data.get("message") or "PayTabs refused the request."), raw=data)
        if response.status_code >= 400:
            raise GatewayError(f"http_{response.status_code}", "PayTabs refused the request.",
                               raw=data if isinstance(data, dict) else {"body": data})
        return data

    def _query_ref(self, tran_ref: str) -> dict[str, Any]:
        data = self._call("/payment/query", {"tran_ref": tran_ref})
        if not isinstance(data, dict) or data.get("tran_ref") != tran_ref:
            raise GatewayError("invalid_response", f"PayTabs did not return transaction {tran_ref}.",
                               raw=data if isinstance(data, dict) else {"body": data})
        return data

    def _query_cart(self, cart_id: str) -> list[dict[str, Any]]:
        """Every transaction of the cart; none when PayTabs knows no such cart. What an unknown cart
        answers is not documented: an empty array, or an error other than authentication."""
        try:
            data = self._call("/payment/query", {"cart_id": cart_id})
        except GatewayError as exc:
            if exc.code == "authentication_failed":
                raise
            return []
        if isinstance(data, dict):
            data = data.get("transactions", [data] if data.get("tran_ref") else [])
        rows = [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []
        return [row for row in rows if row.get("cart_id") in (None, cart_id)]

    def _refunds_of(self, tran_ref: str, cart_id: str) -> list[dict[str, Any]]:
        refunds, lookups = [], 0
        for row in self._query_cart(cart_id) if cart_id else []:
            if _tran_type(row) != "refund":
                continue
            if not row.get("previous_tran_ref") and lookups < MAX_REFUND_LOOKUPS:
                # A cart listing may leave details out: the refund's own query names its sale.
                lookups += 1
                row = self._query_ref(row["tran_ref"])
            if row.get("previous_tran_ref") == tran_ref:
                refunds.append(row)
        return refunds

    def _with_refunds(self, sale: dict[str, Any]) -> dict[str, Any]:
        if _tran_type(sale) != "sale" or _result(sale).get("response_status") != "A":
            return sale
        currency = sale.get("cart_currency") or ""
        refunded = sum(self._minor(row.get("cart_amount"), currency)
                       for row in self._refunds_of(sale["tran_ref"], sale.get("cart_id") or "")
                       if _result(row).get("response_status") == "A")
        return {**sale, "_refunded_minor": refunded}

    def _payment(self, sale: dict[str, Any]) -> GatewayPayment:
        currency = sale.get("cart_currency") or ""
        amount = self._minor(sale.get("cart_amount"), currency)
        refunded = int(sale.get("_refunded_minor", 0))
        status = _sale_status(sale)
        if status == GatewayStatus.SUCCEEDED and refunded:
            status = GatewayStatus.REFUNDED if refunded >= amount else GatewayStatus.PARTIALLY_REFUNDED
        result = _result(sale)
        failed = status == GatewayStatus.FAILED
        raw = {key: value for key, value in sale.items() if key != "_refunded_minor"}
        return GatewayPayment(
            gateway_payment_id=sale["tran_ref"],
            status=status,
            amount=amount,
            currency=currency,
            refunded_amount=refunded,
            failure_code=str(result.get("response_code") or result.get("response_status") or "") if failed else "",
            failure_message=str(result.get("response_message") or "") if failed else "",
            raw=raw,
        )

    def _refund(self, data: dict[str, Any]) -> GatewayRefund:
        letter = _result(data).get("response_status")
        status = {"A": GatewayStatus.SUCCEEDED, "P": GatewayStatus.PENDING, "H": GatewayStatus.PENDING}.get(
            letter or "", GatewayStatus.FAILED)
        currency = data.get("cart_currency") or ""
        return GatewayRefund(gateway_refund_id=data["tran_ref"], status=status,
                             amount=self._minor(data.get("cart_amount"), currency), raw=data)

    @staticmethod
    def _check_currency(currency: str) -> None:
        if currency not in EXPONENTS:
            raise GatewayError("unsupported_currency", f"No minor-unit exponent known for {currency}.")

    @staticmethod
    def _amount(amount: int, currency: str) -> float:
        # PayTabs takes a JSON number; a float's shortest repr reproduces to_major's digits exactly for
        # any realistic amount (up to 15 significant digits), e.g. 1.234 KWD.
        return float(to_major(amount, currency))

    @staticmethod
    def _minor(value: Any, currency: str) -> int:
        if value in (None, "") or currency not in EXPONENTS:
            return 0
        return to_minor(str(value), currency)


def _result(row: Mapping[str, Any]) -> dict[str, Any]:
    result = row.get("payment_result")
    return result if isinstance(result, dict) else {}


def _tran_type(row: Mapping[str, Any]) -> str:
    return str(row.get("tran_type") or "").lower()  # PayTabs answers "Sale", "Refund"


def _sale_status(row: Mapping[str, Any]) -> GatewayStatus:
    letter = _result(row).get("response_status") or "P"
    if letter == "A" and _tran_type(row) == "auth":
        return GatewayStatus.AUTHORIZED
    return SALE_STATUSES.get(letter, GatewayStatus.PENDING)


__all__ = ["PaytabsGateway", "cart_id_for", "payment_id_from_cart", "signed_form_payload"]

"""Moyasar (Saudi Arabia): mada, Visa, Mastercard, Apple Pay, Google Pay and STC Pay through one REST API.

What the adapter relies on, and where it comes from (docs.moyasar.com unless said otherwise):

- Auth: HTTP Basic, the secret key as user and an empty password. A wrong key answers
  `401 {"type": "authentication_error", "message": "Invalid authorization credentials", "errors": null}`;
  validation errors answer `400 {"type": "invalid_request_error", "message": ..., "errors": {...}}`.
  A decline is NOT an HTTP error: the payment is created (201) with `status: failed` and the reason in
  `source.message` (and `source.response_code` for cards).
- Amounts are integers in the currency's smallest unit (halalas; fils for the 3-decimal KWD), minimum
  100 of them; so amounts cross this edge unconverted.
- `POST /v1/payments` with `amount`, `currency`, `description`, `callback_url` (where the payer's
  browser returns to after 3-D Secure, with `?id=&status=&message=`), `metadata` (string → string; our
  payment id goes in `payment_id`), `given_id` (a UUID that makes creation idempotent) and `source`:
  `creditcard` (name/number/month/year/cvc, test mode only here), `token` (Moyasar.js token_...),
  `applepay` / `googlepay` (`token`: the wallet's payment token) or `stcpay` (`mobile`, 05xxxxxxxx).
  Cards and tokens run 3-D Secure by default: the payment comes back `initiated` with
  `source.transaction_url`, the payer's browser goes there, and the payment then turns `paid`/`failed`.
  STC Pay comes back `initiated` with `source.transaction_url` too, but that URL takes the OTP the payer
  received by SMS (`otp_value`, GET or POST) and answers with the payment, as Moyasar's own Magento
  plugin does (`GET /v1/stc_pays/{id}/proceed?otp_token=...&otp_value=...`).
- `GET /v1/payments/{id}`; `POST /v1/payments/{id}/refund` with an optional `amount` (partial refunds
  allowed, repeatedly, up to the paid amount) answering with the payment, `refunded` updated.
  Statuses: initiated, paid, failed, authorized, captured, refunded, voided, verified.
- Webhooks are per account, not per payment (dashboard or `POST /v1/webhooks` with `url`,
  `shared_secret`, `events`). Each delivery is a JSON body `{"id", "type": "payment_paid" |
  "payment_failed" | "payment_refunded" | ..., "created_at", "secret_token", "account_name", "live",
  "data": <payment>}`; authenticity is only the `secret_token` equal to the configured shared secret (no
  HMAC, no header), compared here in constant time. Retried up to 5 more times on non-2xx.

Not confirmed against Moyasar itself (see the report): what a repeated `given_id` answers (assumed: the
payment created first), the status after a partial refund (assumed `refunded` with `refunded` <
`amount`, so both that and `paid` + `refunded` > 0 map to PARTIALLY_REFUNDED), the exact over-refund
error text, and whether STC Pay's `proceed` answers a wrong OTP with the failed payment or with a 4xx
(both are handled). Moyasar's refund endpoint takes no idempotency key: after a GatewayUnavailable on
`refund`, fetch the payment and compare `refunded` before retrying.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from .base import (
    CARD_METHODS,
    EXPONENTS,
    Gateway,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayStatus,
    GatewayUnavailable,
    InvalidCallback,
    Method,
    NextAction,
    PaymentRequest,
    WebhookEvent,
)

DEFAULT_BASE_URL = "https://api.moyasar.com"
WEBHOOK_EVENTS = ("payment_paid", "payment_failed", "payment_refunded", "payment_voided", "payment_authorized",
                  "payment_captured")

# Card response codes Moyasar reports in source.response_code (its test card table) → our failure codes.
_RESPONSE_CODES = {"05": "declined", "41": "lost_card", "43": "stolen_card", "51": "insufficient_funds",
                   "54": "expired_card", "61": "exceeds_withdrawal_limit", "99": "unspecified_failure"}
_WALLET_SOURCES = {Method.APPLEPAY: "applepay", Method.GOOGLEPAY: "googlepay"}
_MOBILE = re.compile(r"^(?:\+|00)?(?:966)?0?(5\d{8})$")


def given_id(idempotency_key: str) -> str:
    """The `given_id` for one idempotency key: the same key always yields the same UUID, so a retried
    create returns the first payment instead of charging twice. Shaped as a version-4 UUID (hash bytes
    with the version and variant bits set) because Moyasar's docs ask for a UUID v4."""
    digest = hashlib.sha256(b"osdm:moyasar:given_id:" + idempotency_key.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _mobile(value: str) -> str:
    """STC Pay wants the payer's mobile as 05xxxxxxxx; accept the international forms too."""
    match = _MOBILE.match(re.sub(r"[\s-]", "", value))
    return f"0{match.group(1)}" if match else value


def _failure(source: dict[str, Any]) -> tuple[str, str]:
    message = str(source.get("message") or "")
    code = _RESPONSE_CODES.get(str(source.get("response_code") or ""))
    if not code:
        lowered = message.lower()
        if "insufficient" in lowered:
            code = "insufficient_funds"
        elif "invalid otp" in lowered:
            # Moyasar failed the payment on this OTP: not "invalid_otp", which tells the platform the
            # payer may simply try another code on the same payment.
            code = "otp_rejected"
        else:
            code = re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")[:48] or "declined"
    return code, message or "Declined"


def _status(payment: dict[str, Any]) -> GatewayStatus:
    status, refunded, amount = payment.get("status"), payment.get("refunded") or 0, payment.get("amount") or 0
    if status == "initiated":
        return GatewayStatus.REQUIRES_ACTION if (payment.get("source") or {}).get("transaction_url") \
            else GatewayStatus.PENDING
    if status in ("paid", "captured", "refunded") and refunded:
        return GatewayStatus.REFUNDED if refunded >= amount else GatewayStatus.PARTIALLY_REFUNDED
    if status == "voided":
        # We capture at once, so a voided payment is one the merchant cancelled from the dashboard before
        # settlement: the payer keeps all the money, as with a full refund.
        return GatewayStatus.REFUNDED
    return {"paid": GatewayStatus.SUCCEEDED, "captured": GatewayStatus.SUCCEEDED,
            "authorized": GatewayStatus.AUTHORIZED, "failed": GatewayStatus.FAILED,
            "refunded": GatewayStatus.REFUNDED}.get(status, GatewayStatus.PENDING)


def _refunded(payment: dict[str, Any]) -> int:
    if payment.get("status") == "voided":
        return payment.get("amount") or 0
    return payment.get("refunded") or 0


class MoyasarGateway(Gateway):
    slug = "moyasar"
    display_name = "Moyasar"
    # One host for both: the key (sk_test_ / sk_live_) decides the mode.
    base_urls = {"test": DEFAULT_BASE_URL, "live": DEFAULT_BASE_URL}
    methods = frozenset({Method.MADA, Method.VISA, Method.MASTERCARD, Method.APPLEPAY, Method.GOOGLEPAY,
                         Method.STCPAY})
    supports_partial_refunds = True
    # publishable_key is optional and not secret (the storefront's Moyasar.js form uses it to tokenise
    # cards); secret_key and webhook_secret (the webhook's shared secret token) are secret.
    credential_fields = ("secret_key", "publishable_key", "webhook_secret")

    # HTTP plumbing
    def _auth(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.credentials.values.get("secret_key", ""), "")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._request(method, path, auth=self._auth(), headers={"accept": "application/json"}, **kwargs)
        if response.status_code == 429:
            raise GatewayUnavailable(f"{self.slug}: rate limited")
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            if not isinstance(data, dict):
                raise GatewayError(f"http_{response.status_code}", response.text[:200] or response.reason_phrase)
            message = str(data.get("message") or response.reason_phrase)
            if isinstance(data.get("errors"), dict) and data["errors"]:
                details = "; ".join(f"{field} {', '.join(map(str, errs)) if isinstance(errs, list) else errs}"
                                    for field, errs in data["errors"].items())
                message = f"{message}: {details}"
            raise GatewayError(str(data.get("type") or f"http_{response.status_code}"), message, raw=data)
        if not isinstance(data, dict):
            raise GatewayError("invalid_response", f"{self.slug} answered {response.status_code} without JSON")
        return data

    def _payment(self, data: dict[str, Any]) -> GatewayPayment:
        source = data.get("source") or {}
        status = _status(data)
        action = NextAction("none")
        if status == GatewayStatus.REQUIRES_ACTION:
            action = NextAction("otp", data={"mobile": source.get("mobile", "")}) if source.get("type") == "stcpay" \
                else NextAction("redirect", url=source["transaction_url"])
        code, message = _failure(source) if status == GatewayStatus.FAILED else ("", "")
        return GatewayPayment(gateway_payment_id=data["id"], status=status, amount=data["amount"],
                              currency=data.get("currency", ""), next_action=action, refunded_amount=_refunded(data),
                              failure_code=code, failure_message=message, raw=data)

    def _declined(self, data: dict[str, Any]) -> GatewayPayment:
        """A payment Moyasar created but declined at once is the gateway saying no: raise, keeping the
        payment (its id, its source.message) in `raw`."""
        payment = self._payment(data)
        if payment.status == GatewayStatus.FAILED:
            raise GatewayError(payment.failure_code, payment.failure_message, raw=data)
        return payment

    # the interface
    def _source(self, request: PaymentRequest) -> dict[str, Any]:
        source = request.source
        if request.method in CARD_METHODS:
            if source.token:
                card: dict[str, Any] = {"type": "token", "token": source.token}
                if source.card_cvc:
                    card["cvc"] = source.card_cvc
                return card
            if not source.card_number:
                raise GatewayError("invalid_source", "A card payment needs a Moyasar token or, in test mode, a test card.")
            if self.credentials.mode != "test" or self.credentials.values.get("secret_key", "").startswith("sk_live_"):
                # Card data must never reach our servers in live mode (PCI DSS; Moyasar's terms forbid it).
                raise GatewayError("raw_card_data_forbidden", "Raw card data is accepted in test mode only.")
            return {"type": "creditcard", "name": source.card_name or "", "number": source.card_number,
                    "month": source.card_month, "year": source.card_year, "cvc": source.card_cvc or ""}
        if request.method in _WALLET_SOURCES:
            if not source.token:
                raise GatewayError("invalid_source", f"{request.method.value} needs the wallet's payment token.")
            return {"type": _WALLET_SOURCES[request.method], "token": source.token}
        if request.method == Method.STCPAY:
            if not source.mobile:
                raise GatewayError("invalid_source", "STC Pay needs the payer's mobile number.")
            return {"type": "stcpay", "mobile": _mobile(source.mobile)}
        raise GatewayError("unsupported_method", f"{self.display_name} does not take {request.method}.")

    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        if request.currency not in EXPONENTS:
            raise GatewayError("unsupported_currency", f"{request.currency} is not a supported currency.")
        body = {
            "given_id": given_id(request.idempotency_key),
            "amount": request.amount,  # already in the smallest unit, as Moyasar wants it
            "currency": request.currency,
            "description": request.description,
            # Moyasar's callback_url is the payer's browser return; webhooks go to the account's
            # registered endpoint (see ensure_webhook), not to request.callback_url.
            "callback_url": request.return_url,
            "metadata": {**{k: str(v) for k, v in request.metadata.items()}, "payment_id": request.payment_id},
            "source": self._source(request),
        }
        return self._declined(self._call("POST", "/v1/payments", json=body))

    def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        return self._payment(self._call("GET", f"/v1/payments/{gateway_payment_id}"))

    def confirm(self, gateway_payment_id: str, *, data: dict[str, Any]) -> GatewayPayment:
        """STC Pay: hand Moyasar the OTP the payer received, at the payment's own transaction_url."""
        otp = str(data.get("otp") or data.get("otp_value") or "").strip()
        current = self._call("GET", f"/v1/payments/{gateway_payment_id}")
        source = current.get("source") or {}
        if source.get("type") != "stcpay":
            return super().confirm(gateway_payment_id, data=data)
        if current.get("status") != "initiated":
            return self._declined(current)  # already confirmed (a retry): report how it ended
        if not re.fullmatch(r"\d{4,8}", otp):
            # Checked here so a typo never reaches Moyasar, which fails the payment on a wrong OTP.
            raise GatewayError("invalid_otp", "Enter the code STC Pay sent by SMS.")
        path = self._own_path(str(source.get("transaction_url") or ""))
        separator = "&" if "?" in path else "?"
        return self._declined(self._call("GET", f"{path}{separator}{urlencode({'otp_value': otp})}"))

    def _own_path(self, url: str) -> str:
        """The transaction_url's path and query, to call on our configured API root: whatever host the
        URL names (a simulator's public alias, or anything else), the OTP only ever goes there."""
        base, target = urlsplit(self.credentials.base_url), urlsplit(url)
        if not target.path.startswith(("/v1/", f"{base.path.rstrip('/')}/v1/")):
            raise GatewayError("invalid_transaction_url", "The payment has no usable STC Pay transaction URL.")
        prefix = base.path.rstrip("/")
        path = target.path[len(prefix):] if prefix and target.path.startswith(prefix) else target.path
        return f"{path}?{target.query}" if target.query else path

    def refund(self, gateway_payment_id: str, *, amount: int, currency: str, idempotency_key: str,
               reason: str = "") -> GatewayRefund:
        # No idempotency key exists on this endpoint (see the module docstring).
        data = self._call("POST", f"/v1/payments/{gateway_payment_id}/refund", json={"amount": amount})
        refunded = data.get("refunded") or 0
        # Moyasar has no refund objects: a refund is the payment's cumulative `refunded` moving up, so the
        # payment id and that running total name this refund uniquely.
        return GatewayRefund(gateway_refund_id=f"{data.get('id', gateway_payment_id)}:refund:{refunded}",
                             status=GatewayStatus.SUCCEEDED, amount=amount, raw=data)

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        secret = self.credentials.values.get("webhook_secret", "")
        if not secret:
            raise InvalidCallback("no Moyasar webhook secret is configured")
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidCallback("malformed Moyasar webhook") from exc
        if not isinstance(event, dict):
            raise InvalidCallback("malformed Moyasar webhook")
        token = event.get("secret_token")
        if not isinstance(token, str) or not token or \
                not hmac.compare_digest(token.encode(), secret.encode()):
            raise InvalidCallback("missing or wrong secret_token")
        payment = event.get("data")
        if not isinstance(payment, dict) or not payment.get("id") or not isinstance(payment.get("amount"), int):
            raise InvalidCallback("Moyasar webhook without a payment")
        metadata = payment.get("metadata") if isinstance(payment.get("metadata"), dict) else {}
        # The event id is the same on every retry of one delivery; without one, the payment's state is.
        dedupe = str(event.get("id") or f"{payment['id']}:{event.get('type')}:{payment.get('updated_at')}")
        status = _status(payment)
        code, message = _failure(payment.get("source") or {}) if status == GatewayStatus.FAILED else ("", "")
        return WebhookEvent(dedupe_key=dedupe, gateway_payment_id=str(payment["id"]), status=status,
                            amount=payment["amount"], refunded_amount=_refunded(payment),
                            payment_id=metadata.get("payment_id"), raw=event, failure_code=code,
                            failure_message=message)

    # provisioning
    def ensure_webhook(self, url: str) -> dict[str, Any]:
        """Register our webhook endpoint on the tenant's Moyasar account (once), with the configured
        webhook_secret as its shared secret. Call when a tenant saves its Moyasar credentials."""
        existing = self._call("GET", "/v1/webhooks").get("webhooks") or []
        for webhook in existing:
            if webhook.get("url") == url:
                return webhook
        return self._call("POST", "/v1/webhooks", json={
            "url": url, "shared_secret": self.credentials.values.get("webhook_secret", ""),
            "http_method": "post", "events": list(WEBHOOK_EVENTS)})

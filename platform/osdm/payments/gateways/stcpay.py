"""STC Pay direct merchant API ("B2B DirectPayment", V4): the payer's wallet, charged by mobile number
and a one-time password, with no gateway in between.

The flow, as the adapter maps it onto our interface:

    create_payment  POST .../DirectPayment/V4/DirectPaymentAuthorize   mobile + amount → OtpReference,
                    STCPayPmtReference; STC Pay texts the payer an OTP   → REQUIRES_ACTION, next_action "otp"
    confirm         POST .../DirectPayment/V4/DirectPaymentConfirm     the OTP → PaymentStatus 2 Paid
    fetch_payment   POST .../DirectPayment/V4/PaymentInquiry           by our RefNum → TransactionList
    refund          POST .../DirectPayment/V4/RefundPayment            STCPayRefNum + Amount → NewSTCPayRefNum

STC Pay publishes no public reference; what follows is reconstructed from public integrations of the
V4 API (WooCommerce plugin shazzad/woocommerce-gateway-stcpay, the kawkab-oss/stcpay-node SDK, C# and
Java merchant code), so every detail is second-hand:
- Auth is mutual TLS (the merchant's client certificate and key) plus an `X-ClientCode` header carrying
  the merchant id. A wrong merchant id or certificate is answered with an empty body.
- Every request and response body is wrapped: `{"<Operation>V4RequestMessage": {...}}` →
  `{"<Operation>V4ResponseMessage": {...}}`; errors are non-200 with `{"Code": 20xx, "Text": "..."}`.
- Amounts are decimal SAR in major units; mobile numbers are `9665xxxxxxxx`.
- PaymentStatus: 1 Pending, 2 Paid, 4 Cancelled, 5 Expired.
- NOT confirmed: the refund path (only its body, `RefundPaymentRequestMessage {STCPayRefNum, Amount}` →
  `RefundPaymentResponseMessage {NewSTCPayRefNum}`, is seen in public code; `RefundPayment` follows the
  naming of the other operations), the HTTP status of errors (400 assumed), the unit of
  `ExpiryDuration`, and whether a repeated RefNum is refused or replayed.

STC Pay direct sends no webhooks: status is learned by polling `fetch_payment` (`has_callbacks = False`).

The adapter holds no state, yet confirming needs the OTP reference and inquiring needs our RefNum, so
the gateway payment id is the composite `"<STCPayPmtReference>:<RefNum>:<OtpReference>"`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import ssl
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from .base import (
    Credentials,
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

API_PREFIX = "/B2B.DirectPayment.WebApi/DirectPayment/V4"
CURRENCY = "SAR"  # STC Pay wallets hold riyals only

# PaymentStatus values seen in public integrations (Pending = 1, Paid = 2, Cancelled = 4, Expired = 5).
PENDING, PAID, CANCELLED, EXPIRED = 1, 2, 4, 5

# STC Pay error codes (the WooCommerce plugin's table) → our codes.
ERROR_CODES: dict[int, str] = {
    2001: "invalid_request",
    2003: "invalid_request",
    2004: "authentication_failed",  # Merchant Not Found
    2006: "not_found",  # No Such Payment
    2008: "no_stcpay_account",  # No Account Found With This Mobile No.
    2009: "already_paid",
    2016: "invalid_amount",
    2017: "invalid_mobile",
    2018: "invalid_mobile",
    2020: "invalid_otp",  # Required OtpValue
    2023: "insufficient_funds",
    2024: "limit_exceeded",  # Shared Account Limit Exceeded
    2025: "not_allowed",  # Shared Account Transaction not allowed
    2026: "expired",
    2027: "cancelled",
    2028: "account_incomplete",
    2029: "account_invalid",
    2030: "not_allowed",
    2031: "invalid_otp",  # Invalid OTP either expired or not found
    2033: "authentication_failed",  # MerchantId Required
    2034: "authentication_failed",  # Merchant is not active
    2035: "authentication_failed",  # Invalid Merchant ID
    2036: "invalid_amount",
    2037: "otp_mismatch",  # Payment information mismatch with the OtpReference
}
# Answers to DirectPaymentConfirm that end the payment: a decline, not an error of the request.
DECLINES = {2023, 2024, 2025, 2026, 2027, 2028, 2029, 2030}


def normalise_mobile(value: str | None) -> str:
    """05xxxxxxxx, 5xxxxxxxx, +9665xxxxxxxx, 009665xxxxxxxx, 9665xxxxxxxx (spaces, dashes and
    Arabic-Indic digits allowed) → 9665xxxxxxxx, the form STC Pay expects."""
    if not value:
        raise GatewayError("invalid_mobile", "An STC Pay mobile number is required.")
    digits = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value.strip())
    digits = re.sub(r"[\s\-().]", "", digits)
    for prefix in ("+966", "00966", "966"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            break
    digits = digits.removeprefix("0")  # 05xxxxxxxx, also written +966 05xxxxxxxx
    if not re.fullmatch(r"5[0-9]{8}", digits):
        raise GatewayError("invalid_mobile", "Enter a Saudi mobile number registered with STC Pay (05xxxxxxxx).")
    return "966" + digits


def references(idempotency_key: str) -> tuple[str, str]:
    """Our RefNum and BillNumber, derived from the idempotency key so that a retried authorisation
    carries the same merchant references (STC Pay has no idempotency header)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return digest[:32], digest[32:52].upper()


@contextmanager
def _private_path(data: bytes):
    """A path to `data` that never reaches a disk: a Linux memfd (anonymous memory, visible to this
    process only as /proc/self/fd/N). Elsewhere, a 0600 file in a fresh 0700 directory, removed as soon
    as OpenSSL has read it."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("stcpay-pem", getattr(os, "MFD_CLOEXEC", 0))
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="stcpay-") as directory:
        path = os.path.join(directory, "pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        yield path


def client_ssl_context(certificate_pem: str, key_pem: str, *, key_password: str | None = None,
                       ca_pem: str | None = None) -> ssl.SSLContext:
    """An SSLContext that verifies the server as usual and presents the merchant's client certificate.

    `ssl.SSLContext.load_cert_chain` reads only from paths, so the PEMs are handed over through
    memory-backed files that exist only while it reads them; once loaded, the key lives in OpenSSL's
    memory and nothing remains on disk. (httpx's `cert=` would need real files for the client's whole
    lifetime and is deprecated since httpx 0.28.)"""
    context = ssl.create_default_context()
    if ca_pem:  # a sandbox whose server certificate is not publicly trusted
        context.load_verify_locations(cadata=ca_pem)
    with _private_path(certificate_pem.encode()) as cert_path, _private_path(key_pem.encode()) as key_path:
        context.load_cert_chain(cert_path, key_path, password=key_password or None)
    return context


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StcpayGateway(Gateway):
    slug = "stcpay"
    display_name = "STC Pay"
    methods = frozenset({Method.STCPAY})
    supports_partial_refunds = True  # the refund call takes an amount; the inquiry reports AmountReversed
    credential_fields = ("merchant_id", "client_certificate_pem", "client_key_pem")
    has_callbacks: ClassVar[bool] = False  # no webhooks: poll fetch_payment
    # Optional values: client_key_password, ca_certificate_pem, branch_id, teller_id, device_id.

    def __init__(self, credentials: Credentials, *, client: httpx.Client | None = None) -> None:
        self.ssl_context: ssl.SSLContext | None = None
        scheme = urlsplit(credentials.base_url).scheme
        if scheme == "https":
            values = credentials.values
            if not (values.get("client_certificate_pem") and values.get("client_key_pem")):
                raise GatewayError("invalid_credentials", "STC Pay needs the merchant's client certificate and key.")
            try:
                self.ssl_context = client_ssl_context(
                    values["client_certificate_pem"], values["client_key_pem"],
                    key_password=values.get("client_key_password"), ca_pem=values.get("ca_certificate_pem"))
            except (ssl.SSLError, ValueError, OSError) as exc:
                raise GatewayError("invalid_credentials",
                                   f"The STC Pay client certificate or key cannot be loaded: {exc}") from exc
            # The client certificate belongs to the connection, so an injected client (which cannot be
            # given one afterwards) is replaced by one that carries it; its timeout is kept.
            timeout = client.timeout if client is not None else httpx.Timeout(self.timeout)
            client = httpx.Client(verify=self.ssl_context, timeout=timeout, trust_env=False)
        elif scheme == "http":
            # Plain HTTP only reaches the local simulator; never send a live payment in the clear.
            if credentials.mode == "live" and not _is_loopback(credentials.base_url):
                raise GatewayError("invalid_credentials", "STC Pay is reached over HTTPS only.")
        else:
            raise GatewayError("invalid_credentials", f"Unsupported STC Pay base URL: {credentials.base_url}")
        super().__init__(credentials, client=client)

    # the API
    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        if request.method != Method.STCPAY:
            raise GatewayError("unsupported_method", f"STC Pay cannot take {request.method} payments.")
        self._check_currency(request.currency)
        if request.amount <= 0:
            raise GatewayError("invalid_amount", "The amount must be positive.")
        mobile = normalise_mobile(request.source.mobile)
        ref_num, bill_number = references(request.idempotency_key)
        values = self.credentials.values
        body = self._call("DirectPaymentAuthorize", {
            "BranchID": values.get("branch_id") or "osdm",
            "TellerID": values.get("teller_id") or "osdm",
            "DeviceID": values.get("device_id") or "osdm-web",
            "RefNum": ref_num,
            "BillNumber": bill_number,
            "MobileNo": mobile,
            "Amount": to_major(request.amount, CURRENCY),
            "MerchantNote": request.description[:100],
        })
        pmt_reference, otp_reference = str(body.get("STCPayPmtReference") or ""), str(body.get("OtpReference") or "")
        if not pmt_reference or not otp_reference:
            raise GatewayError("invalid_response", "STC Pay returned no payment or OTP reference.", raw=_plain(body))
        return GatewayPayment(
            gateway_payment_id=f"{pmt_reference}:{ref_num}:{otp_reference}",
            status=GatewayStatus.REQUIRES_ACTION,
            amount=request.amount,
            currency=CURRENCY,
            next_action=NextAction("otp", data={
                "otp_reference": otp_reference,
                "expiry_duration": body.get("ExpiryDuration"),  # unit not documented publicly
                "mobile": f"05•••••{mobile[-3:]}",
            }),
            raw=_plain(body),
        )

    def confirm(self, gateway_payment_id: str, *, data: dict[str, Any]) -> GatewayPayment:
        pmt_reference, _ref_num, otp_reference = self._split(gateway_payment_id)
        otp = str(data.get("otp") or "").strip()
        if not re.fullmatch(r"[0-9]{4,8}", otp):
            raise GatewayError("invalid_otp", "Enter the one-time password STC Pay sent to the payer.")
        try:
            body = self._call("DirectPaymentConfirm", {
                "OtpReference": str(data.get("otp_reference") or otp_reference),
                "OtpValue": otp,
                "STCPayPmtReference": pmt_reference,
            })
        except GatewayError as exc:
            stc_code = exc.raw.get("Code")
            if stc_code == 2009:  # already paid: a repeated confirmation
                return self.fetch_payment(gateway_payment_id)
            if stc_code in DECLINES or exc.code in ("invalid_otp", "otp_mismatch"):
                # A decline ends the payment; a wrong OTP leaves it waiting for another try, unless it
                # was the last try STC Pay allows. The inquiry says which (and gives the amount).
                current = self.fetch_payment(gateway_payment_id)
                if current.status in (GatewayStatus.FAILED, GatewayStatus.REQUIRES_ACTION) and stc_code in DECLINES:
                    return replace(current, status=GatewayStatus.FAILED, next_action=NextAction("none"),
                                   failure_code=exc.code, failure_message=exc.message)
                if current.status == GatewayStatus.FAILED:
                    return replace(current, failure_code=exc.code, failure_message=exc.message)
                if current.status != GatewayStatus.REQUIRES_ACTION:
                    return current  # paid or pending after all: the inquiry is the truth
            raise
        return self._payment(gateway_payment_id, body, from_confirm=True)

    def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        pmt_reference, ref_num, _otp_reference = self._split(gateway_payment_id)
        body = self._call("PaymentInquiry", {"RefNum": ref_num})
        transactions = body.get("TransactionList") or []
        match = [t for t in transactions if str(t.get("STCPayRefNum")) == pmt_reference]
        if not match:
            raise GatewayError("not_found", f"STC Pay knows no payment {pmt_reference}.", raw=_plain(body))
        return self._payment(gateway_payment_id, match[-1])

    def refund(self, gateway_payment_id: str, *, amount: int, currency: str, idempotency_key: str,
               reason: str = "") -> GatewayRefund:
        # The refund call takes no merchant reference, so a retry cannot be made idempotent at STC Pay:
        # the caller must fetch_payment (AmountReversed) before retrying an unanswered refund.
        self._check_currency(currency)
        if amount <= 0:
            raise GatewayError("invalid_amount", "The refund amount must be positive.")
        pmt_reference, _ref_num, _otp_reference = self._split(gateway_payment_id)
        body = self._call("RefundPayment", {"STCPayRefNum": pmt_reference, "Amount": to_major(amount, CURRENCY)},
                          wrapper="RefundPayment")
        refund_reference = str(body.get("NewSTCPayRefNum") or "")
        if not refund_reference:
            raise GatewayError("invalid_response", "STC Pay returned no refund reference.", raw=_plain(body))
        return GatewayRefund(gateway_refund_id=refund_reference, status=GatewayStatus.SUCCEEDED, amount=amount,
                             raw=_plain(body))

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        raise InvalidCallback("stcpay sends no callbacks")

    # helpers
    def _call(self, operation: str, message: dict[str, Any], *, wrapper: str | None = None) -> dict[str, Any]:
        """POST one operation; return the unwrapped response message or raise GatewayError."""
        name = wrapper or f"{operation}V4"
        response = self._request(
            "POST", f"{API_PREFIX}/{operation}",
            content=json.dumps({f"{name}RequestMessage": message}).encode(),
            headers={"X-ClientCode": self.credentials.values.get("merchant_id", ""),
                     "Content-Type": "application/json", "Accept": "application/json"},
        )
        if response.status_code in (401, 403) or not response.content.strip():
            # An unknown merchant code or client certificate is answered with an empty body.
            raise GatewayError("authentication_failed", "STC Pay refused the merchant code or client certificate.",
                               raw={"status": response.status_code})
        data = self._json(response)
        if response.status_code != 200:
            stc_code = _int(data.get("Code"))
            code = (ERROR_CODES.get(stc_code, f"stcpay_{stc_code}") if stc_code is not None
                    else f"http_{response.status_code}")
            raise GatewayError(code, str(data.get("Text") or data.get("Message") or "STC Pay refused the request."),
                               raw=_plain({**data, "Code": stc_code}))
        # `<Operation>V4ResponseMessage`; some integrations see `DirectPaymentV4ResponseMessage` for the
        # confirmation, so take whichever response message came back.
        expected = data.get(f"{name}ResponseMessage")
        if expected is None:
            expected = next((v for k, v in data.items() if k.endswith("ResponseMessage")), None)
        if not isinstance(expected, dict):
            raise GatewayError("invalid_response", f"STC Pay answered {operation} without a response message.",
                               raw=_plain(data))
        return expected

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if not response.content.strip():
            return {}
        try:
            data = json.loads(response.content, parse_float=Decimal)  # amounts stay exact
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _split(gateway_payment_id: str) -> tuple[str, str, str]:
        parts = gateway_payment_id.split(":")
        if len(parts) != 3 or not all(parts):
            raise GatewayError("not_found", f"Not an STC Pay payment id: {gateway_payment_id!r}.")
        return parts[0], parts[1], parts[2]

    @staticmethod
    def _check_currency(currency: str) -> None:
        if currency != CURRENCY:
            raise GatewayError("unsupported_currency", f"STC Pay takes SAR only, not {currency}.")

    def _payment(self, gateway_payment_id: str, transaction: dict[str, Any], *,
                 from_confirm: bool = False) -> GatewayPayment:
        amount = to_minor(transaction.get("Amount") or 0, CURRENCY)
        reversed_amount = to_minor(transaction.get("AmountReversed") or 0, CURRENCY)
        stc_status = _int(transaction.get("PaymentStatus"))
        description = str(transaction.get("PaymentStatusDesc") or "")
        failure_code = failure_message = ""
        next_action = NextAction("none")
        if stc_status == PAID:
            status = (GatewayStatus.REFUNDED if reversed_amount and reversed_amount >= amount
                      else GatewayStatus.PARTIALLY_REFUNDED if reversed_amount else GatewayStatus.SUCCEEDED)
        elif stc_status in (CANCELLED, EXPIRED):
            status = GatewayStatus.FAILED
            failure_code = "expired" if stc_status == EXPIRED else "cancelled"
            failure_message = description or failure_code
        elif stc_status == PENDING and not from_confirm:
            # Authorised, OTP not yet entered.
            status = GatewayStatus.REQUIRES_ACTION
            next_action = NextAction("otp", data={"otp_reference": self._split(gateway_payment_id)[2]})
        else:  # pending after a confirmation, or a status not seen publicly: poll again
            status = GatewayStatus.PENDING
        return GatewayPayment(
            gateway_payment_id=gateway_payment_id, status=status, amount=amount, currency=CURRENCY,
            next_action=next_action, refunded_amount=reversed_amount, failure_code=failure_code,
            failure_message=failure_message, raw=_plain(transaction),
        )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    """Decimals (parsed exactly from the gateway) back to strings, so `raw` stays JSON-serialisable."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


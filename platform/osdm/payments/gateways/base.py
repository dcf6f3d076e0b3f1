"""The one interface every payment gateway adapter implements.

An adapter is one module (`osdm.payments.gateways.<slug>`) with a `Gateway` subclass. It speaks the
gateway's real HTTP API over httpx and its real callback authenticity scheme, and converts amounts
to the gateway's units only at this edge: everything that crosses this interface is in integer
minor units with an ISO 4217 currency. Adapters hold no state of their own and touch no database:
the payments services persist what they return.

Payouts (money to a seller's bank account) are an optional part of the interface: a gateway that
offers them sets `supports_payouts` and implements `payout`, `fetch_payout` and `find_payout`.

Statuses are normalised to `GatewayStatus` (payments) and `PayoutStatus` (payouts). Errors are
`GatewayError` (declined, invalid request: the gateway said no) or `GatewayUnavailable` (timeout,
connection error, 5xx: try the fallback gateway or retry later; nothing is known to have happened).
"""

from __future__ import annotations

import abc
import enum
import functools
import ssl
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

# Minor-unit exponent per currency (ISO 4217). Gateways that speak major units convert with these.
EXPONENTS = {"SAR": 2, "AED": 2, "KWD": 3, "BHD": 3, "OMR": 3, "QAR": 2, "EGP": 2, "JOD": 3, "USD": 2, "EUR": 2,
             "GBP": 2}


def to_major(amount: int, currency: str) -> str:
    """Integer minor units → decimal string in major units ("12.50"), exact, no floats."""
    exponent = EXPONENTS[currency]
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10 ** exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"


def to_minor(value: str | int | float, currency: str) -> int:
    """Decimal major units (a string or number from a gateway) → integer minor units, exact."""
    from decimal import ROUND_HALF_UP, Decimal

    exponent = EXPONENTS[currency]
    quantum = Decimal(1).scaleb(-exponent)
    return int((Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP) * (10 ** exponent)).to_integral_value())


class Method(enum.StrEnum):
    MADA = "mada"
    VISA = "visa"
    MASTERCARD = "mastercard"
    APPLEPAY = "applepay"
    GOOGLEPAY = "googlepay"
    STCPAY = "stcpay"
    PAYPAL = "paypal"


CARD_METHODS = {Method.MADA, Method.VISA, Method.MASTERCARD}


class GatewayStatus(enum.StrEnum):
    """A payment's state at the gateway, normalised."""

    PENDING = "pending"  # created, nothing else known
    REQUIRES_ACTION = "requires_action"  # the payer must do something: 3-D Secure, approve, enter an OTP
    AUTHORIZED = "authorized"  # authorised, not captured (we capture at once; seen only transiently)
    SUCCEEDED = "succeeded"  # money captured
    FAILED = "failed"  # declined, expired, cancelled by the payer
    REFUNDED = "refunded"  # refunded in full
    PARTIALLY_REFUNDED = "partially_refunded"


@dataclass(frozen=True)
class Credentials:
    """A tenant's configuration of one gateway, decrypted for the call. `values` holds the
    gateway's own fields (secret_key, server_key + profile_id, client_id + client_secret...)."""

    values: dict[str, str]
    base_url: str  # the gateway's API root: live, sandbox, or a local simulator
    mode: str = "test"  # "test" or "live"


@dataclass(frozen=True)
class Source:
    """How the payer pays. Cards are tokenised in the browser by the gateway's own form; raw test
    card data is accepted only in test mode (the simulators' published test cards)."""

    token: str | None = None  # a gateway card/wallet token (Moyasar token, Apple Pay / Google Pay token)
    card_number: str | None = None  # test mode only
    card_name: str | None = None
    card_month: int | None = None
    card_year: int | None = None
    card_cvc: str | None = None
    mobile: str | None = None  # STC Pay: the payer's mobile number (05xxxxxxxx or 9665xxxxxxxx)


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str  # ours; gateways get it as metadata / cart id / reference
    amount: int  # minor units
    currency: str
    method: Method
    description: str
    return_url: str  # where the payer's browser comes back to
    callback_url: str  # where the gateway POSTs its webhook/IPN (ours: /api/v1/payments/webhooks/<slug>/)
    idempotency_key: str  # derived from ours; sent where the gateway supports one
    source: Source = field(default_factory=Source)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NextAction:
    """What the storefront must do next."""

    type: str  # "redirect" (to url), "otp" (collect an OTP, then POST /payments/{id}/confirm), "none"
    url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayPayment:
    """The gateway's view of a payment."""

    gateway_payment_id: str
    status: GatewayStatus
    amount: int  # minor units, as the gateway reports it
    currency: str
    next_action: NextAction = field(default_factory=lambda: NextAction("none"))
    refunded_amount: int = 0
    failure_code: str = ""
    failure_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)  # the gateway's response, for the log


@dataclass(frozen=True)
class GatewayRefund:
    gateway_refund_id: str
    status: GatewayStatus  # SUCCEEDED, PENDING or FAILED
    amount: int
    raw: dict[str, Any] = field(default_factory=dict)


class PayoutStatus(enum.StrEnum):
    """A payout's state at the gateway, normalised."""

    PENDING = "pending"  # accepted, not settled yet (queued, initiated at the bank)
    PAID = "paid"  # the transfer went through
    FAILED = "failed"  # refused, failed or cancelled: nothing left our account
    RETURNED = "returned"  # paid, then sent back by the receiving bank


@dataclass(frozen=True)
class GatewayPayout:
    """The gateway's view of a payout (a transfer from the marketplace to a bank account)."""

    gateway_payout_id: str
    status: PayoutStatus
    amount: int  # minor units
    currency: str
    reference: str = ""  # the gateway-side reference derived from the idempotency key
    gateway_status: str = ""  # the gateway's own word for the status
    failure_code: str = ""
    failure_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified callback, normalised."""

    dedupe_key: str  # unique per delivery of this event at this gateway (event id, or payment id + status)
    gateway_payment_id: str
    status: GatewayStatus
    amount: int | None = None
    refunded_amount: int | None = None
    payment_id: str | None = None  # ours, when the gateway echoes our metadata/reference
    raw: dict[str, Any] = field(default_factory=dict)
    failure_code: str = ""
    failure_message: str = ""


class GatewayError(Exception):
    """The gateway answered and said no (declined, invalid). Not retryable as such."""

    def __init__(self, code: str, message: str, *, raw: dict | None = None) -> None:
        self.code, self.message, self.raw = code, message, raw or {}
        super().__init__(f"{code}: {message}")


class GatewayUnavailable(Exception):
    """Timeout, connection failure or 5xx: the gateway is failing; nothing is known to have happened."""


class InvalidCallback(Exception):
    """A callback whose signature, token or verification call does not check out."""


class Gateway(abc.ABC):
    slug: ClassVar[str]
    display_name: ClassVar[str]
    methods: ClassVar[frozenset[Method]]
    supports_refunds: ClassVar[bool] = True
    supports_partial_refunds: ClassVar[bool] = True
    # Gateways without callbacks (STC Pay direct) set this False: their payments are polled.
    has_callbacks: ClassVar[bool] = True
    # Fields a tenant must configure, and which of them are secret (never returned by the API).
    credential_fields: ClassVar[tuple[str, ...]] = ()
    timeout: ClassVar[float] = 20.0

    def __init__(self, credentials: Credentials, *, client: httpx.Client | None = None) -> None:
        self.credentials = credentials
        self._client = client

    @property
    def client(self) -> httpx.Client:
        """The HTTP client, made on first use: checking a callback's signature never needs one, and
        building the TLS context each time cost ~14 ms of CPU per gateway (docs/payments.md#figures)."""
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, trust_env=False, verify=_default_ssl_context())
        return self._client

    # Every adapter implements these four; confirm() where the gateway has a second step.
    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        """Create (and where the method allows, capture) a payment; say what the payer must do next."""

    @abc.abstractmethod
    def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        """The gateway's current view of a payment (never trust a browser redirect: ask)."""

    @abc.abstractmethod
    def refund(self, gateway_payment_id: str, *, amount: int, currency: str, idempotency_key: str,
               reason: str = "") -> GatewayRefund:
        """Refund `amount` (minor units) of a captured payment, in full or in part."""

    @abc.abstractmethod
    def parse_callback(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify the callback's authenticity (raise InvalidCallback) and normalise it."""

    def confirm(self, gateway_payment_id: str, *, data: dict[str, Any]) -> GatewayPayment:
        """Second step where the gateway has one (STC Pay OTP, PayPal capture after approval)."""
        raise GatewayError("not_supported", f"{self.display_name} has no confirmation step.")

    # Payouts, optional: a gateway that can send money to a bank account sets `supports_payouts` and
    # implements these three. Amounts in minor units, as everywhere on this interface.
    supports_payouts: ClassVar[bool] = False

    def payout(self, *, amount: int, currency: str, iban: str, name: str, reference: str, idempotency_key: str,
               mobile: str = "", city: str = "") -> GatewayPayout:
        """Send `amount` to the bank account `iban` held by `name`. `reference` is ours (a withdrawal
        id); the same `idempotency_key` always names the same payout at the gateway. A refusal the
        gateway answers at once is a GatewayError; a payout it accepted and failed later comes back
        (here or from fetch_payout) with status FAILED."""
        raise GatewayError("not_supported", f"{self.display_name} does not pay out.")

    def fetch_payout(self, gateway_payout_id: str) -> GatewayPayout:
        """The gateway's current view of a payout."""
        raise GatewayError("not_supported", f"{self.display_name} does not pay out.")

    def find_payout(self, *, idempotency_key: str) -> GatewayPayout | None:
        """The payout an earlier `payout()` with this key created, or None. Asked before sending a
        payout again after a timeout, when the first attempt may or may not have reached the gateway."""
        raise GatewayError("not_supported", f"{self.display_name} does not pay out.")

    # helpers for adapters
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.credentials.base_url.rstrip("/") + path
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise GatewayUnavailable(f"{self.slug}: timeout") from exc
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{self.slug}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise GatewayUnavailable(f"{self.slug}: HTTP {response.status_code}")
        return response


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context (certifi's CA bundle, as httpx's default) for every gateway client:
    an SSLContext is safe to share between threads once configured."""
    return httpx.create_ssl_context()

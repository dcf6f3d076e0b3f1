"""A local PayPal: OAuth2 client credentials, Orders v2 (create, approve at `/checkoutnow`, capture),
Payments v2 captures and refunds, the Webhooks API (register, verify-webhook-signature, resend) and
signed webhook deliveries.

What it keeps faithful: paths, payload shapes, statuses, decimal-string amounts, PayPal's error shapes
(`{"name", "message", "debug_id", "details": [{"issue", "description"}], "links"}`; OAuth errors as
`{"error", "error_description"}`), `PayPal-Request-Id` replays, `Prefer: return=representation`,
sandbox negative testing (`PayPal-Mock-Response: {"mock_application_codes": "INSTRUMENT_DECLINED"}`),
and the webhook transmission headers.

Where it differs, on purpose: PayPal signs webhooks with SHA256withRSA and a certificate at
`PAYPAL-CERT-URL`; this simulator signs the same message PayPal signs,
`<transmission id>|<transmission time>|<webhook id>|<crc32 of the body>`, with an HMAC-SHA256 under a
secret of its own, so only its own verify endpoint can check it (as only PayPal's can in practice,
for integrations that use the postback verification). Real PayPal does not accept SAR or AED (they
are not on its REST currency list); this one does by default so the demo can pay in them:
`PaypalSimulator(currencies={...})` changes that.

Webhooks go where PayPal sends them: to the URLs registered for the app (a PayPal order carries no
callback URL). Register one with `POST /v1/notifications/webhooks` or `sim.add_webhook(url, ...)`.

The payer's step: `GET /checkoutnow?token=<order id>` is an HTML page with Pay / Cancel (and a
"Pay, funding declined" button); a click is a GET of the same URL with `&outcome=approve|cancel|decline`,
answered by a 302 to the order's return_url (`?token=<order id>&PayerID=<payer id>`) or cancel_url
(`?token=<order id>`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import string
import time
import uuid
import zlib
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .base import Request, Response, Simulator

DEFAULT_CLIENT_ID = "sb-osdm-paypal-client"
DEFAULT_CLIENT_SECRET = "sb-osdm-paypal-secret"
DEFAULT_CURRENCIES = frozenset({"USD", "EUR", "GBP", "SAR", "AED"})
# Decimal places PayPal accepts per currency (JPY, HUF, TWD take none).
PRECISION = {"JPY": 0, "HUF": 0, "TWD": 0}
AUTH_ALGO = "SHA256withRSA"

MESSAGES = {
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
    "UNPROCESSABLE_ENTITY": "The requested action could not be performed, semantically incorrect, or failed "
                            "business validation.",
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "AUTHENTICATION_FAILURE": "Authentication failed due to invalid authentication credentials or a missing "
                              "Authorization header.",
    "VALIDATION_ERROR": "Invalid request - see details",
    "INTERNAL_SERVER_ERROR": "An internal server error occurred.",
}

ISSUES = {
    "CURRENCY_NOT_SUPPORTED": "Currency code is not currently supported. Please refer "
                              "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of "
                              "supported currency codes.",
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision is supported.",
    "DECIMALS_NOT_SUPPORTED": "Currency does not support decimals.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero. If the currency supports decimals, only two "
                                  "decimal place precision is supported.",
    "INVALID_PARAMETER_VALUE": "The value of a field is invalid.",
    "MISSING_REQUIRED_PARAMETER": "A required field / parameter is missing.",
    "ORDER_NOT_APPROVED": "Payer has not yet approved the Order for payment. Please redirect the payer to the "
                          "'rel':'approve' url returned as part of the HATEOAS links within the Create Order "
                          "call or provide a valid payment_source in the request.",
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    "INSTRUMENT_DECLINED": "The instrument presented  was either declined by the processor or bank, or it can't "
                           "be used for this payment.",
    "TRANSACTION_REFUSED": "The request was refused.",
    "REFUND_AMOUNT_EXCEEDED": "The refund amount must be less than or equal to the capture amount that has not "
                              "yet been refunded.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture.",
    "REFUND_NOT_ALLOWED": "Full refund refused - partial refund has already been done on this payment. You "
                          "cannot refund this capture.",
    "WEBHOOK_URL_ALREADY_EXISTS": "Webhook URL already exists.",
}


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _paypal_id(length: int = 17) -> str:
    """PayPal's ids look like `5O190127TN364715T`: upper-case letters and digits."""
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _raw_member(text: str, key: str) -> str | None:
    """The exact source text of a top-level member of a JSON object, so that the signature is checked
    over the event bytes the caller sent, as PayPal does (it is not re-serialised)."""
    decoder = json.JSONDecoder()
    index, length = 0, len(text)

    def skip(i: int) -> int:
        while i < length and text[i] in " \t\r\n":
            i += 1
        return i

    index = skip(index)
    if index >= length or text[index] != "{":
        return None
    index = skip(index + 1)
    while index < length and text[index] != "}":
        name, index = decoder.raw_decode(text, index)
        index = skip(index)
        if index >= length or text[index] != ":":
            return None
        start = skip(index + 1)
        _, end = decoder.raw_decode(text, start)
        if name == key:
            return text[start:end]
        index = skip(end)
        if index < length and text[index] == ",":
            index = skip(index + 1)
    return None


class PaypalSimulator(Simulator):
    slug = "paypal"
    routes = [
        ("POST", r"/v1/oauth2/token", "oauth_token"),
        ("POST", r"/v2/checkout/orders", "create_order"),
        ("GET", r"/v2/checkout/orders/(?P<order_id>[^/]+)", "show_order"),
        ("POST", r"/v2/checkout/orders/(?P<order_id>[^/]+)/capture", "capture_order"),
        ("GET", r"/v2/payments/captures/(?P<capture_id>[^/]+)", "show_capture"),
        ("POST", r"/v2/payments/captures/(?P<capture_id>[^/]+)/refund", "refund_capture"),
        ("GET", r"/v2/payments/refunds/(?P<refund_id>[^/]+)", "show_refund"),
        ("POST", r"/v1/notifications/verify-webhook-signature", "verify_signature"),
        ("POST", r"/v1/notifications/webhooks", "create_webhook"),
        ("GET", r"/v1/notifications/webhooks", "list_webhooks"),
        ("DELETE", r"/v1/notifications/webhooks/(?P<webhook_id>[^/]+)", "delete_webhook"),
        ("POST", r"/v1/notifications/webhooks-events/(?P<event_id>[^/]+)/resend", "resend_event_route"),
        ("GET", r"/v1/notifications/certs/(?P<cert_id>[^/]+)", "show_cert"),
        ("GET", r"/checkoutnow", "checkoutnow"),
        ("POST", r"/checkoutnow", "checkoutnow"),
    ]

    def __init__(self, *, clients: dict[str, str] | None = None, currencies: set[str] | frozenset[str] | None = None,
                 token_ttl: int = 32400, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.currencies = set(currencies or DEFAULT_CURRENCIES)
        self.token_ttl = token_ttl
        self.signing_secret = secrets.token_bytes(32)
        self.cert_id = "CERT-360caa42-fca2a594-" + secrets.token_hex(4)
        # webhook id → {"url", "client_id" (None: every app), "event_types"}; configuration, kept by reset()
        self.webhooks: dict[str, dict[str, Any]] = {}
        self._clear_state()

    def _clear_state(self) -> None:
        self.tokens: dict[str, tuple[str, float]] = {}  # access token → (client id, expires at)
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}  # event id → {"event", "client_id"}
        self.replays: dict[tuple[str, str, str], Response] = {}  # (client, path, PayPal-Request-Id)

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self._clear_state()

    # test controls
    def add_client(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.clients[client_id] = client_secret

    def add_webhook(self, url: str, *, client_id: str | None = None, webhook_id: str | None = None,
                    event_types: tuple[str, ...] = ("*",)) -> str:
        """Register a webhook listener, as in the developer dashboard. `client_id=None` subscribes it to
        the events of every app; the returned id is what the tenant configures as `webhook_id`."""
        webhook_id = webhook_id or _paypal_id()
        with self.lock:
            self.webhooks[webhook_id] = {"url": url, "client_id": client_id, "event_types": list(event_types)}
        return webhook_id

    def expire_tokens(self) -> None:
        """Revoke every access token, as PayPal may before `expires_in` runs out."""
        with self.lock:
            self.tokens.clear()

    def approve(self, order_id: str, *, decline: bool = False) -> dict[str, Any]:
        """What the payer's Pay click does (with `decline=True`: the funding instrument will be refused
        at capture)."""
        with self.lock:
            order = self.payments[order_id]
            self._approve(order, decline=decline)
            return self._order_view(order)

    def resend_event(self, event_id: str) -> None:
        """Deliver an event again (PayPal's retries and its resend API): same event id, new transmission."""
        with self.lock:
            stored = self.events[event_id]
            self._deliver(stored["event"], stored["client_id"])

    # signatures
    def transmission_signature(self, transmission_id: str, transmission_time: str, webhook_id: str,
                               body: bytes) -> str:
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"
        digest = hmac.new(self.signing_secret, message.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    # plumbing
    def _error(self, status: int, name: str, issue: str | None = None, *, field: str | None = None,
               description: str | None = None, links: list[dict[str, str]] | None = None) -> Response:
        debug_id = secrets.token_hex(7)
        body: dict[str, Any] = {"name": name, "message": MESSAGES.get(name, name), "debug_id": debug_id}
        if issue:
            detail: dict[str, Any] = {"issue": issue, "description": description or ISSUES.get(issue, issue)}
            if field:
                detail.update(field=field, location="body")
            body["details"] = [detail]
            body["links"] = [{"href": f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue}",
                              "rel": "information_link", "method": "GET"}, *(links or [])]
        return Response(status, body, {"paypal-debug-id": debug_id})

    def _client(self, request: Request) -> str | Response:
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer "):
            return self._error(401, "AUTHENTICATION_FAILURE")
        entry = self.tokens.get(authorization[len("Bearer "):].strip())
        if entry is None:
            return Response(401, {"error": "invalid_token", "error_description": "Token signature verification failed"})
        client_id, expires_at = entry
        if expires_at < time.time():
            return Response(401, {"error": "invalid_token", "error_description": "Access Token not found in cache"})
        return client_id

    def _json_body(self, request: Request) -> dict[str, Any] | Response:
        try:
            body = request.json()
        except ValueError:
            return self._error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON",
                               description="The request JSON is not well formed.")
        if not isinstance(body, dict):
            return self._error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON",
                               description="The request JSON is not well formed.")
        return body

    def _replay(self, client_id: str, request: Request) -> tuple[tuple[str, str, str] | None, Response | None]:
        request_id = request.headers.get("paypal-request-id")
        if not request_id:
            return None, None
        key = (client_id, request.path, request_id)
        return key, self.replays.get(key)

    def _money(self, currency: str, value: Decimal) -> dict[str, str]:
        places = PRECISION.get(currency, 2)
        quantum = Decimal(1).scaleb(-places)
        return {"currency_code": currency, "value": str(value.quantize(quantum, rounding=ROUND_HALF_UP))}

    def _check_amount(self, amount: Any, field: str) -> tuple[str, Decimal] | Response:
        if not isinstance(amount, dict) or not amount.get("currency_code") or amount.get("value") in (None, ""):
            return self._error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", field=field)
        currency, raw = str(amount["currency_code"]), str(amount["value"])
        if currency not in self.currencies:
            return self._error(422, "UNPROCESSABLE_ENTITY", "CURRENCY_NOT_SUPPORTED", field=f"{field}/currency_code")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            return self._error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", field=f"{field}/value")
        exponent = int(value.as_tuple().exponent)
        if max(0, -exponent) > PRECISION.get(currency, 2):
            issue = "DECIMALS_NOT_SUPPORTED" if PRECISION.get(currency, 2) == 0 else "DECIMAL_PRECISION"
            return self._error(422, "UNPROCESSABLE_ENTITY", issue, field=f"{field}/value")
        if value <= 0:
            return self._error(422, "UNPROCESSABLE_ENTITY", "CANNOT_BE_ZERO_OR_NEGATIVE", field=f"{field}/value")
        return currency, value

    # OAuth2
    def oauth_token(self, request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        client_id = secret = None
        if authorization.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = None
        with self.lock:
            known = client_id is not None and client_id in self.clients
            if not known or not hmac.compare_digest(self.clients[client_id or ""], secret or ""):
                return Response(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
            grant = request.form().get("grant_type")
            if grant != "client_credentials":
                description = "Grant Type is NULL" if not grant else "unsupported_grant_type"
                return Response(400, {"error": "unsupported_grant_type", "error_description": description})
            token = "A21AA" + secrets.token_urlsafe(48)
            self.tokens[token] = (client_id or "", time.time() + self.token_ttl)
        return Response(200, {
            "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund "
                     "https://uri.paypal.com/services/applications/webhooks",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": self.token_ttl,
            "nonce": f"{_now()}{secrets.token_urlsafe(16)}",
        })

    # Orders v2
    def create_order(self, request: Request) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            key, replay = self._replay(client_id, request)
            if replay is not None:
                return replay
            body = self._json_body(request)
            if isinstance(body, Response):
                return body
            if body.get("intent") not in ("CAPTURE", "AUTHORIZE"):
                return self._error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", field="/intent")
            if body["intent"] != "CAPTURE":
                return self._error(422, "UNPROCESSABLE_ENTITY", "INVALID_PARAMETER_VALUE", field="/intent",
                                   description="This simulator creates CAPTURE orders only.")
            units = body.get("purchase_units")
            if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
                return self._error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", field="/purchase_units",
                                   description="This simulator takes exactly one purchase unit.")
            unit = units[0]
            checked = self._check_amount(unit.get("amount"), "/purchase_units/@reference_id=='default'/amount")
            if isinstance(checked, Response):
                return checked
            currency, value = checked
            experience = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
            context = experience if isinstance(experience, dict) else body.get("application_context") or {}
            order_id = _paypal_id()
            order: dict[str, Any] = {
                "id": order_id,
                "client_id": client_id,
                "intent": "CAPTURE",
                # With payment_source.paypal PayPal answers PAYER_ACTION_REQUIRED and a payer-action link;
                # with the legacy application_context, CREATED and an approve link.
                "status": "PAYER_ACTION_REQUIRED" if isinstance(experience, dict) else "CREATED",
                "reference_id": str(unit.get("reference_id") or "default"),
                "custom_id": unit.get("custom_id"),
                "invoice_id": unit.get("invoice_id"),
                "description": unit.get("description"),
                "currency": currency,
                "value": value,
                "return_url": context.get("return_url"),
                "cancel_url": context.get("cancel_url"),
                "payer": None,
                "decline": False,
                "captures": [],
                "refunds": [],
                "create_time": _now(),
                "update_time": _now(),
            }
            self.payments[order_id] = order
            view = self._order_view(order)
            if "return=representation" not in request.headers.get("prefer", ""):
                view = {k: view[k] for k in ("id", "status", "payment_source", "links") if k in view}
            response = Response(201, view)
            if key:
                self.replays[key] = response
            return response

    def show_order(self, request: Request, order_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            order = self.payments.get(order_id)
            if order is None or order["client_id"] != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="order_id",
                                   description="Specified resource ID does not exist. Please check the resource "
                                               "ID and try again.")
            return Response(200, self._order_view(order))

    def capture_order(self, request: Request, order_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            key, replay = self._replay(client_id, request)
            if replay is not None:
                return replay
            order = self.payments.get(order_id)
            if order is None or order["client_id"] != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="order_id",
                                   description="Specified resource ID does not exist. Please check the resource "
                                               "ID and try again.")
            mock = self._mock_code(request)
            if mock == "INTERNAL_SERVER_ERROR":
                return self._error(500, "INTERNAL_SERVER_ERROR")
            if order["status"] == "COMPLETED":
                return self._error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
            if order["status"] != "APPROVED":
                return self._error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
            if mock:
                if mock == "INSTRUMENT_DECLINED":
                    # The payer must pick another funding source: the order goes back to approval.
                    order["status"] = "PAYER_ACTION_REQUIRED"
                    return self._error(422, "UNPROCESSABLE_ENTITY", mock, links=[{
                        "href": f"{self.url}/checkoutnow?token={order_id}", "rel": "redirect", "method": "GET"}])
                return self._error(422, "UNPROCESSABLE_ENTITY", mock, description=ISSUES.get(mock, mock))
            capture_id = _paypal_id()
            status = "DECLINED" if order["decline"] else "COMPLETED"
            money = self._money(order["currency"], order["value"])
            fee = min(order["value"], (order["value"] * Decimal("0.0349") + Decimal("0.49")))
            self.captures[capture_id] = {
                "id": capture_id,
                "order_id": order_id,
                "client_id": client_id,
                "status": status,
                "currency": order["currency"],
                "value": order["value"],
                "fee": fee,
                "refunded": Decimal(0),
                "custom_id": order["custom_id"],
                "invoice_id": order["invoice_id"],
                "create_time": _now(),
                "update_time": _now(),
            }
            order["captures"].append(capture_id)
            order["status"] = "COMPLETED"
            order["update_time"] = _now()
            view = self._order_view(order)
            response = Response(201, view)
            if key:
                self.replays[key] = response
            capture = self._capture_view(self.captures[capture_id], standalone=True)
            if status == "COMPLETED":
                self._emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture, client_id,
                           f"Payment completed for {money['value']} {money['currency_code']}")
            else:
                self._emit("PAYMENT.CAPTURE.DENIED", "capture", capture, client_id,
                           f"Payment denied for {money['value']} {money['currency_code']}")
            return response

    @staticmethod
    def _mock_code(request: Request) -> str | None:
        raw = request.headers.get("paypal-mock-response")
        if not raw:
            return None
        try:
            code = json.loads(raw).get("mock_application_codes")
        except (ValueError, AttributeError):
            return None
        return str(code) if code else None

    # Payments v2
    def show_capture(self, request: Request, capture_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            capture = self.captures.get(capture_id)
            if capture is None or capture["client_id"] != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="capture_id",
                                   description="Specified resource ID does not exist. Please check the resource "
                                               "ID and try again.")
            return Response(200, self._capture_view(capture, standalone=True))

    def refund_capture(self, request: Request, capture_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            key, replay = self._replay(client_id, request)
            if replay is not None:
                return replay
            capture = self.captures.get(capture_id)
            if capture is None or capture["client_id"] != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="capture_id",
                                   description="Specified resource ID does not exist. Please check the resource "
                                               "ID and try again.")
            body = self._json_body(request) if request.body else {}
            if isinstance(body, Response):
                return body
            mock = self._mock_code(request)
            if mock:
                return self._error(422, "UNPROCESSABLE_ENTITY", mock, description=ISSUES.get(mock, mock))
            if capture["status"] == "REFUNDED":
                return self._error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
            if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
                return self._error(422, "UNPROCESSABLE_ENTITY", "TRANSACTION_REFUSED",
                                   description="The capture cannot be refunded in its current state.")
            remaining = capture["value"] - capture["refunded"]
            if body.get("amount") is None:
                value = remaining  # no amount: refund whatever is left
            else:
                amount = body["amount"]
                if isinstance(amount, dict) and amount.get("currency_code") not in (None, capture["currency"]):
                    return self._error(422, "UNPROCESSABLE_ENTITY", "REFUND_CAPTURE_CURRENCY_MISMATCH",
                                       field="/amount/currency_code")
                checked = self._check_amount(amount, "/amount")
                if isinstance(checked, Response):
                    return checked
                value = checked[1]
            if value > remaining:
                return self._error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
            refund_id = _paypal_id()
            capture["refunded"] += value
            capture["status"] = "REFUNDED" if capture["refunded"] >= capture["value"] else "PARTIALLY_REFUNDED"
            capture["update_time"] = _now()
            refund = {
                "id": refund_id,
                "capture_id": capture_id,
                "client_id": client_id,
                "status": "COMPLETED",
                "currency": capture["currency"],
                "value": value,
                "total_refunded": capture["refunded"],
                "note_to_payer": body.get("note_to_payer"),
                "custom_id": body.get("custom_id"),
                "invoice_id": body.get("invoice_id"),
                "create_time": _now(),
                "update_time": _now(),
            }
            self.refunds[refund_id] = refund
            self.payments[capture["order_id"]]["refunds"].append(refund_id)
            view = self._refund_view(refund)
            if "return=representation" not in request.headers.get("prefer", ""):
                view = {k: view[k] for k in ("id", "status", "links")}
            response = Response(201, view)
            if key:
                self.replays[key] = response
            money = self._money(refund["currency"], value)
            self._emit("PAYMENT.CAPTURE.REFUNDED", "refund", self._refund_view(refund), client_id,
                       f"A {money['value']} {money['currency_code']} capture payment was refunded")
            return response

    def show_refund(self, request: Request, refund_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            refund = self.refunds.get(refund_id)
            if refund is None or refund["client_id"] != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="refund_id",
                                   description="Specified resource ID does not exist. Please check the resource "
                                               "ID and try again.")
            return Response(200, self._refund_view(refund))

    # Webhooks API
    def create_webhook(self, request: Request) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            body = self._json_body(request)
            if isinstance(body, Response):
                return body
            url, types = body.get("url"), body.get("event_types")
            if not url or not isinstance(types, list) or not types:
                return self._error(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER",
                                   field="url" if not url else "event_types")
            if any(w["url"] == url and w["client_id"] == client_id for w in self.webhooks.values()):
                return self._error(400, "WEBHOOK_URL_ALREADY_EXISTS", "WEBHOOK_URL_ALREADY_EXISTS", field="url")
            names = tuple(str(t.get("name")) for t in types if isinstance(t, dict) and t.get("name"))
            webhook_id = self.add_webhook(url, client_id=client_id, event_types=names or ("*",))
            return Response(201, self._webhook_view(webhook_id))

    def list_webhooks(self, request: Request) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            mine = [self._webhook_view(i) for i, w in self.webhooks.items() if w["client_id"] in (None, client_id)]
            return Response(200, {"webhooks": mine})

    def delete_webhook(self, request: Request, webhook_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            if self.webhooks.get(webhook_id, {}).get("client_id", "-") != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="webhook_id")
            del self.webhooks[webhook_id]
            return Response(204, b"")

    def resend_event_route(self, request: Request, event_id: str) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            stored = self.events.get(event_id)
            if stored is None or stored["client_id"] != client_id:
                return self._error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", field="event_id")
            self._deliver(stored["event"], client_id)
            return Response(202, stored["event"])

    def show_cert(self, request: Request, cert_id: str) -> Response:
        if cert_id != self.cert_id:
            return self._error(404, "RESOURCE_NOT_FOUND")
        return Response(200, b"simulator: webhooks are signed with HMAC-SHA256; verify them through "
                             b"POST /v1/notifications/verify-webhook-signature\n")

    def verify_signature(self, request: Request) -> Response:
        with self.lock:
            client_id = self._client(request)
            if isinstance(client_id, Response):
                return client_id
            body = self._json_body(request)
            if isinstance(body, Response):
                return body
            required = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time",
                        "webhook_id", "webhook_event")
            missing = [name for name in required if not body.get(name)]
            if missing:
                return self._error(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", field=missing[0])
            try:
                event_text = _raw_member(request.body.decode("utf-8", "replace"), "webhook_event")
            except ValueError:
                event_text = None
            webhook = self.webhooks.get(str(body["webhook_id"]))
            ok = (
                event_text is not None
                and webhook is not None and webhook["client_id"] in (None, client_id)
                and body["auth_algo"] == AUTH_ALGO
                and body["cert_url"] == self._cert_url()
                and hmac.compare_digest(
                    str(body["transmission_sig"]),
                    self.transmission_signature(str(body["transmission_id"]), str(body["transmission_time"]),
                                                str(body["webhook_id"]), (event_text or "").encode()))
            )
            return Response(200, {"verification_status": "SUCCESS" if ok else "FAILURE"})

    # the payer's page
    def checkoutnow(self, request: Request) -> Response:
        params = {name: values[0] for name, values in request.query.items()}
        if request.method == "POST":
            params.update(request.form())
        token, outcome = params.get("token", ""), params.get("outcome")
        with self.lock:
            order = self.payments.get(token)
            if order is None:
                return Response(404, "<!doctype html><title>PayPal</title><p>This checkout session has expired.</p>")
            if not outcome:
                return Response(200, self._approval_page(order))
            if outcome not in ("approve", "cancel", "decline"):
                return Response(400, "<!doctype html><title>PayPal</title><p>Unknown outcome.</p>")
            if outcome == "cancel":
                target = order["cancel_url"] and _with_query(order["cancel_url"], token=order["id"])
            else:
                if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
                    self._approve(order, decline=outcome == "decline")
                payer_id = (order["payer"] or {}).get("payer_id", "")
                target = order["return_url"] and _with_query(order["return_url"], token=order["id"], PayerID=payer_id)
        if not target:
            return Response(200, "<!doctype html><title>PayPal</title><p>Done. You can close this window.</p>")
        return Response(302, "", {"location": target})

    def _approval_page(self, order: dict[str, Any]) -> str:
        money = self._money(order["currency"], order["value"])
        amount = html.escape(f"{money['value']} {money['currency_code']}")
        token = html.escape(order["id"])
        description = html.escape(order["description"] or "")
        status = html.escape(order["status"])
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayPal Checkout (simulator)</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto}}button{{font-size:1.1rem;margin:.3rem}}</style>
</head><body>
<h1>PayPal</h1>
<p>Pay <strong>{amount}</strong> to the merchant.</p>
<p>{description}</p>
<p>Order {token} ({status}). Logged in as sb-buyer@personal.example.com.</p>
<form method="get" action="/checkoutnow">
<input type="hidden" name="token" value="{token}">
<button type="submit" name="outcome" value="approve">Pay</button>
<button type="submit" name="outcome" value="cancel">Cancel</button>
<button type="submit" name="outcome" value="decline">Pay (funding declined)</button>
</form>
</body></html>"""

    def _approve(self, order: dict[str, Any], *, decline: bool) -> None:
        order["status"] = "APPROVED"
        order["decline"] = decline
        order["payer"] = order["payer"] or {
            "payer_id": _paypal_id(13),
            "email_address": "sb-buyer@personal.example.com",
            "name": {"given_name": "Test", "surname": "Buyer"},
            "address": {"country_code": "US"},
        }
        order["update_time"] = _now()
        money = self._money(order["currency"], order["value"])
        self._emit("CHECKOUT.ORDER.APPROVED", "checkout-order", self._order_view(order), order["client_id"],
                   f"An order has been approved by buyer for {money['value']} {money['currency_code']}")

    # representations
    def _order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        order_id = order["id"]
        base = f"{self.url}/v2/checkout/orders/{order_id}"
        links = [{"href": base, "rel": "self", "method": "GET"}]
        if order["status"] == "PAYER_ACTION_REQUIRED":
            links.append({"href": f"{self.url}/checkoutnow?token={order_id}", "rel": "payer-action", "method": "GET"})
        elif order["status"] == "CREATED":
            links += [{"href": f"{self.url}/checkoutnow?token={order_id}", "rel": "approve", "method": "GET"},
                      {"href": base, "rel": "update", "method": "PATCH"},
                      {"href": f"{base}/capture", "rel": "capture", "method": "POST"}]
        elif order["status"] == "APPROVED":
            links += [{"href": base, "rel": "update", "method": "PATCH"},
                      {"href": f"{base}/capture", "rel": "capture", "method": "POST"}]
        unit: dict[str, Any] = {
            "reference_id": order["reference_id"],
            "amount": self._money(order["currency"], order["value"]),
            "payee": {"email_address": "sb-merchant@business.example.com", "merchant_id": "C7CYMKZDG8D6E"},
        }
        for name in ("description", "custom_id", "invoice_id"):
            if order[name]:
                unit[name] = order[name]
        payments: dict[str, Any] = {}
        if order["captures"]:
            payments["captures"] = [self._capture_view(self.captures[c]) for c in order["captures"]]
        if order["refunds"]:
            payments["refunds"] = [self._refund_view(self.refunds[r]) for r in order["refunds"]]
        if payments:
            unit["payments"] = payments
        paypal: dict[str, Any] = {}
        view: dict[str, Any] = {"id": order_id, "intent": order["intent"], "status": order["status"]}
        if order["payer"]:
            payer = order["payer"]
            paypal = {"email_address": payer["email_address"], "account_id": payer["payer_id"],
                      "account_status": "VERIFIED", "name": payer["name"], "address": payer["address"]}
            view["payer"] = {"name": payer["name"], "email_address": payer["email_address"],
                             "payer_id": payer["payer_id"], "address": payer["address"]}
        view.update({"payment_source": {"paypal": paypal}, "purchase_units": [unit],
                     "create_time": order["create_time"], "update_time": order["update_time"], "links": links})
        return view

    def _capture_view(self, capture: dict[str, Any], *, standalone: bool = False) -> dict[str, Any]:
        currency, value, fee = capture["currency"], capture["value"], capture["fee"]
        base = f"{self.url}/v2/payments/captures/{capture['id']}"
        view: dict[str, Any] = {
            "id": capture["id"],
            "status": capture["status"],
            "amount": self._money(currency, value),
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE",
                                  "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]},
            "disbursement_mode": "INSTANT",
            "create_time": capture["create_time"],
            "update_time": capture["update_time"],
            "links": [{"href": base, "rel": "self", "method": "GET"},
                      {"href": f"{base}/refund", "rel": "refund", "method": "POST"},
                      {"href": f"{self.url}/v2/checkout/orders/{capture['order_id']}", "rel": "up", "method": "GET"}],
        }
        if capture["status"] != "DECLINED":
            view["seller_receivable_breakdown"] = {"gross_amount": self._money(currency, value),
                                                   "paypal_fee": self._money(currency, fee),
                                                   "net_amount": self._money(currency, value - fee)}
        for name in ("custom_id", "invoice_id"):
            if capture[name]:
                view[name] = capture[name]
        if standalone:  # captures shown on their own (and in webhooks) name their order
            view["supplementary_data"] = {"related_ids": {"order_id": capture["order_id"]}}
        return view

    def _refund_view(self, refund: dict[str, Any]) -> dict[str, Any]:
        currency, value = refund["currency"], refund["value"]
        view: dict[str, Any] = {
            "id": refund["id"],
            "amount": self._money(currency, value),
            "status": refund["status"],
            "seller_payable_breakdown": {"gross_amount": self._money(currency, value),
                                         "paypal_fee": self._money(currency, Decimal(0)),
                                         "net_amount": self._money(currency, value),
                                         "total_refunded_amount": self._money(currency, refund["total_refunded"])},
            "create_time": refund["create_time"],
            "update_time": refund["update_time"],
            "links": [{"href": f"{self.url}/v2/payments/refunds/{refund['id']}", "rel": "self", "method": "GET"},
                      {"href": f"{self.url}/v2/payments/captures/{refund['capture_id']}", "rel": "up",
                       "method": "GET"}],
        }
        for name in ("note_to_payer", "custom_id", "invoice_id"):
            if refund[name]:
                view[name] = refund[name]
        return view

    def _webhook_view(self, webhook_id: str) -> dict[str, Any]:
        webhook = self.webhooks[webhook_id]
        href = f"{self.url}/v1/notifications/webhooks/{webhook_id}"
        return {"id": webhook_id, "url": webhook["url"],
                "event_types": [{"name": name} for name in webhook["event_types"]],
                "links": [{"href": href, "rel": "self", "method": "GET"},
                          {"href": href, "rel": "update", "method": "PATCH"},
                          {"href": href, "rel": "delete", "method": "DELETE"}]}

    # webhooks out
    def _cert_url(self) -> str:
        return f"{self.url}/v1/notifications/certs/{self.cert_id}"

    def _emit(self, event_type: str, resource_type: str, resource: dict[str, Any], client_id: str,
              summary: str) -> dict[str, Any]:
        event_id = f"WH-{_paypal_id()}-{_paypal_id()}"
        href = f"{self.url}/v1/notifications/webhooks-events/{event_id}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [{"href": href, "rel": "self", "method": "GET"},
                      {"href": f"{href}/resend", "rel": "resend", "method": "POST"}],
        }
        self.events[event_id] = {"event": event, "client_id": client_id}
        self._deliver(event, client_id)
        return event

    def _deliver(self, event: dict[str, Any], client_id: str) -> None:
        body = json.dumps(event).encode()
        for webhook_id, webhook in list(self.webhooks.items()):
            if webhook["client_id"] not in (None, client_id):
                continue
            if "*" not in webhook["event_types"] and event["event_type"] not in webhook["event_types"]:
                continue
            transmission_id, transmission_time = str(uuid.uuid1()), _now()
            headers = {
                "content-type": "application/json",
                "paypal-transmission-id": transmission_id,
                "paypal-transmission-time": transmission_time,
                "paypal-cert-url": self._cert_url(),
                "paypal-auth-algo": AUTH_ALGO,
                "paypal-transmission-sig": self.transmission_signature(transmission_id, transmission_time,
                                                                       webhook_id, body),
                "correlation-id": secrets.token_hex(7),
                "user-agent": "PayPal/AUHD-214.0-58012578",
            }
            self.send_callback(webhook["url"], body, headers)

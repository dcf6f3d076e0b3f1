"""PayPal: Orders v2 (create → payer approves at PayPal → capture), Payments v2 refunds, and webhooks
verified with PayPal's own verification API.

Flow and the ids we keep:

* `create_payment` creates an order (`POST /v2/checkout/orders`, intent CAPTURE) and returns the
  **order id** as `gateway_payment_id`, with a redirect to the order's `payer-action` (or, for orders
  created with the legacy `application_context`, `approve`) link.
* After the payer approves (the browser comes back to `return_url?token=<order id>&PayerID=...`, or
  the `CHECKOUT.ORDER.APPROVED` webhook arrives; the order then reads AUTHORIZED here) the platform
  calls `confirm(order_id, data={})`, which captures the order (`POST .../capture`). The capture id
  is in `raw["capture_id"]` of what `confirm` and `fetch_payment` return.
* `refund(order_id, ...)` looks the capture up from the order and refunds it
  (`POST /v2/payments/captures/{capture_id}/refund`). A capture id is accepted as well: when no order
  has that id, it is taken to be a capture id.

Amounts cross PayPal as decimal strings in major units (`{"currency_code", "value"}`). PayPal's REST
currency list (developer.paypal.com/api/rest/reference/currency-codes/) has neither SAR, AED nor the
3-decimal Gulf currencies: the adapter sends whatever currency the payment has and turns PayPal's
`CURRENCY_NOT_SUPPORTED` into GatewayError("currency_not_supported", ...).

The OAuth2 bearer token (client credentials) is cached on the adapter instance until shortly before
it expires, and fetched again once when PayPal answers 401 (tokens can be revoked early).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx

from .base import (
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

# The headers PayPal sends with every webhook delivery; all five go to the verification API.
TRANSMISSION_HEADERS = {
    "transmission_id": "paypal-transmission-id",
    "transmission_time": "paypal-transmission-time",
    "cert_url": "paypal-cert-url",
    "auth_algo": "paypal-auth-algo",
    "transmission_sig": "paypal-transmission-sig",
}

CAPTURE_STATUSES = {
    "COMPLETED": GatewayStatus.SUCCEEDED,
    "PENDING": GatewayStatus.PENDING,
    "DECLINED": GatewayStatus.FAILED,
    "FAILED": GatewayStatus.FAILED,
    "REFUNDED": GatewayStatus.REFUNDED,
    "PARTIALLY_REFUNDED": GatewayStatus.PARTIALLY_REFUNDED,
}

REFUND_STATUSES = {"COMPLETED": GatewayStatus.SUCCEEDED, "PENDING": GatewayStatus.PENDING}


class PaypalGateway(Gateway):
    slug = "paypal"
    display_name = "PayPal"
    methods = frozenset({Method.PAYPAL})
    supports_partial_refunds = True
    credential_fields = ("client_id", "client_secret", "webhook_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()

    # payments
    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        if request.method != Method.PAYPAL:
            raise GatewayError("method_not_supported", f"PayPal does not take {request.method} payments.")
        unit: dict[str, Any] = {
            "reference_id": request.payment_id,
            "custom_id": request.payment_id,  # echoed on captures and their webhooks
            "amount": {"currency_code": request.currency, "value": to_major(request.amount, request.currency)},
        }
        if request.description:
            unit["description"] = request.description[:127]
        body = {
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": request.return_url,
                # We never trust the browser's way back, so both ways lead to the same page, which asks
                # the platform for the payment's state.
                "cancel_url": request.return_url,
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
            }}},
        }
        response = self._api("POST", "/v2/checkout/orders", json=body, headers={
            "PayPal-Request-Id": request.idempotency_key, "Prefer": "return=representation"})
        if response.status_code not in (200, 201):
            self._raise(response)
        order = self._json(response)
        return self._payment_from_order(order, fallback_amount=request.amount, fallback_currency=request.currency)

    def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        return self._payment_from_order(self._get_order(gateway_payment_id))

    def confirm(self, gateway_payment_id: str, *, data: dict[str, Any]) -> GatewayPayment:
        """Capture an approved order. `data` may carry `idempotency_key` (a fresh one per capture attempt,
        e.g. after the payer picked another funding source) and, in test mode only,
        `mock_application_codes` for PayPal's sandbox negative testing (`INSTRUMENT_DECLINED`...)."""
        headers = {
            "PayPal-Request-Id": str(data.get("idempotency_key") or f"capture-{gateway_payment_id}"),
            "Prefer": "return=representation",
        }
        mock = data.get("mock_application_codes")
        if mock and self.credentials.mode == "test":
            headers["PayPal-Mock-Response"] = json.dumps({"mock_application_codes": str(mock)})
        response = self._api("POST", f"/v2/checkout/orders/{_segment(gateway_payment_id)}/capture",
                             json={}, headers=headers)
        if response.status_code in (200, 201):
            return self._payment_from_order(self._json(response))
        error = _error(response)
        if error.code == "order_already_captured":  # a retried confirm: report what the first one did
            return self.fetch_payment(gateway_payment_id)
        raise error

    def refund(self, gateway_payment_id: str, *, amount: int, currency: str, idempotency_key: str,
               reason: str = "") -> GatewayRefund:
        capture_id = self._capture_id(gateway_payment_id)
        body: dict[str, Any] = {"amount": {"currency_code": currency, "value": to_major(amount, currency)}}
        if reason:
            body["note_to_payer"] = reason[:255]
        response = self._api("POST", f"/v2/payments/captures/{_segment(capture_id)}/refund", json=body, headers={
            "PayPal-Request-Id": idempotency_key, "Prefer": "return=representation"})
        if response.status_code not in (200, 201):
            self._raise(response)
        refund = self._json(response)
        money = refund.get("amount") or {}
        refunded = _minor(money, currency) if money.get("value") is not None else amount
        return GatewayRefund(
            gateway_refund_id=str(refund.get("id", "")),
            status=REFUND_STATUSES.get(str(refund.get("status")), GatewayStatus.FAILED),
            amount=refunded,
            raw={**refund, "capture_id": capture_id},
        )

    # webhooks
    def parse_callback(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        lowered = {name.lower(): value for name, value in headers.items()}
        transmission = {field: (lowered.get(header) or "").strip() for field, header in TRANSMISSION_HEADERS.items()}
        missing = [TRANSMISSION_HEADERS[field] for field, value in transmission.items() if not value]
        if missing:
            raise InvalidCallback(f"PayPal webhook without {', '.join(missing)}")
        webhook_id = self.credentials.values.get("webhook_id", "")
        if not webhook_id:
            raise InvalidCallback("No PayPal webhook_id is configured: the webhook cannot be verified.")
        try:
            text = body.decode("utf-8")
            event = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidCallback("PayPal webhook body is not JSON") from exc
        if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
            raise InvalidCallback("PayPal webhook body is not an event")

        # PayPal checks the signature over the CRC32 of the event exactly as it was sent, so the event
        # goes back byte for byte: re-serialising it (key order, spacing, number formats) can turn a
        # genuine delivery into a FAILURE.
        fields = {**transmission, "webhook_id": webhook_id}
        payload = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in fields.items())
        payload += ',"webhook_event":' + text + "}"
        response = self._api("POST", "/v1/notifications/verify-webhook-signature", content=payload.encode(),
                             headers={"Content-Type": "application/json"})
        if response.status_code in (400, 422):  # headers PayPal cannot even parse
            raise InvalidCallback(f"PayPal rejected the verification request: {_error(response)}")
        if response.status_code != 200:
            self._raise(response)
        if self._json(response).get("verification_status") != "SUCCESS":
            raise InvalidCallback("PayPal did not verify the webhook signature")
        return self._event(event)

    def _event(self, event: dict[str, Any]) -> WebhookEvent:
        kind = event.get("resource_type")
        resource = event.get("resource") or {}
        if not isinstance(resource, dict):
            raise GatewayError("unsupported_event", "PayPal event without a resource", raw=event)
        dedupe_key = str(event["id"])  # stable across PayPal's retries and resends of one event
        if kind == "checkout-order":
            payment = self._payment_from_order(resource)
            unit = _unit(resource)
            return WebhookEvent(dedupe_key=dedupe_key, gateway_payment_id=payment.gateway_payment_id,
                                status=payment.status, amount=payment.amount,
                                refunded_amount=payment.refunded_amount,
                                payment_id=unit.get("custom_id") or unit.get("reference_id"), raw=event)
        if kind == "capture":
            if not resource.get("id"):
                raise GatewayError("unsupported_event", "PayPal capture event without a capture id", raw=event)
            order_id = _order_id_of_capture(resource) or _order_id_of_capture(self._get_capture(resource["id"]))
            currency = (resource.get("amount") or {}).get("currency_code", "")
            return WebhookEvent(dedupe_key=dedupe_key, gateway_payment_id=order_id,
                                status=CAPTURE_STATUSES.get(str(resource.get("status")), GatewayStatus.PENDING),
                                amount=_minor(resource.get("amount") or {}, currency),
                                payment_id=resource.get("custom_id"), raw=event)
        if kind == "refund":
            # A refund names its capture only in its `up` link; the capture names the order and says
            # whether it is now refunded in full or in part.
            capture_id = _link_id(resource, "up", "/v2/payments/captures/")
            if not capture_id:
                raise GatewayError("unsupported_event", "PayPal refund event without its capture", raw=event)
            capture = self._get_capture(capture_id)
            money = capture.get("amount") or {}
            currency = money.get("currency_code", "")
            amount = _minor(money, currency)
            total = (resource.get("seller_payable_breakdown") or {}).get("total_refunded_amount")
            refunded: int | None
            if total:  # as of this refund, which the capture's current status may have moved past
                refunded = so_far = _minor(total, currency)
                status = GatewayStatus.REFUNDED if so_far >= amount else GatewayStatus.PARTIALLY_REFUNDED
            else:
                status = CAPTURE_STATUSES.get(str(capture.get("status")), GatewayStatus.PARTIALLY_REFUNDED)
                refunded = amount if status == GatewayStatus.REFUNDED else None
            return WebhookEvent(dedupe_key=dedupe_key, gateway_payment_id=_order_id_of_capture(capture),
                                status=status, amount=amount, refunded_amount=refunded,
                                payment_id=capture.get("custom_id") or resource.get("custom_id"), raw=event)
        raise GatewayError("unsupported_event", f"PayPal event {event.get('event_type')} is not handled", raw=event)

    # PayPal's answers, normalised
    def _payment_from_order(self, order: dict[str, Any], *, fallback_amount: int = 0,
                            fallback_currency: str = "") -> GatewayPayment:
        unit = _unit(order)
        payments = unit.get("payments") or {}
        captures = [c for c in payments.get("captures") or [] if isinstance(c, dict)]
        capture = captures[-1] if captures else None
        money = unit.get("amount") or (capture or {}).get("amount") or {}
        currency = money.get("currency_code") or fallback_currency
        amount = _minor(money, currency) if money.get("value") is not None else fallback_amount
        refunded = sum(_minor(r.get("amount") or {}, currency) for r in payments.get("refunds") or []
                       if isinstance(r, dict) and r.get("status") == "COMPLETED")

        order_status = str(order.get("status", ""))
        next_action = NextAction("none")
        failure_code = failure_message = ""
        if order_status == "COMPLETED" and capture is not None:
            status = CAPTURE_STATUSES.get(str(capture.get("status")), GatewayStatus.PENDING)
            if status == GatewayStatus.FAILED:
                failure_code = "capture_declined"
                failure_message = "PayPal declined the capture of this payment."
        elif order_status == "COMPLETED":
            status = GatewayStatus.AUTHORIZED  # an AUTHORIZE-intent order; we never create those
        elif order_status == "APPROVED":
            status = GatewayStatus.AUTHORIZED  # approved by the payer, waiting for our capture (confirm)
        elif order_status in ("CREATED", "PAYER_ACTION_REQUIRED", "SAVED"):
            status = GatewayStatus.REQUIRES_ACTION
            url = _link(order, "payer-action") or _link(order, "approve")
            if url:
                next_action = NextAction("redirect", url=url)
        elif order_status == "VOIDED":
            status = GatewayStatus.FAILED
            failure_code, failure_message = "voided", "The PayPal order was voided."
        else:
            status = GatewayStatus.PENDING
        raw = dict(order)
        if capture is not None:
            raw["capture_id"] = capture.get("id")
        return GatewayPayment(
            gateway_payment_id=str(order.get("id", "")),
            status=status,
            amount=amount,
            currency=currency,
            next_action=next_action,
            refunded_amount=refunded,
            failure_code=failure_code,
            failure_message=failure_message,
            raw=raw,
        )

    def _get_order(self, order_id: str) -> dict[str, Any]:
        response = self._api("GET", f"/v2/checkout/orders/{_segment(order_id)}")
        if response.status_code != 200:
            self._raise(response)
        return self._json(response)

    def _get_capture(self, capture_id: str) -> dict[str, Any]:
        response = self._api("GET", f"/v2/payments/captures/{_segment(capture_id)}")
        if response.status_code != 200:
            self._raise(response)
        return self._json(response)

    def _capture_id(self, gateway_payment_id: str) -> str:
        """The capture to refund for an order id (or the id itself when it is a capture id)."""
        response = self._api("GET", f"/v2/checkout/orders/{_segment(gateway_payment_id)}")
        if response.status_code == 404:
            return gateway_payment_id
        if response.status_code != 200:
            self._raise(response)
        captures = [c for c in (_unit(self._json(response)).get("payments") or {}).get("captures") or []
                    if isinstance(c, dict) and c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")]
        if not captures:
            raise GatewayError("not_captured", "This PayPal order has no captured payment to refund.")
        return str(captures[-1]["id"])

    # HTTP
    def _access_token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if self._token and not renew and time.monotonic() < self._token_expires_at:
                return self._token
            client_id = self.credentials.values.get("client_id", "")
            secret = self.credentials.values.get("client_secret", "")
            if not client_id or not secret:
                raise GatewayError("invalid_credentials", "PayPal needs a client_id and a client_secret.")
            response = self._request("POST", "/v1/oauth2/token", auth=(client_id, secret),
                                     data={"grant_type": "client_credentials"}, headers={"Accept": "application/json"})
            if response.status_code != 200:
                self._raise(response)
            body = self._json(response)
            token = body.get("access_token")
            if not token:
                raise GatewayError("invalid_response", "PayPal returned no access token.", raw=body)
            expires_in = float(body.get("expires_in") or 0)
            # Renew a little early so that no request leaves with a token that dies on the way.
            self._token = str(token)
            self._token_expires_at = time.monotonic() + expires_in - min(60.0, expires_in / 10)
            return self._token

    def _api(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        for attempt in range(2):
            token = self._access_token(renew=attempt > 0)
            response = self._request(method, path, headers={
                "Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}, **kwargs)
            if response.status_code != 401:
                break
            # PayPal may revoke a token before its expires_in; one fresh token, then give up.
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise GatewayError("invalid_response", f"PayPal answered HTTP {response.status_code} without JSON.") from exc
        if not isinstance(body, dict):
            raise GatewayError("invalid_response", "PayPal answered with an unexpected body.")
        return body

    @staticmethod
    def _raise(response: httpx.Response) -> None:
        raise _error(response)


def _error(response: httpx.Response) -> GatewayError:
    """PayPal's error shapes: REST `{"name", "message", "details": [{"issue", "description"}]}` and OAuth
    `{"error", "error_description"}`. The code is the most specific one, lower-cased."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    details = [d for d in body.get("details") or [] if isinstance(d, dict)]
    issue = details[0].get("issue") if details else None
    code = issue or body.get("name") or body.get("error") or f"http_{response.status_code}"
    message = ((details[0].get("description") if issue else None) or body.get("message")
               or body.get("error_description") or f"PayPal answered HTTP {response.status_code}.")
    return GatewayError(str(code).lower(), str(message), raw=body)


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _minor(money: dict[str, Any] | Any, currency: str) -> int:
    if not isinstance(money, dict) or money.get("value") is None:
        return 0
    currency = money.get("currency_code") or currency
    try:
        return to_minor(money["value"], currency)
    except (KeyError, ArithmeticError, ValueError) as exc:
        raise GatewayError("invalid_response", f"PayPal amount {money!r} cannot be read.") from exc


def _unit(order: dict[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units") or [{}]
    return units[0] if isinstance(units[0], dict) else {}


def _link(resource: dict[str, Any], rel: str) -> str | None:
    for link in resource.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == rel and link.get("href"):
            return str(link["href"])
    return None


def _link_id(resource: dict[str, Any], rel: str, marker: str) -> str | None:
    href = _link(resource, rel)
    if href and marker in href:
        return href.split(marker, 1)[1].split("/")[0].split("?")[0] or None
    return None


def _order_id_of_capture(capture: dict[str, Any]) -> str:
    related = ((capture.get("supplementary_data") or {}).get("related_ids") or {})
    return str(related.get("order_id") or _link_id(capture, "up", "/v2/checkout/orders/") or "")

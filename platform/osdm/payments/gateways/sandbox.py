"""The sandbox gateway: a hosted payment page with "Pay" and "Decline", for demos and for trying a
storefront end to end without any real gateway. Every method routes to it.

API (served by `simulators.sandbox`): bearer secret key; integer minor units;
`POST /v1/payments` (`Idempotency-Key` header) → `{"id", "status": "requires_action", "checkout_url"}`;
`GET /v1/payments/{id}`; `POST /v1/payments/{id}/refunds` → `{"id", "status", "amount"}`.
Callbacks: JSON `{"id", "type": "payment.updated", "data": <payment>}` signed with
`X-Sandbox-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json

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
)

_STATUS = {"requires_action": GatewayStatus.REQUIRES_ACTION, "paid": GatewayStatus.SUCCEEDED,
           "failed": GatewayStatus.FAILED, "refunded": GatewayStatus.REFUNDED,
           "partially_refunded": GatewayStatus.PARTIALLY_REFUNDED}


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxGateway(Gateway):
    slug = "sandbox"
    display_name = "Sandbox"
    methods = frozenset(Method)
    credential_fields = ("secret_key", "webhook_secret")

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.credentials.values.get('secret_key', '')}"}
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        return headers

    def _payment(self, data: dict) -> GatewayPayment:
        status = _STATUS.get(data.get("status"), GatewayStatus.PENDING)
        action = NextAction("redirect", url=data["checkout_url"]) if status == GatewayStatus.REQUIRES_ACTION \
            else NextAction("none")
        return GatewayPayment(gateway_payment_id=data["id"], status=status, amount=data["amount"],
                              currency=data["currency"], next_action=action,
                              refunded_amount=data.get("refunded", 0),
                              failure_code=data.get("failure_code", ""), failure_message=data.get("failure_message", ""),
                              raw=data)

    def _check(self, response) -> dict:
        data = response.json()
        if response.status_code >= 400:
            raise GatewayError(data.get("code", "invalid_request"), data.get("message", "rejected"), raw=data)
        return data

    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        body = {"amount": request.amount, "currency": request.currency, "method": request.method.value,
                "description": request.description, "return_url": request.return_url,
                "callback_url": request.callback_url, "metadata": {**request.metadata, "payment_id": request.payment_id}}
        response = self._request("POST", "/v1/payments", json=body, headers=self._headers(request.idempotency_key))
        return self._payment(self._check(response))

    def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        return self._payment(self._check(self._request("GET", f"/v1/payments/{gateway_payment_id}",
                                                       headers=self._headers())))

    def refund(self, gateway_payment_id: str, *, amount: int, currency: str, idempotency_key: str,
               reason: str = "") -> GatewayRefund:
        response = self._request("POST", f"/v1/payments/{gateway_payment_id}/refunds",
                                 json={"amount": amount, "reason": reason}, headers=self._headers(idempotency_key))
        data = self._check(response)
        return GatewayRefund(gateway_refund_id=data["id"], status=GatewayStatus.SUCCEEDED, amount=data["amount"],
                             raw=data)

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        secret = self.credentials.values.get("webhook_secret", "")
        given = {k.lower(): v for k, v in headers.items()}.get("x-sandbox-signature", "")
        if not secret or not given or not hmac.compare_digest(given, sign(body, secret)):
            raise InvalidCallback("bad or missing X-Sandbox-Signature")
        try:
            event = json.loads(body)
            payment = event["data"]
            return WebhookEvent(dedupe_key=event["id"], gateway_payment_id=payment["id"],
                                status=_STATUS.get(payment["status"], GatewayStatus.PENDING), amount=payment["amount"],
                                refunded_amount=payment.get("refunded", 0),
                                payment_id=payment.get("metadata", {}).get("payment_id"), raw=event,
                                failure_code=payment.get("failure_code", ""),
                                failure_message=payment.get("failure_message", ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidCallback("malformed callback") from exc

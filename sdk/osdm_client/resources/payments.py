"""`client.payments`: process an order's payment through the marketplace's gateways, confirm an OTP,
sync with the gateway, refund (`client.payments.refunds`).

    payment = client.payments.process(order.payment.id, method="mada", return_url="https://shop/return")
    if payment.status == "requires_action":
        redirect_the_buyer_to(payment.next_action["url"])
"""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import Any

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Payment, Refund

__all__ = ["AsyncPaymentRefunds", "AsyncPayments", "PaymentRefunds", "Payments"]

PATH = "/api/v1/payments/"


def _one(payment_id: str, action: str = "") -> str:
    return f"{PATH}{segment(payment_id)}/{action}"


class PaymentRefunds(SyncAPIResource):
    def list(self, payment_id: str) -> builtins.list[Refund]:
        """A payment's refunds (not paginated)."""
        return self._client.get_list(_one(payment_id, "refunds"), Refund)

    def create(self, payment_id: str, *, amount: int | NotGiven = NOT_GIVEN,
               reason: str | NotGiven = NOT_GIVEN) -> Refund:
        """Refund a succeeded payment (operator), whole or `amount` minor units of it."""
        return self._client.post(_one(payment_id, "refunds"), Refund, body={"amount": amount, "reason": reason})


class Payments(SyncAPIResource):
    @cached_property
    def refunds(self) -> PaymentRefunds:
        return PaymentRefunds(self._client)

    def list(self, *, order: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Payment]:
        """Your payments (all of them, for the operator), of one `order` or in one `status`."""
        return self._client.get_page(PATH, Payment, params={"order": order, "status": status, "limit": limit})

    def retrieve(self, payment_id: str) -> Payment:
        return self._client.get(_one(payment_id), Payment)

    def process(self, payment_id: str, *, method: str, return_url: str, gateway: str | NotGiven = NOT_GIVEN,
                source: dict[str, Any] | NotGiven = NOT_GIVEN) -> Payment:
        """Charge a pending payment (the buyer) with `method` (`mada`, `visa`, `mastercard`, `applepay`,
        `googlepay`, `stcpay`, `paypal`) through the gateway the marketplace routes it to (or `gateway`).
        `source` carries a card token or card fields, or an STC Pay `mobile`. The result is often
        `requires_action`: send the buyer to `next_action["url"]`; they come back to `return_url`."""
        return self._client.post(_one(payment_id, "process"), Payment, body={
            "method": method, "return_url": return_url, "gateway": gateway, "source": source})

    def confirm(self, payment_id: str, *, otp: str | NotGiven = NOT_GIVEN) -> Payment:
        """Finish a payment that waits for the buyer (an STC Pay OTP, say)."""
        return self._client.post(_one(payment_id, "confirm"), Payment, body={"otp": otp})

    def sync(self, payment_id: str) -> Payment:
        """Ask the gateway for the payment's status now (instead of waiting for its callback)."""
        return self._client.post(_one(payment_id, "sync"), Payment)


class AsyncPaymentRefunds(AsyncAPIResource):
    async def list(self, payment_id: str) -> builtins.list[Refund]:
        """A payment's refunds (not paginated)."""
        return await self._client.get_list(_one(payment_id, "refunds"), Refund)

    async def create(self, payment_id: str, *, amount: int | NotGiven = NOT_GIVEN,
                     reason: str | NotGiven = NOT_GIVEN) -> Refund:
        """Refund a succeeded payment (operator), whole or `amount` minor units of it."""
        return await self._client.post(_one(payment_id, "refunds"), Refund, body={"amount": amount, "reason": reason})


class AsyncPayments(AsyncAPIResource):
    @cached_property
    def refunds(self) -> AsyncPaymentRefunds:
        return AsyncPaymentRefunds(self._client)

    def list(self, *, order: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Payment]:
        """Your payments (all of them, for the operator), of one `order` or in one `status`."""
        return self._client.get_page(PATH, Payment, params={"order": order, "status": status, "limit": limit})

    async def retrieve(self, payment_id: str) -> Payment:
        return await self._client.get(_one(payment_id), Payment)

    async def process(self, payment_id: str, *, method: str, return_url: str, gateway: str | NotGiven = NOT_GIVEN,
                      source: dict[str, Any] | NotGiven = NOT_GIVEN) -> Payment:
        """Charge a pending payment (the buyer) with `method` (`mada`, `visa`, `mastercard`, `applepay`,
        `googlepay`, `stcpay`, `paypal`) through the gateway the marketplace routes it to (or `gateway`).
        `source` carries a card token or card fields, or an STC Pay `mobile`. The result is often
        `requires_action`: send the buyer to `next_action["url"]`; they come back to `return_url`."""
        return await self._client.post(_one(payment_id, "process"), Payment, body={
            "method": method, "return_url": return_url, "gateway": gateway, "source": source})

    async def confirm(self, payment_id: str, *, otp: str | NotGiven = NOT_GIVEN) -> Payment:
        """Finish a payment that waits for the buyer (an STC Pay OTP, say)."""
        return await self._client.post(_one(payment_id, "confirm"), Payment, body={"otp": otp})

    async def sync(self, payment_id: str) -> Payment:
        """Ask the gateway for the payment's status now (instead of waiting for its callback)."""
        return await self._client.post(_one(payment_id, "sync"), Payment)

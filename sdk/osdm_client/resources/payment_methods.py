"""`client.payment_methods` (operator): which gateway takes each payment method, and its fallback."""

from __future__ import annotations

import builtins

from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import MethodRoute

__all__ = ["AsyncPaymentMethods", "PaymentMethods"]

PATH = "/api/v1/payment-methods/"


class PaymentMethods(SyncAPIResource):
    def list(self) -> builtins.list[MethodRoute]:
        return self._client.get_list(PATH, MethodRoute)

    def route(self, method: str, *, gateway: str, fallback_gateway: str | NotGiven = NOT_GIVEN) -> MethodRoute:
        """Send `method` (`mada`, `visa`, ...) to `gateway`, and to `fallback_gateway` when it is down."""
        return self._client.put(f"{PATH}{segment(method)}", MethodRoute, body={
            "gateway": gateway, "fallback_gateway": fallback_gateway})


class AsyncPaymentMethods(AsyncAPIResource):
    async def list(self) -> builtins.list[MethodRoute]:
        return await self._client.get_list(PATH, MethodRoute)

    async def route(self, method: str, *, gateway: str, fallback_gateway: str | NotGiven = NOT_GIVEN) -> MethodRoute:
        """Send `method` (`mada`, `visa`, ...) to `gateway`, and to `fallback_gateway` when it is down."""
        return await self._client.put(f"{PATH}{segment(method)}", MethodRoute, body={
            "gateway": gateway, "fallback_gateway": fallback_gateway})

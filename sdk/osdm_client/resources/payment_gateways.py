"""`client.payment_gateways` (operator): the gateways this marketplace takes payments through, their
mode and credentials (write-only)."""

from __future__ import annotations

import builtins

from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import GatewayConfig

__all__ = ["AsyncPaymentGateways", "PaymentGateways"]

PATH = "/api/v1/payment-gateways/"


class PaymentGateways(SyncAPIResource):
    def list(self) -> builtins.list[GatewayConfig]:
        """Every gateway the platform supports, configured or not."""
        return self._client.get_list(PATH, GatewayConfig)

    def configure(self, gateway: str, *, enabled: bool | NotGiven = NOT_GIVEN, mode: str | NotGiven = NOT_GIVEN,
                  base_url: str | NotGiven = NOT_GIVEN,
                  credentials: dict[str, str] | NotGiven = NOT_GIVEN) -> GatewayConfig:
        """Configure a gateway: `mode` `test` or `live`, `credentials` by the names in
        `credential_fields` (kept encrypted, never shown again), `base_url` to override its API's."""
        return self._client.put(f"{PATH}{segment(gateway)}", GatewayConfig, body={
            "enabled": enabled, "mode": mode, "base_url": base_url, "credentials": credentials})


class AsyncPaymentGateways(AsyncAPIResource):
    async def list(self) -> builtins.list[GatewayConfig]:
        """Every gateway the platform supports, configured or not."""
        return await self._client.get_list(PATH, GatewayConfig)

    async def configure(self, gateway: str, *, enabled: bool | NotGiven = NOT_GIVEN, mode: str | NotGiven = NOT_GIVEN,
                        base_url: str | NotGiven = NOT_GIVEN,
                        credentials: dict[str, str] | NotGiven = NOT_GIVEN) -> GatewayConfig:
        """Configure a gateway: `mode` `test` or `live`, `credentials` by the names in
        `credential_fields` (kept encrypted, never shown again), `base_url` to override its API's."""
        return await self._client.put(f"{PATH}{segment(gateway)}", GatewayConfig, body={
            "enabled": enabled, "mode": mode, "base_url": base_url, "credentials": credentials})

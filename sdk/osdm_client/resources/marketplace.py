"""`client.marketplace`: the marketplace's public settings and branding (no credentials needed)."""

from __future__ import annotations

from .._resource import AsyncAPIResource, SyncAPIResource
from ..types import Marketplace

__all__ = ["AsyncMarketplaceResource", "MarketplaceResource"]

PATH = "/api/v1/marketplace"


class MarketplaceResource(SyncAPIResource):
    def retrieve(self) -> Marketplace:
        return self._client.get(PATH, Marketplace)


class AsyncMarketplaceResource(AsyncAPIResource):
    async def retrieve(self) -> Marketplace:
        return await self._client.get(PATH, Marketplace)

"""`client.webhook_deliveries` (operator): send one delivery again (same `webhook-id`, fresh retry
schedule). List deliveries with `client.webhook_endpoints.deliveries.list(endpoint_id)`."""

from __future__ import annotations

from .._resource import AsyncAPIResource, SyncAPIResource, segment
from ..types import WebhookDelivery

__all__ = ["AsyncWebhookDeliveries", "WebhookDeliveries"]


class WebhookDeliveries(SyncAPIResource):
    def redeliver(self, delivery_id: int) -> WebhookDelivery:
        return self._client.post(f"/api/v1/webhook-deliveries/{segment(delivery_id)}/redeliver", WebhookDelivery)


class AsyncWebhookDeliveries(AsyncAPIResource):
    async def redeliver(self, delivery_id: int) -> WebhookDelivery:
        return await self._client.post(f"/api/v1/webhook-deliveries/{segment(delivery_id)}/redeliver",
                                       WebhookDelivery)

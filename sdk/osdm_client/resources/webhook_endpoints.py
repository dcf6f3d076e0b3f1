"""`client.webhook_endpoints` (operator): where events are delivered, their signing secrets, their
delivery log (`client.webhook_endpoints.deliveries`) and redelivery."""

from __future__ import annotations

import builtins
from datetime import datetime
from functools import cached_property

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import (
    Event,
    RedeliverFailedResult,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
    parse_event,
)

__all__ = ["AsyncWebhookEndpointDeliveries", "AsyncWebhookEndpoints", "WebhookEndpointDeliveries",
           "WebhookEndpoints"]

PATH = "/api/v1/webhook-endpoints/"


def _one(endpoint_id: str, action: str = "") -> str:
    return f"{PATH}{segment(endpoint_id)}/{action}"


class WebhookEndpointDeliveries(SyncAPIResource):
    def list(self, endpoint_id: str, *, status: str | NotGiven = NOT_GIVEN, event_type: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[WebhookDelivery]:
        """An endpoint's deliveries with every attempt; `status` is `pending`, `succeeded` or `failed`."""
        return self._client.get_page(_one(endpoint_id, "deliveries/"), WebhookDelivery,
                                     params={"status": status, "event_type": event_type, "limit": limit})


class WebhookEndpoints(SyncAPIResource):
    @cached_property
    def deliveries(self) -> WebhookEndpointDeliveries:
        return WebhookEndpointDeliveries(self._client)

    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[WebhookEndpoint]:
        return self._client.get_page(PATH, WebhookEndpoint, params={"limit": limit})

    def create(self, *, url: str, event_types: builtins.list[str] | NotGiven = NOT_GIVEN,
               description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN
               ) -> WebhookEndpointWithSecret:
        """Add an endpoint; `event_types` empty or not given means every type. The result holds the
        signing secret."""
        return self._client.post(PATH, WebhookEndpointWithSecret, body={
            "url": url, "event_types": event_types, "description": description, "enabled": enabled})

    def retrieve(self, endpoint_id: str) -> WebhookEndpoint:
        return self._client.get(_one(endpoint_id), WebhookEndpoint)

    def update(self, endpoint_id: str, *, url: str | NotGiven = NOT_GIVEN,
               event_types: builtins.list[str] | NotGiven = NOT_GIVEN, description: str | NotGiven = NOT_GIVEN,
               enabled: bool | NotGiven = NOT_GIVEN) -> WebhookEndpoint:
        """Change an endpoint; `enabled=True` re-enables a disabled one."""
        return self._client.patch(_one(endpoint_id), WebhookEndpoint, body={
            "url": url, "event_types": event_types, "description": description, "enabled": enabled})

    def delete(self, endpoint_id: str) -> None:
        self._client.delete(_one(endpoint_id))

    def secret(self, endpoint_id: str) -> WebhookEndpointWithSecret:
        """The endpoint with its current signing secret."""
        return self._client.get(_one(endpoint_id, "secret"), WebhookEndpointWithSecret)

    def rotate_secret(self, endpoint_id: str, *, grace_hours: int | NotGiven = NOT_GIVEN
                      ) -> WebhookEndpointWithSecret:
        """A new signing secret; for `grace_hours` (default 24) deliveries are signed with both."""
        return self._client.post(_one(endpoint_id, "rotate-secret"), WebhookEndpointWithSecret,
                                 body={"grace_hours": grace_hours})

    def test(self, endpoint_id: str) -> Event:
        """Send a `ping` event to the endpoint; returns the event."""
        return self._client.post(_one(endpoint_id, "test"), parse_event)

    def redeliver_failed(self, endpoint_id: str, *, since: datetime | str) -> RedeliverFailedResult:
        """Redeliver every failed delivery of this endpoint since a time."""
        return self._client.post(_one(endpoint_id, "redeliver-failed"), RedeliverFailedResult,
                                 body={"since": since})


class AsyncWebhookEndpointDeliveries(AsyncAPIResource):
    def list(self, endpoint_id: str, *, status: str | NotGiven = NOT_GIVEN, event_type: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[WebhookDelivery]:
        """An endpoint's deliveries with every attempt; `status` is `pending`, `succeeded` or `failed`."""
        return self._client.get_page(_one(endpoint_id, "deliveries/"), WebhookDelivery,
                                     params={"status": status, "event_type": event_type, "limit": limit})


class AsyncWebhookEndpoints(AsyncAPIResource):
    @cached_property
    def deliveries(self) -> AsyncWebhookEndpointDeliveries:
        return AsyncWebhookEndpointDeliveries(self._client)

    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[WebhookEndpoint]:
        return self._client.get_page(PATH, WebhookEndpoint, params={"limit": limit})

    async def create(self, *, url: str, event_types: builtins.list[str] | NotGiven = NOT_GIVEN,
                     description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN
                     ) -> WebhookEndpointWithSecret:
        """Add an endpoint; `event_types` empty or not given means every type. The result holds the
        signing secret."""
        return await self._client.post(PATH, WebhookEndpointWithSecret, body={
            "url": url, "event_types": event_types, "description": description, "enabled": enabled})

    async def retrieve(self, endpoint_id: str) -> WebhookEndpoint:
        return await self._client.get(_one(endpoint_id), WebhookEndpoint)

    async def update(self, endpoint_id: str, *, url: str | NotGiven = NOT_GIVEN,
                     event_types: builtins.list[str] | NotGiven = NOT_GIVEN,
                     description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN
                     ) -> WebhookEndpoint:
        """Change an endpoint; `enabled=True` re-enables a disabled one."""
        return await self._client.patch(_one(endpoint_id), WebhookEndpoint, body={
            "url": url, "event_types": event_types, "description": description, "enabled": enabled})

    async def delete(self, endpoint_id: str) -> None:
        await self._client.delete(_one(endpoint_id))

    async def secret(self, endpoint_id: str) -> WebhookEndpointWithSecret:
        """The endpoint with its current signing secret."""
        return await self._client.get(_one(endpoint_id, "secret"), WebhookEndpointWithSecret)

    async def rotate_secret(self, endpoint_id: str, *, grace_hours: int | NotGiven = NOT_GIVEN
                            ) -> WebhookEndpointWithSecret:
        """A new signing secret; for `grace_hours` (default 24) deliveries are signed with both."""
        return await self._client.post(_one(endpoint_id, "rotate-secret"), WebhookEndpointWithSecret,
                                       body={"grace_hours": grace_hours})

    async def test(self, endpoint_id: str) -> Event:
        """Send a `ping` event to the endpoint; returns the event."""
        return await self._client.post(_one(endpoint_id, "test"), parse_event)

    async def redeliver_failed(self, endpoint_id: str, *, since: datetime | str) -> RedeliverFailedResult:
        """Redeliver every failed delivery of this endpoint since a time."""
        return await self._client.post(_one(endpoint_id, "redeliver-failed"), RedeliverFailedResult,
                                       body={"since": since})

"""Events: what webhooks deliver and the events API lists, typed by event type.

`parse_event()` gives the class registered for the event's type and version (`UserCreatedEvent`,
`PingEvent`, ...), whose `data` is a model; an event this SDK does not know yet (a newer type or a
new version) comes back as a plain `Event` whose `data` is a dict, so a receiver never breaks when
the platform adds events. Narrow with `isinstance`:

    event = webhooks.verify(body, headers, secret)
    if isinstance(event, UserCreatedEvent):
        welcome(event.data.email)

A new event type is one data model, one `Event` subclass and one line in `EVENT_TYPES`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .._models import BaseModel

__all__ = [
    "EVENT_TYPES",
    "Event",
    "MarketplaceActivatedEvent",
    "MarketplaceEventData",
    "MarketplaceSuspendedEvent",
    "MarketplaceUpdatedEvent",
    "PingEvent",
    "PingEventData",
    "SecretKeyCreatedEvent",
    "SecretKeyEventData",
    "SecretKeyRevokedEvent",
    "SellerProfileEventData",
    "SellerProfileUpdatedEvent",
    "UserCreatedEvent",
    "UserEventData",
    "UserUpdatedEvent",
    "WebhookEndpointCreatedEvent",
    "WebhookEndpointDeletedEvent",
    "WebhookEndpointDisabledEvent",
    "WebhookEndpointEventData",
    "WebhookEndpointUpdatedEvent",
    "parse_event",
]


class Event(BaseModel):
    """Any event. `data` is the type's payload: a model on the typed subclasses, a dict here."""

    id: str
    """`evt_...`, also the `webhook-id` of its deliveries: deduplicate on it."""
    type: str
    version: int = 1
    sequence: int
    """Increases with every event of the marketplace: order by it, not by arrival."""
    timestamp: datetime
    data: Any


# --- payloads --------------------------------------------------------------------------------------


class PingEventData(BaseModel):
    endpoint_id: str
    message: str


class UserEventData(BaseModel):
    id: str
    email: str
    full_name: str
    locale: str
    is_seller: bool
    created_at: datetime


class SellerProfileEventData(BaseModel):
    user_id: str
    display_name: str
    country: str
    bio: str = ""
    avatar_url: str = ""


class SecretKeyEventData(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


class MarketplaceEventData(BaseModel):
    slug: str
    name: str
    status: str
    currency: str
    commission_bps: int
    default_locale: str


class WebhookEndpointEventData(BaseModel):
    id: str
    url: str
    enabled: bool
    event_types: list[str]
    disabled_reason: str = ""


# --- typed events ----------------------------------------------------------------------------------


class PingEvent(Event):
    type: Literal["ping"]
    data: PingEventData


class UserCreatedEvent(Event):
    type: Literal["user.created"]
    data: UserEventData


class UserUpdatedEvent(Event):
    type: Literal["user.updated"]
    data: UserEventData


class SellerProfileUpdatedEvent(Event):
    type: Literal["seller_profile.updated"]
    data: SellerProfileEventData


class SecretKeyCreatedEvent(Event):
    type: Literal["secret_key.created"]
    data: SecretKeyEventData


class SecretKeyRevokedEvent(Event):
    type: Literal["secret_key.revoked"]
    data: SecretKeyEventData


class MarketplaceUpdatedEvent(Event):
    type: Literal["marketplace.updated"]
    data: MarketplaceEventData


class MarketplaceSuspendedEvent(Event):
    type: Literal["marketplace.suspended"]
    data: MarketplaceEventData


class MarketplaceActivatedEvent(Event):
    type: Literal["marketplace.activated"]
    data: MarketplaceEventData


class WebhookEndpointCreatedEvent(Event):
    type: Literal["webhook_endpoint.created"]
    data: WebhookEndpointEventData


class WebhookEndpointUpdatedEvent(Event):
    type: Literal["webhook_endpoint.updated"]
    data: WebhookEndpointEventData


class WebhookEndpointDeletedEvent(Event):
    type: Literal["webhook_endpoint.deleted"]
    data: WebhookEndpointEventData


class WebhookEndpointDisabledEvent(Event):
    type: Literal["webhook_endpoint.disabled"]
    data: WebhookEndpointEventData


EVENT_TYPES: dict[tuple[str, int], type[Event]] = {
    ("ping", 1): PingEvent,
    ("user.created", 1): UserCreatedEvent,
    ("user.updated", 1): UserUpdatedEvent,
    ("seller_profile.updated", 1): SellerProfileUpdatedEvent,
    ("secret_key.created", 1): SecretKeyCreatedEvent,
    ("secret_key.revoked", 1): SecretKeyRevokedEvent,
    ("marketplace.updated", 1): MarketplaceUpdatedEvent,
    ("marketplace.suspended", 1): MarketplaceSuspendedEvent,
    ("marketplace.activated", 1): MarketplaceActivatedEvent,
    ("webhook_endpoint.created", 1): WebhookEndpointCreatedEvent,
    ("webhook_endpoint.updated", 1): WebhookEndpointUpdatedEvent,
    ("webhook_endpoint.deleted", 1): WebhookEndpointDeletedEvent,
    ("webhook_endpoint.disabled", 1): WebhookEndpointDisabledEvent,
}
"""(type, payload version) -> the class that parses it."""


def parse_event(data: Any) -> Event:
    """An event payload (a decoded dict) as its typed class, or as a plain `Event` when unknown."""
    if isinstance(data, dict):
        cls = EVENT_TYPES.get((str(data.get("type")), int(data.get("version", 1) or 1)))
        if cls is not None:
            return cls.model_validate(data)
    return Event.model_validate(data)

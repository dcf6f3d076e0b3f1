"""Webhook reads, scoped to the current marketplace by its schema."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from osdm.core.errors import NotFound

from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def endpoint_get(*, endpoint_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(code="webhook_endpoint_not_found")
    return endpoint


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None,
                  event_type: str | None = None) -> QuerySet[Delivery]:
    qs = (Delivery.objects.filter(endpoint=endpoint).select_related("event")
          .prefetch_related(Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("-attempted_at", "-id"))))
    if status:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event__type=event_type)
    return qs


def delivery_get(*, delivery_id: int) -> Delivery:
    delivery = Delivery.objects.filter(pk=delivery_id).select_related("event", "endpoint").first()
    if delivery is None:
        raise NotFound(code="webhook_delivery_not_found")
    return delivery


def event_list(*, types: list[str] | None = None, after: int | None = None) -> QuerySet[Event]:
    qs = Event.objects.all()
    if types:
        qs = qs.filter(type__in=types)
    if after is not None:
        qs = qs.filter(sequence__gt=after)
    return qs


def event_get(*, event_id: str) -> Event:
    event = Event.objects.filter(id=event_id).first()
    if event is None:
        raise NotFound(code="event_not_found")
    return event

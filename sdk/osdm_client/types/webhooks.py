"""Webhook endpoints, their deliveries and each delivery's attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel

__all__ = ["RedeliverFailedResult", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
           "WebhookEndpointWithSecret"]


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    description: str = ""
    event_types: list[str] = []
    """Empty: every event type."""
    enabled: bool = True
    disabled_reason: str = ""
    failing_since: datetime | None = None
    previous_secret_expires_at: datetime | None = None
    """During a secret rotation: until when deliveries are also signed with the previous secret."""
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str
    """`whsec_...`: verify every delivery with it (`osdm_client.webhooks.verify`)."""


class WebhookAttempt(BaseModel):
    id: int
    attempted_at: datetime
    url: str
    request_headers: dict[str, Any] = {}
    response_status: int | None = None
    response_body: str = ""
    latency_ms: int = 0
    error: str = ""


class WebhookDelivery(BaseModel):
    id: int
    endpoint_id: str
    event_id: str
    event_type: str
    status: str = "pending"
    """`pending`, `succeeded` or `failed`."""
    attempt_count: int = 0
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str = ""
    created_at: datetime
    completed_at: datetime | None = None
    attempts: list[WebhookAttempt] = []


class RedeliverFailedResult(BaseModel):
    redelivered: int

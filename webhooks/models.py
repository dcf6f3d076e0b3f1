"""Outbound webhooks of one marketplace (tenant schema): the event outbox, endpoints, deliveries and
the log of every attempt.

Invariants:
- An `Event` and one `Delivery` per subscribed endpoint are written in the same transaction as the
  change they describe (the outbox); nothing is sent before that transaction commits.
- A delivery is attempted by whoever holds its lease (`leased_until` in the future); a worker that
  dies mid-attempt loses the lease when it expires and the sweeper hands the delivery out again.
  Receivers therefore see each event at least once, under the same `webhook-id`.
- Attempts are appended, never rewritten.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from osdm.core.crypto import EncryptedTextField


def _event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _endpoint_id() -> str:
    return f"we_{uuid.uuid4().hex[:24]}"


class Event(models.Model):
    # `sequence` orders events within the marketplace (the events API cursor and the payload's own
    # ordering hint); `id` is what receivers deduplicate on.
    sequence = models.BigAutoField(primary_key=True)
    id = models.CharField(max_length=40, unique=True, default=_event_id, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["type", "sequence"], name="event_type_seq_idx")]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"

    def payload(self) -> dict:
        return {"id": self.id, "type": self.type, "version": self.version, "sequence": self.sequence,
                "timestamp": self.created_at.isoformat().replace("+00:00", "Z"), "data": self.data}


class WebhookEndpoint(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=_endpoint_id, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    event_types = ArrayField(models.CharField(max_length=64), default=list, blank=True)  # empty = every type
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    secret = EncryptedTextField()
    # During a rotation the previous secret still signs (both signatures are sent) until it expires.
    previous_secret = EncryptedTextField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Set at the first failure after a success; cleared by a success. Five days failing disables.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for its first or next attempt
        SUCCEEDED = "succeeded", "Succeeded"  # a 2xx was received
        FAILED = "failed", "Failed"  # every retry used up, or the endpoint disabled: redeliver by hand

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due_idx",
                         condition=models.Q(status="pending")),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "succeeded", "failed"]),
                                   name="delivery_status_valid"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.event_id} to {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(auto_now_add=True, db_index=True)
    url = models.URLField(max_length=2000)
    request_headers = models.JSONField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # truncated
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}"

"""In-app notifications, in the recipient's language, and per-user preferences for in-app and
e-mail delivery, per kind (the event type that caused it)."""

from __future__ import annotations

import uuid

from django.db import models


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=2000)
    data = models.JSONField(default=dict)  # ids a storefront links to (order_id, dispute_id...)
    in_app = models.BooleanField(default=True)  # False: e-mail only (the user's preference)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The e-mail outbox: set when the recipient wants this by e-mail, cleared once sent (or given up
    # after EMAIL_ATTEMPTS failures); drained after commit and by a sweeper (notifications.services).
    email_pending = models.BooleanField(default=False)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_idx"),
                   models.Index(fields=["created_at"], condition=models.Q(email_pending=True),
                                name="notification_email_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class NotificationPreference(models.Model):
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=64)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"

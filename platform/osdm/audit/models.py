"""The audit log: an append-only record of every state change and admin action in a marketplace.

Written by services in the same transaction as the change it records, so a change without its
record (or a record of a change that rolled back) cannot exist. Rows are never updated or deleted
by the application; a database trigger refuses both.
"""

from __future__ import annotations

from django.db import models


class AuditRecord(models.Model):
    class ActorType(models.TextChoices):
        OPERATOR = "operator", "Operator (secret key)"
        USER = "user", "User"
        PLATFORM = "platform", "Platform"
        SYSTEM = "system", "System (a task or command)"

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=100, db_index=True)  # e.g. "user.registered"
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"

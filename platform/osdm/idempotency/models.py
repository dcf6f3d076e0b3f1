"""Idempotency keys of one marketplace: the first response to a POST, kept to replay it.

A key is scoped to its caller (a user or a secret key) and to the endpoint; the body's fingerprint
tells a retry (same body: replay) from a mistake (another body: 422). A request still running holds
the key (`locked_until`); one that crashed releases it when the lock expires.
"""

from django.db import models


class IdempotencyRecord(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"  # the first request is being served
        COMPLETED = "completed", "Completed"  # its response is stored for replay

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=200)  # caller + method + path
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    locked_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"

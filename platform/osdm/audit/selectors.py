"""Audit log reads for operators."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from .models import AuditRecord


def audit_list(*, action: str | None = None, object_type: str | None = None, object_id: str | None = None,
               actor_type: str | None = None, actor_id: str | None = None, since: datetime | None = None,
               until: datetime | None = None) -> QuerySet[AuditRecord]:
    qs = AuditRecord.objects.all()
    filters = {"action": action, "object_type": object_type, "object_id": object_id,
               "actor_type": actor_type, "actor_id": actor_id, "created_at__gte": since, "created_at__lt": until}
    return qs.filter(**{k: v for k, v in filters.items() if v not in (None, "")})

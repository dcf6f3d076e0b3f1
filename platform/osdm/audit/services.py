"""Writing audit records. Call `audit_record` inside the service's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from osdm.core.last_writes import insert_last
from osdm.core.middleware import current_request_id

from .models import AuditRecord


@dataclass(frozen=True)
class Actor:
    """Who did it: built once per request from the authenticated principal, or `Actor.system()`."""

    type: str
    id: str = ""

    @classmethod
    def system(cls, name: str = "") -> Actor:
        return cls(AuditRecord.ActorType.SYSTEM, name)

    @classmethod
    def for_user(cls, user) -> Actor:
        return cls(AuditRecord.ActorType.USER, str(user.pk))

    @classmethod
    def platform(cls) -> Actor:
        return cls(AuditRecord.ActorType.PLATFORM, "platform")

    @classmethod
    def from_principal(cls, principal) -> Actor:
        if principal is None or not getattr(principal, "is_authenticated", False):
            return cls(AuditRecord.ActorType.SYSTEM, "anonymous")
        if getattr(principal, "is_platform", False):
            return cls.platform()
        if getattr(principal, "is_operator", False):
            return cls(AuditRecord.ActorType.OPERATOR, f"key:{principal.key_id}")
        return cls.for_user(principal)


def audit_record(*, actor: Actor, action: str, object_type: str, object_id: Any,
                 before: dict | None = None, after: dict | None = None) -> AuditRecord | None:
    if connection.schema_name == "public":
        return None  # platform-level actions are recorded in the tenant they concern, never in public
    request_id = current_request_id()
    # Copies: the record is written as things were now, even if it is inserted at the end of a
    # `last_writes` block (the payment state machine's), together with its siblings.
    return insert_last(AuditRecord(
        actor_type=actor.type, actor_id=actor.id, action=action, object_type=object_type,
        object_id=str(object_id), before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None, request_id="" if request_id == "-" else request_id,
    ))

"""The audit log: who did what to which object, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel

__all__ = ["AuditRecord"]


class AuditRecord(BaseModel):
    id: int
    created_at: datetime
    action: str
    actor_type: str
    """`operator`, `user`, `platform` or `system`."""
    actor_id: str = ""
    object_type: str
    object_id: str
    before: Any = None
    after: Any = None
    request_id: str = ""

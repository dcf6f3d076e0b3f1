"""Messaging (conversations, messages, blocks, the marketplace's messaging policy), notifications and
their preferences, and dashboards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel
from .catalog import StoredFile

__all__ = ["Block", "Conversation", "ConversationLastMessage", "ConversationMessage", "ConversationParticipant",
           "Dashboard", "MessagingPolicy", "Notification", "NotificationPreference", "NotificationsMarked"]


class ConversationParticipant(BaseModel):
    id: str
    display_name: str


class ConversationLastMessage(BaseModel):
    id: str
    sender_id: str
    preview: str
    created_at: datetime


class Conversation(BaseModel):
    """`subject_type` `listing`, `order`, `dispute` or `direct`."""

    id: str
    subject_type: str
    subject_id: str | None = None
    participants: list[ConversationParticipant] = []
    other: ConversationParticipant | None = None
    last_message: ConversationLastMessage | None = None
    unread_count: int = 0
    other_last_read_at: datetime | None = None
    last_message_at: datetime
    created_at: datetime


class ConversationMessage(BaseModel):
    """`masked` when the marketplace hid contact details in `body` (the author sees `body_original`)."""

    id: str
    conversation_id: str
    sender_id: str
    body: str
    masked: bool = False
    body_original: str | None = None
    files: list[StoredFile] = []
    read_by_other: bool = False
    created_at: datetime


class Block(BaseModel):
    user: ConversationParticipant
    created_at: datetime


class MessagingPolicy(BaseModel):
    allow_direct: bool = True
    """Whether users may message each other outside a listing, order or dispute."""
    mask_contact_details: bool = True
    updated_at: datetime | None = None


class Notification(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    data: dict[str, Any] = {}
    read_at: datetime | None = None
    created_at: datetime


class NotificationsMarked(BaseModel):
    marked: int


class NotificationPreference(BaseModel):
    kind: str
    in_app: bool = True
    email: bool = True


class Dashboard(BaseModel):
    """A dashboard's figures, as the API names them (amounts in minor units): read them as attributes
    or with `to_dict()`. Its fields vary by dashboard, so every one is kept as sent."""

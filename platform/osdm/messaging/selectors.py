"""Messaging reads. A conversation is visible to its two participants and to the marketplace's
operator (moderation); to anyone else, and from any other marketplace, it does not exist (404).

Lists run a constant number of queries whatever their length: participants and the last message
are joined, the unread count is a correlated subquery.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from osdm.core.errors import NotFound, ValidationFailed

from .models import Block, Conversation, Message, SubjectType

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _with_viewer(qs: QuerySet[Conversation], viewer_id) -> QuerySet[Conversation]:
    """`viewer` (whose side `other` and `unread_count` are told from) and `unread_count`: the other
    participant's messages newer than the viewer's read mark."""
    if viewer_id is None:
        return qs.annotate(viewer=Value(None, output_field=UUIDField()),
                           unread_count=Value(0, output_field=IntegerField()))
    viewer_read = Case(When(user_a_id=viewer_id, then=F("a_last_read_at")), default=F("b_last_read_at"),
                       output_field=DateTimeField())
    unread = (Message.objects.filter(conversation_id=OuterRef("pk"), created_at__gt=OuterRef("viewer_read"))
              .exclude(sender_id=viewer_id).order_by().values("conversation_id")
              .annotate(n=Count("id")).values("n"))
    return qs.annotate(viewer=Value(viewer_id, output_field=UUIDField()),
                       viewer_read=Coalesce(viewer_read, Value(_NEVER, output_field=DateTimeField())),
                       unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), 0))


def conversation_list(*, principal, user_id=None, subject_type: str | None = None,
                      subject_id: str | None = None) -> QuerySet[Conversation]:
    """The principal's conversations (an operator's: everyone's), newest activity first.

    `user_id` narrows to conversations with that user; for an operator it also makes that user the
    viewer, so `unread_count` is theirs (moderation sees what the user sees).
    """
    qs = Conversation.objects.select_related("user_a__seller_profile", "user_b__seller_profile", "last_message")
    if getattr(principal, "is_operator", False):
        viewer_id = user_id
    else:
        viewer_id = principal.pk
        qs = qs.filter(Q(user_a_id=principal.pk) | Q(user_b_id=principal.pk))
    if user_id is not None:
        qs = qs.filter(Q(user_a_id=user_id) | Q(user_b_id=user_id))
    if subject_type:
        if subject_type not in SubjectType.values:
            raise ValidationFailed(fields={"subject_type": [f"One of: {', '.join(SubjectType.values)}."]})
        qs = qs.filter(subject_type=subject_type)
    if subject_id:
        qs = qs.filter(subject_id=str(subject_id))
    return _with_viewer(qs, viewer_id)


def conversation_get(*, principal, conversation_id) -> Conversation:
    conversation = conversation_list(principal=principal).filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(code="conversation_not_found")
    return conversation


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    """A conversation's messages (newest first); get the conversation through `conversation_get`."""
    return Message.objects.filter(conversation_id=conversation.pk).prefetch_related("files")


def block_list(*, principal) -> QuerySet[Block]:
    return Block.objects.filter(blocker_id=principal.pk).select_related("blocked__seller_profile")


def message_file_readable(*, user_id, file_id) -> bool:
    """Whether a file is attached to a message of a conversation this user takes part in: what
    `files.selectors.file_downloadable` asks for attachments."""
    return Message.objects.filter(files=file_id).filter(
        Q(conversation__user_a_id=user_id) | Q(conversation__user_b_id=user_id)).exists()

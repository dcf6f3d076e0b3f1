from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from osdm.core.serializers import ModelSerializer, Serializer, StrictInputSerializer
from osdm.files.serializers import StoredFileSerializer

from .models import Block, Conversation, Message, MessagingPolicy, SubjectType
from .services import MAX_FILES

PREVIEW_CHARS = 140


def participant(user) -> dict:
    """How a participant is shown to the other: a seller by their shop name, anyone else by name;
    never by e-mail."""
    profile = getattr(user, "seller_profile", None)
    return {"id": str(user.pk), "display_name": profile.display_name if profile else user.full_name}


def _viewer(conversation):
    """Whose side the conversation is shown from (annotated by the selector; None for an operator
    without `?user=`)."""
    viewer = getattr(conversation, "viewer", None)
    return viewer if viewer is None or isinstance(viewer, uuid.UUID) else uuid.UUID(str(viewer))


class ConversationParticipantSerializer(Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class ConversationLastMessageSerializer(Serializer):
    id = serializers.UUIDField()
    sender_id = serializers.UUIDField()
    preview = serializers.CharField(help_text=f"The first {PREVIEW_CHARS} characters (masked as sent).")
    created_at = serializers.DateTimeField()


class ConversationSerializer(ModelSerializer):
    subject_id = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    other = serializers.SerializerMethodField(
        help_text="The participant who is not you (for an operator: who is not `?user=`; null without it).")
    last_message = serializers.SerializerMethodField()
    unread_count = serializers.IntegerField(read_only=True,
                                            help_text="Messages from the other participant you have not read.")
    other_last_read_at = serializers.SerializerMethodField(
        help_text="Read receipt: the other participant has read every message up to this time.")

    class Meta:
        model = Conversation
        fields = ["id", "subject_type", "subject_id", "participants", "other", "last_message", "unread_count",
                  "other_last_read_at", "last_message_at", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_subject_id(self, conversation) -> str | None:
        return conversation.subject_id or None

    @extend_schema_field(ConversationParticipantSerializer(many=True))
    def get_participants(self, conversation) -> list[dict]:
        return [participant(conversation.user_a), participant(conversation.user_b)]

    @extend_schema_field(ConversationParticipantSerializer(allow_null=True))
    def get_other(self, conversation) -> dict | None:
        viewer = _viewer(conversation)
        if viewer not in conversation.participant_ids:
            return None
        return participant(conversation.user_b if viewer == conversation.user_a_id else conversation.user_a)

    @extend_schema_field(ConversationLastMessageSerializer(allow_null=True))
    def get_last_message(self, conversation) -> dict | None:
        message = conversation.last_message
        if message is None:
            return None
        return ConversationLastMessageSerializer({"id": message.pk, "sender_id": message.sender_id,
                                      "preview": message.body[:PREVIEW_CHARS], "created_at": message.created_at}).data

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_other_last_read_at(self, conversation):
        viewer = _viewer(conversation)
        if viewer not in conversation.participant_ids:
            return None
        read_at = conversation.last_read_of(conversation.other_id(viewer))
        return serializers.DateTimeField().to_representation(read_at) if read_at else None


class ConversationMessageSerializer(ModelSerializer):
    """Needs the conversation in its context (`conversation`), for read receipts; `operator` shows
    the unmasked text."""

    conversation_id = serializers.UUIDField(read_only=True)
    sender_id = serializers.UUIDField(read_only=True)
    masked = serializers.BooleanField(read_only=True, help_text="Contact details in the text were hidden.")
    body_original = serializers.SerializerMethodField(
        help_text="Operators only (moderation): the text as written, when masking changed it; null otherwise.")
    files = StoredFileSerializer(many=True, read_only=True)
    read_by_other = serializers.SerializerMethodField(
        help_text="The participant who did not send it has read it (the read receipt of your own messages).")

    class Meta:
        model = Message
        fields = ["id", "conversation_id", "sender_id", "body", "masked", "body_original", "files", "read_by_other",
                  "created_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body_original(self, message) -> str | None:
        if self.context.get("operator") and message.body_original:
            return message.body_original
        return None

    def get_read_by_other(self, message) -> bool:
        conversation = self.context["conversation"]
        read_at = conversation.last_read_of(conversation.other_id(message.sender_id))
        return read_at is not None and read_at >= message.created_at


class ConversationStartInput(StrictInputSerializer):
    subject_type = serializers.ChoiceField(choices=SubjectType.choices)
    subject_id = serializers.UUIDField(required=False, allow_null=True,
                                       help_text="The listing's, order's or dispute's id; none for direct.")
    with_user_id = serializers.UUIDField(
        required=False, allow_null=True,
        help_text="Direct: whom to write to. Listing: only its owner names the user (one who ordered or proposed); "
                  "otherwise the subject's other party, which may be left out.")
    body = serializers.CharField(max_length=5000)
    file_ids = serializers.ListField(child=serializers.UUIDField(), max_length=MAX_FILES, required=False, default=list,
                                     help_text="Your own uploads with purpose \"delivery\".")

    def validate(self, attrs):
        direct = attrs["subject_type"] == SubjectType.DIRECT
        errors = {}
        if direct and attrs.get("subject_id"):
            errors["subject_id"] = [_("A direct conversation has no subject.")]
        if not direct and not attrs.get("subject_id"):
            errors["subject_id"] = [_("Required for a conversation about a listing, an order or a dispute.")]
        if direct and not attrs.get("with_user_id"):
            errors["with_user_id"] = [_("Required for a direct conversation.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ConversationMessageInput(StrictInputSerializer):
    body = serializers.CharField(max_length=5000)
    file_ids = serializers.ListField(child=serializers.UUIDField(), max_length=MAX_FILES, required=False, default=list,
                                     help_text="Your own uploads with purpose \"delivery\".")


class ConversationFilterInput(Serializer):
    user = serializers.UUIDField(required=False)
    subject_type = serializers.ChoiceField(choices=SubjectType.choices, required=False)
    subject_id = serializers.UUIDField(required=False)


class BlockSerializer(ModelSerializer):
    user = serializers.SerializerMethodField()

    class Meta:
        model = Block
        fields = ["user", "created_at"]

    @extend_schema_field(ConversationParticipantSerializer)
    def get_user(self, block) -> dict:
        return participant(block.blocked)


class BlockInput(StrictInputSerializer):
    user_id = serializers.UUIDField()


class MessagingPolicySerializer(ModelSerializer):
    class Meta:
        model = MessagingPolicy
        fields = ["allow_direct", "mask_contact_details", "updated_at"]


class MessagingPolicyInput(StrictInputSerializer):
    allow_direct = serializers.BooleanField(required=False,
                                            help_text="Conversations with no listing, order or dispute.")
    mask_contact_details = serializers.BooleanField(
        required=False, help_text="Hide e-mail addresses, phone numbers and links in messages sent from now on.")

"""Messaging: conversations between two users of one marketplace, about a listing, an order, a
dispute, or nothing (direct, where the marketplace allows it).

Invariants:
- a conversation has exactly two participants, stored as the ordered pair `user_a < user_b`, so a pair
  has one conversation per subject (`conversation_unique_pair_subject`), whoever started it;
- each side's `*_last_read_at` only moves forward; a message is read by its recipient when the
  recipient's `last_read_at >= message.created_at` (the read receipt);
- `last_message` / `last_message_at` and the read marks are written under the conversation's row
  lock, like every new message, so messages of one conversation are created (and timestamped) one
  at a time and "read up to now" never covers a message still being written;
- `Message.body` is what the recipient sees: masked when the marketplace's policy masked contact
  details at sending time. The unmasked text is kept in `body_original` (only when masking changed
  something) for the operator's moderation, and never shown to participants or sent in events.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class SubjectType(models.TextChoices):
    LISTING = "listing", "Listing"  # anyone with the listing's owner
    ORDER = "order", "Order"  # the order's buyer and seller
    DISPUTE = "dispute", "Dispute"  # the dispute's parties
    DIRECT = "direct", "Direct"  # no subject; only while the marketplace's policy allows it


class MessagingPolicy(models.Model):
    """The marketplace's messaging rules (a singleton: pk 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    allow_direct = models.BooleanField(default=True)  # conversations with no listing, order or dispute
    # E-mail addresses, phone numbers and links in new messages become "[hidden]" (taking deals off
    # the marketplace is what this prevents); messages sent before the switch stay as they were.
    mask_contact_details = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="messaging_policy_singleton")]

    def __str__(self) -> str:
        return "messaging policy"


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_a = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    user_b = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(max_length=16, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=64, blank=True)  # the listing's, order's or dispute's id; "" for direct
    a_last_read_at = models.DateTimeField(null=True, blank=True)
    b_last_read_at = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_message_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user_a", "user_b", "subject_type", "subject_id"],
                                    name="conversation_unique_pair_subject"),
            models.CheckConstraint(condition=models.Q(user_a__lt=models.F("user_b")), name="conversation_pair_ordered"),
            models.CheckConstraint(condition=models.Q(subject_type__in=SubjectType.values),
                                   name="conversation_subject_type_valid"),
            models.CheckConstraint(
                condition=(models.Q(subject_type=SubjectType.DIRECT, subject_id="")
                           | (~models.Q(subject_type=SubjectType.DIRECT) & ~models.Q(subject_id=""))),
                name="conversation_subject_id_iff_not_direct"),
        ]
        indexes = [
            models.Index(fields=["user_a", "-last_message_at"], name="conversation_a_activity_idx"),
            models.Index(fields=["user_b", "-last_message_at"], name="conversation_b_activity_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="conversation_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    @property
    def participant_ids(self) -> tuple:
        return (self.user_a_id, self.user_b_id)

    def side_of(self, user_id) -> str:
        if user_id == self.user_a_id:
            return "a"
        if user_id == self.user_b_id:
            return "b"
        raise ValueError(f"{user_id} is not in {self}")

    def other_id(self, user_id):
        return self.user_b_id if self.side_of(user_id) == "a" else self.user_a_id

    def last_read_of(self, user_id):
        return self.a_last_read_at if self.side_of(user_id) == "a" else self.b_last_read_at


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by `message_conv_created_idx` (conversation first), not on its own.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages",
                                     db_index=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000)  # as the recipient sees it (masked when the policy was on)
    body_original = models.TextField(max_length=5000, blank=True)  # unmasked, only when masking changed it
    files = models.ManyToManyField("files.StoredFile", blank=True, related_name="+")  # attachments
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["conversation", "-created_at"], name="message_conv_created_idx")]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.conversation_id}"

    @property
    def masked(self) -> bool:
        return bool(self.body_original)


class Block(models.Model):
    """`blocker` no longer takes messages from `blocked` (and cannot write to them until unblocking)."""

    id = models.BigAutoField(primary_key=True)
    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique_pair"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"

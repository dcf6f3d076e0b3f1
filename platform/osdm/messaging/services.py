"""Messaging writes: starting a conversation, sending messages (with attachments, masked by the
marketplace's policy), read marks, the block list, and the messaging policy.

Who may talk about what:
- a listing: any user with the listing's owner; the owner with a user who ordered or proposed on it;
- an order: its buyer and its seller; a dispute: its buyer and its seller;
- direct (no subject): any two users, while the policy allows direct conversations.
A block, either way, stops new messages between the two (403 `blocked`). Operators read every
conversation (moderation) but write in none.

Every message is written with its audit record and its `message.created` event in one
transaction, under the conversation's row lock (see models). Events and audit records never carry
the text.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.accounts.models import User
from osdm.audit.services import Actor, audit_record
from osdm.core.errors import NotFound, PermissionDenied, ValidationFailed
from osdm.files.models import StoredFile
from webhooks.services import event_publish

from .masking import mask_contact_details
from .models import Block, Conversation, Message, MessagingPolicy, SubjectType

MAX_FILES = 10
POLICY_FIELDS = ("allow_direct", "mask_contact_details")


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def message_data(message: Message, conversation: Conversation) -> dict:
    """The `message.created` payload: who, where and when, never what."""
    return {"conversation_id": str(conversation.pk), "message_id": str(message.pk),
            "sender_id": str(message.sender_id), "recipient_id": str(conversation.other_id(message.sender_id)),
            "subject_type": conversation.subject_type, "subject_id": conversation.subject_id or None,
            "created_at": _iso(message.created_at)}


# --- policy ------------------------------------------------------------------------------------


def policy_get() -> MessagingPolicy:
    policy = MessagingPolicy.objects.filter(pk=1).first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = MessagingPolicy.objects.create(pk=1)
        except IntegrityError:
            policy = MessagingPolicy.objects.get(pk=1)
    return policy


def policy_update(*, actor: Actor, **changes: Any) -> MessagingPolicy:
    with transaction.atomic():
        policy = MessagingPolicy.objects.select_for_update().get(pk=policy_get().pk)
        before = {name: getattr(policy, name) for name in POLICY_FIELDS}
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.save()
        audit_record(actor=actor, action="messaging_policy.updated", object_type="messaging_policy",
                     object_id=policy.pk, before=before, after={name: getattr(policy, name) for name in POLICY_FIELDS})
    return policy


# --- who talks about what ----------------------------------------------------------------------


def _not_a_party() -> PermissionDenied:
    return PermissionDenied(_("That user is not a party to this subject."), code="not_a_party")


def _counterpart(*, principal, subject_type: str, subject_id, with_user_id) -> tuple[Any, str]:
    """The other participant and the stored subject id, or the error that stops the conversation.
    A subject the principal may not see is not found (404), like everywhere else."""
    from osdm.catalog.selectors import listing_visible
    from osdm.disputes.models import Dispute
    from osdm.orders.models import Order, Proposal

    me = principal.pk
    if subject_type == SubjectType.DIRECT:
        if not policy_get().allow_direct:
            raise PermissionDenied(_("This marketplace allows conversations about a listing, an order or a "
                                     "dispute only."), code="direct_messages_disabled")
        if with_user_id == me:
            raise ValidationFailed(_("You cannot start a conversation with yourself."), code="cannot_message_yourself",
                                   fields={"with_user_id": [_("That is you.")]})
        if not User.objects.filter(pk=with_user_id, is_active=True).exists():
            raise NotFound(code="user_not_found")
        return with_user_id, ""
    if subject_type == SubjectType.LISTING:
        listing = listing_visible(listing_id=subject_id, principal=principal)
        if listing.owner_id != me:
            if with_user_id not in (None, listing.owner_id):
                raise _not_a_party()
            return listing.owner_id, str(listing.pk)
        # The owner writes first only to someone who ordered it or proposed on it.
        if with_user_id is None:
            raise ValidationFailed(fields={"with_user_id": [_("Name the user you write to about your listing.")]})
        if with_user_id == me:
            raise ValidationFailed(_("You cannot start a conversation with yourself."), code="cannot_message_yourself",
                                   fields={"with_user_id": [_("That is you.")]})
        if not (Order.objects.filter(listing_id=listing.pk, buyer_id=with_user_id).exists()
                or Proposal.objects.filter(listing_id=listing.pk, seller_id=with_user_id).exists()):
            raise _not_a_party()
        return with_user_id, str(listing.pk)
    if subject_type == SubjectType.ORDER:
        parties = Order.objects.filter(Q(buyer_id=me) | Q(seller_id=me), pk=subject_id).values_list(
            "buyer_id", "seller_id").first()
        if parties is None:
            raise NotFound(code="order_not_found")
    else:
        parties = Dispute.objects.filter(Q(buyer_id=me) | Q(seller_id=me), pk=subject_id).values_list(
            "buyer_id", "seller_id").first()
        if parties is None:
            raise NotFound(code="dispute_not_found")
    other = parties[1] if parties[0] == me else parties[0]
    if with_user_id not in (None, other):
        raise _not_a_party()
    return other, str(subject_id)


def _check_not_blocked(sender_id, recipient_id) -> None:
    blockers = set(Block.objects.filter(Q(blocker_id=sender_id, blocked_id=recipient_id)
                                        | Q(blocker_id=recipient_id, blocked_id=sender_id))
                   .values_list("blocker_id", flat=True))
    if recipient_id in blockers:
        raise PermissionDenied(_("This user does not take messages from you."), code="blocked")
    if sender_id in blockers:
        raise PermissionDenied(_("You blocked this user: unblock them to write to them."), code="blocked")


def _attachments(owner_id, file_ids: list) -> list[StoredFile]:
    files = list(StoredFile.objects.filter(pk__in=file_ids, owner_id=owner_id, purpose=StoredFile.Purpose.DELIVERY))
    if len(files) != len(set(file_ids)):
        raise ValidationFailed(fields={"file_ids": [_("Upload each file first (purpose \"delivery\"); "
                                                      "only your own files.")]})
    return files


# --- writing -----------------------------------------------------------------------------------


def _post(*, actor: Actor, conversation: Conversation, sender_id, body: str, files: list[StoredFile],
          policy: MessagingPolicy) -> Message:
    """Append a message. The caller's transaction; takes the conversation's row lock."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    # Checked under the lock (a failure rolls back a conversation just started with it).
    _check_not_blocked(sender_id, conversation.other_id(sender_id))
    shown = mask_contact_details(body) if policy.mask_contact_details else body
    message = Message.objects.create(conversation=conversation, sender_id=sender_id, body=shown,
                                     body_original=body if shown != body else "")
    if files:
        message.files.set(files)
    side = conversation.side_of(sender_id)
    setattr(conversation, f"{side}_last_read_at", message.created_at)  # the sender has seen all of it
    conversation.last_message = message
    conversation.last_message_at = message.created_at
    conversation.save(update_fields=[f"{side}_last_read_at", "last_message", "last_message_at"])
    audit_record(actor=actor, action="message.created", object_type="message", object_id=message.pk,
                 after={"conversation_id": str(conversation.pk), "masked": message.masked, "files": len(files)})
    event_publish(event_type="message.created", data=message_data(message, conversation))
    return message


def conversation_start(*, actor: Actor, principal, subject_type: str, body: str, subject_id=None,
                       with_user_id=None, file_ids: list | None = None) -> tuple[Conversation, Message, bool]:
    """Start the conversation about a subject with its counterpart (or reuse the one the pair already
    has about it) and post the first message. Returns (conversation, message, created)."""
    other_id, subject_key = _counterpart(principal=principal, subject_type=subject_type, subject_id=subject_id,
                                         with_user_id=with_user_id)
    files = _attachments(principal.pk, file_ids or [])
    policy = policy_get()
    user_a, user_b = sorted((principal.pk, other_id))
    with transaction.atomic():
        # get_or_create retries the read when a concurrent start wins the unique constraint.
        conversation, created = Conversation.objects.get_or_create(
            user_a_id=user_a, user_b_id=user_b, subject_type=subject_type, subject_id=subject_key,
            defaults={"last_message_at": timezone.now()})
        if created:
            audit_record(actor=actor, action="conversation.started", object_type="conversation",
                         object_id=conversation.pk, after={"subject_type": subject_type,
                                                           "subject_id": subject_key or None,
                                                           "participants": [str(user_a), str(user_b)]})
        message = _post(actor=actor, conversation=conversation, sender_id=principal.pk, body=body, files=files,
                        policy=policy)
    return conversation, message, created


def message_send(*, actor: Actor, conversation: Conversation, principal, body: str,
                 file_ids: list | None = None) -> Message:
    if principal.pk not in conversation.participant_ids:
        raise PermissionDenied(_("Only the conversation's participants write in it."), code="not_a_participant")
    policy = policy_get()
    if conversation.subject_type == SubjectType.DIRECT and not policy.allow_direct:
        raise PermissionDenied(_("This marketplace no longer allows direct conversations."),
                               code="direct_messages_disabled")
    files = _attachments(principal.pk, file_ids or [])
    with transaction.atomic():
        return _post(actor=actor, conversation=conversation, sender_id=principal.pk, body=body, files=files,
                     policy=policy)


def conversation_mark_read(*, conversation: Conversation, principal) -> Conversation:
    """The principal has read everything in the conversation up to now. Under the row lock, so a
    message being written concurrently is either before this mark (and committed) or after it.
    Not audited: it moves no money and changes nothing but a receipt, many times a day."""
    if principal.pk not in conversation.participant_ids:
        raise PermissionDenied(_("Only the conversation's participants read it."), code="not_a_participant")
    field = f"{conversation.side_of(principal.pk)}_last_read_at"
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        now = timezone.now()
        if getattr(locked, field) is None or getattr(locked, field) < now:
            setattr(locked, field, now)
            locked.save(update_fields=[field])
    return locked


# --- blocks ------------------------------------------------------------------------------------


def block_create(*, actor: Actor, blocker, user_id) -> tuple[Block, bool]:
    if user_id == blocker.pk:
        raise ValidationFailed(_("You cannot block yourself."), code="cannot_block_yourself",
                               fields={"user_id": [_("That is you.")]})
    if not User.objects.filter(pk=user_id).exists():
        raise NotFound(code="user_not_found")
    with transaction.atomic():
        block, created = Block.objects.get_or_create(blocker_id=blocker.pk, blocked_id=user_id)
        if created:
            audit_record(actor=actor, action="user.blocked", object_type="user", object_id=user_id,
                         after={"blocker_id": str(blocker.pk)})
    return block, created


def block_delete(*, actor: Actor, blocker, user_id) -> None:
    with transaction.atomic():
        deleted, _count = Block.objects.filter(blocker_id=blocker.pk, blocked_id=user_id).delete()
        if not deleted:
            raise NotFound(code="block_not_found")
        audit_record(actor=actor, action="user.unblocked", object_type="user", object_id=user_id,
                     after={"blocker_id": str(blocker.pk)})

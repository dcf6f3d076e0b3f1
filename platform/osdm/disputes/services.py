"""Dispute writes: opening (freezes the escrow), messages and evidence, resolution by the operator
(release, refund or split, the refund part through the gateway), and the unanswered-dispute rule."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import Conflict, PermissionDenied, ValidationFailed
from osdm.escrow import services as escrow_services
from osdm.escrow.models import Escrow, EscrowStatus
from osdm.files.models import StoredFile
from osdm.orders.models import Milestone, MilestoneStatus, Order, OrderKind, OrderStatus
from webhooks.services import event_publish

from .models import DISPUTE_TRANSITIONS, Dispute, DisputeMessage, DisputeStatus

logger = logging.getLogger(__name__)


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def dispute_data(dispute: Dispute) -> dict:
    return {"id": str(dispute.pk), "escrow_id": str(dispute.escrow_id), "order_id": str(dispute.order_id),
            "reason": dispute.reason, "status": dispute.status, "outcome": dispute.outcome,
            "refund_amount": dispute.refund_amount, "release_amount": dispute.release_amount,
            "respond_by": _iso(dispute.respond_by)}


def _tenant():
    from tenants.selectors import current_tenant

    return current_tenant()


def _delivered_at(escrow: Escrow):
    if escrow.milestone_id:
        return Milestone.objects.get(pk=escrow.milestone_id).delivered_at
    return Order.objects.get(pk=escrow.order_id).delivered_at


def _files(owner_id, file_ids: list) -> list[StoredFile]:
    files = list(StoredFile.objects.filter(pk__in=file_ids, owner_id=owner_id))
    if len(files) != len(set(file_ids)):
        raise ValidationFailed(fields={"file_ids": [_("Upload each file first; only your own files.")]})
    return files


def dispute_open(*, actor: Actor, escrow: Escrow, principal, reason: str, description: str,
                 file_ids: list | None = None) -> Dispute:
    """The buyer contests a held escrow, within the dispute window after delivery (or before any
    delivery, for work never delivered). The escrow is frozen in the same transaction, so a release
    racing the dispute ends in exactly one of the two."""
    if principal.pk != escrow.buyer_id:
        raise PermissionDenied(_("Only the buyer opens a dispute."), code="not_the_buyer")
    tenant = _tenant()
    files = _files(principal.pk, file_ids or [])
    try:
        with transaction.atomic():
            escrow = Escrow.objects.select_for_update().get(pk=escrow.pk)
            if escrow.status != EscrowStatus.HELD:
                raise Conflict(_("Only money still held can be disputed (this escrow is %(status)s).")
                               % {"status": escrow.status}, code="not_disputable")
            delivered_at = _delivered_at(escrow)
            if delivered_at and timezone.now() > delivered_at + timedelta(days=tenant.dispute_window_days):
                raise Conflict(_("The dispute window closed %(days)s days after delivery.")
                               % {"days": tenant.dispute_window_days}, code="dispute_window_closed")
            dispute = Dispute.objects.create(
                escrow=escrow, order_id=escrow.order_id, buyer_id=escrow.buyer_id, seller_id=escrow.seller_id,
                reason=reason, description=description,
                respond_by=timezone.now() + timedelta(days=tenant.dispute_response_days))
            message = DisputeMessage.objects.create(dispute=dispute, author_type="buyer", author_id=str(principal.pk),
                                                    body=description)
            message.files.set(files)
            escrow_services.escrow_freeze(escrow=escrow, actor=actor)
            audit_record(actor=actor, action="dispute.opened", object_type="dispute", object_id=dispute.pk,
                         after=dispute_data(dispute))
            event_publish(event_type="dispute.opened", data=dispute_data(dispute))
    except IntegrityError as exc:
        raise Conflict(_("This escrow is already disputed."), code="already_disputed") from exc
    return dispute


def dispute_message(*, actor: Actor, dispute: Dispute, principal, body: str, file_ids: list | None = None
                    ) -> DisputeMessage:
    operator = getattr(principal, "is_operator", False)
    if operator:
        author_type, author_id = "operator", actor.id
    elif principal.pk == dispute.buyer_id:
        author_type, author_id = "buyer", str(principal.pk)
    elif principal.pk == dispute.seller_id:
        author_type, author_id = "seller", str(principal.pk)
    else:
        raise PermissionDenied(_("Only the dispute's parties write in it."), code="not_a_party")
    files = _files(principal.pk, file_ids or []) if not operator else []
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status == DisputeStatus.RESOLVED:
            raise Conflict(_("This dispute is resolved."), code="dispute_resolved")
        message = DisputeMessage.objects.create(dispute=dispute, author_type=author_type, author_id=author_id,
                                                body=body)
        message.files.set(files)
        if author_type == "seller" and dispute.status == DisputeStatus.OPEN:
            _move(dispute, DisputeStatus.UNDER_REVIEW, actor=actor)
        audit_record(actor=actor, action="dispute.message", object_type="dispute", object_id=dispute.pk,
                     after={"author_type": author_type, "files": len(files)})
    return message


def _move(dispute: Dispute, status: str, *, actor: Actor, **fields) -> None:
    if status not in DISPUTE_TRANSITIONS[dispute.status]:
        raise Conflict(_("This dispute is %(status)s.") % {"status": dispute.status}, code="invalid_transition")
    before = dispute.status
    dispute.status = status
    for name, value in fields.items():
        setattr(dispute, name, value)
    dispute.save(update_fields=["status", *fields])
    audit_record(actor=actor, action=f"dispute.{status}", object_type="dispute", object_id=dispute.pk,
                 before={"status": before}, after=dispute_data(dispute))


def dispute_resolve(*, actor: Actor, dispute: Dispute, outcome: str, refund_amount: int | None = None,
                    note: str = "") -> Dispute:
    """Decide: `release` (all to the seller), `refund` (all back to the buyer, through the gateway), or
    `split` (`refund_amount` back to the buyer, the rest to the seller). One transaction: if the
    gateway refuses the refund, nothing is decided."""
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status == DisputeStatus.RESOLVED:
            raise Conflict(_("This dispute is resolved."), code="invalid_transition")
        escrow = Escrow.objects.select_for_update().get(pk=dispute.escrow_id)
        total = escrow.amount
        if outcome == Dispute.Outcome.RELEASE:
            refund = 0
        elif outcome == Dispute.Outcome.REFUND:
            refund = total
        else:
            if refund_amount is None or not 0 < refund_amount < total:
                raise ValidationFailed(_("A split refunds between 1 and %(max)s.") % {"max": total - 1},
                                       code="invalid_split", fields={"refund_amount": [_("Out of range.")]})
            refund = refund_amount
        if refund == total:
            escrow_services.escrow_refund_full(escrow=escrow, actor=actor, reason=f"dispute {dispute.pk}")
        elif refund:
            _refund_part(escrow, refund, actor=actor, reason=f"dispute {dispute.pk}")
        if refund < total:
            escrow_services.escrow_release(escrow=Escrow.objects.get(pk=escrow.pk), actor=actor,
                                           resolving_dispute=True)
        _settle_work(escrow, released=refund < total, actor=actor, note=note)
        _move(dispute, DisputeStatus.RESOLVED, actor=actor, outcome=outcome, refund_amount=refund,
              release_amount=total - refund, resolution_note=note, resolved_by=f"{actor.type}:{actor.id}",
              resolved_at=timezone.now())
        event_publish(event_type="dispute.resolved", data=dispute_data(dispute))
    return dispute


def _refund_part(escrow: Escrow, amount: int, *, actor: Actor, reason: str) -> None:
    from osdm.payments.models import Payment
    from osdm.payments.services import refund_create

    qs = Payment.objects.filter(order_id=escrow.order_id)
    payment = (qs.filter(milestone_id=escrow.milestone_id) if escrow.milestone_id else
               qs.filter(milestone__isnull=True)).get()
    refund_create(actor=actor, payment=payment, amount=amount, reason=reason)


def _settle_work(escrow: Escrow, *, released: bool, actor: Actor, note: str) -> None:
    """Bring the order (or milestone) to the end the decision implies."""
    from osdm.orders import services as orders

    order = Order.objects.select_for_update().get(pk=escrow.order_id)
    if escrow.milestone_id:
        milestone = Milestone.objects.select_for_update().get(pk=escrow.milestone_id)
        milestone.order = order
        if released:
            if milestone.status == MilestoneStatus.FUNDED:
                orders._milestone_transition(milestone, MilestoneStatus.DELIVERED, actor=actor,
                                             event="milestone.delivered", note=note, delivered_at=timezone.now())
            if milestone.status == MilestoneStatus.DELIVERED:
                orders._milestone_transition(milestone, MilestoneStatus.ACCEPTED, actor=actor,
                                             event="milestone.accepted", note=note, accepted_at=timezone.now())
        elif milestone.status in (MilestoneStatus.FUNDED, MilestoneStatus.DELIVERED):
            orders._milestone_transition(milestone, MilestoneStatus.CANCELLED, actor=actor,
                                         event="milestone.cancelled", note=note)
        live = order.milestones.exclude(status=MilestoneStatus.CANCELLED)
        if order.status == OrderStatus.IN_PROGRESS and not live.exclude(status=MilestoneStatus.ACCEPTED).exists():
            target = OrderStatus.COMPLETED if live.exists() else OrderStatus.CANCELLED
            orders._transition(order, target, actor=actor, event=f"order.{target}", note=note,
                               **({"completed_at": timezone.now()} if target == OrderStatus.COMPLETED
                                  else {"cancelled_at": timezone.now()}))
        return
    if order.kind != OrderKind.SERVICE:
        return
    if released:
        if order.status == OrderStatus.IN_PROGRESS:
            orders._transition(order, OrderStatus.DELIVERED, actor=actor, event="order.delivered", note=note,
                               delivered_at=timezone.now())
        if order.status == OrderStatus.DELIVERED:
            orders._transition(order, OrderStatus.COMPLETED, actor=actor, event="order.completed", note=note,
                               completed_at=timezone.now())
    elif order.status in (OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED):
        orders._transition(order, OrderStatus.CANCELLED, actor=actor, event="order.cancelled", note=note,
                           cancelled_at=timezone.now())


def disputes_unanswered(*, now=None) -> int:
    """Disputes the seller did not answer in time resolve by the marketplace's rule."""
    now = now or timezone.now()
    rule = _tenant().dispute_unanswered_outcome
    actor = Actor.system("dispute-deadline")
    resolved = 0
    for dispute_id in list(Dispute.objects.filter(status=DisputeStatus.OPEN, respond_by__lte=now)
                           .values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                locked = Dispute.objects.select_for_update(skip_locked=True).filter(
                    pk=dispute_id, status=DisputeStatus.OPEN).first()
                if locked is None:
                    continue
                dispute_resolve(actor=actor, dispute=locked, outcome=rule,
                                note="The seller did not answer in time.")
                resolved += 1
        except Exception:
            # A gateway refusing a refund, say: this dispute waits for the next run (or a human);
            # the others are resolved now.
            logger.exception("resolving unanswered dispute %s failed", dispute_id)
    return resolved

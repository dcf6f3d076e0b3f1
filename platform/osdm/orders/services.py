"""Order writes: placing orders, the lifecycle of each order kind, proposals and contracts.

Every move goes through `_transition`, which locks the row, checks the TRANSITIONS table, records a
StatusChange with the actor, writes the audit record and publishes the event, in one transaction.
Who may make a move is checked before (403); whether the move is possible now is the guard (409).
Payment is not taken here: `order_mark_paid` and `milestone_mark_funded` are what the payments
issue calls when money has arrived.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.audit.services import Actor, audit_record
from osdm.catalog.models import Listing, Market, ServicePackage
from osdm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from osdm.core.last_writes import write_last
from osdm.core.prepared import Prepared, execute, insert, save_fields
from osdm.files.models import StoredFile
from webhooks.services import event_publish

from .models import (
    MILESTONE_TRANSITIONS,
    ORDER_TRANSITIONS,
    Milestone,
    MilestoneStatus,
    Order,
    OrderDelivery,
    OrderKind,
    OrderStatus,
    Proposal,
    StatusChange,
)

MAX_MILESTONES = 20


def commission_of(amount: int, bps: int) -> int:
    """The marketplace's cut, rounded half up to the minor unit."""
    return (amount * bps + 5000) // 10000


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def order_data(order: Order) -> dict:
    return {"id": str(order.pk), "number": order.number, "kind": order.kind, "status": order.status,
            "buyer_id": str(order.buyer_id), "seller_id": str(order.seller_id), "listing_id": str(order.listing_id),
            "currency": order.currency, "subtotal": order.subtotal, "commission": order.commission,
            "total": order.total, "seller_amount": order.seller_amount, "created_at": _iso(order.created_at)}


def milestone_data(milestone: Milestone) -> dict:
    return {"id": str(milestone.pk), "order_id": str(milestone.order_id), "position": milestone.position,
            "title": milestone.title, "amount": milestone.amount, "status": milestone.status}


def proposal_data(proposal: Proposal) -> dict:
    return {"id": str(proposal.pk), "listing_id": str(proposal.listing_id), "seller_id": str(proposal.seller_id),
            "amount": proposal.amount, "currency": proposal.currency, "duration_days": proposal.duration_days,
            "status": proposal.status}


def _tenant():
    from tenants.selectors import current_tenant

    return current_tenant()


def _next_number() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('orders_order_number_seq')")
        return cursor.fetchone()[0]


def _record(order: Order, *, actor: Actor, from_status: str, to_status: str, milestone: Milestone | None = None,
            note: str = "") -> StatusChange:
    change = StatusChange(order=order, milestone=milestone, from_status=from_status, to_status=to_status,
                          actor_type=actor.type, actor_id=actor.id, note=note[:1000])
    insert(change)
    return change


def _transition(order: Order, to_status: str, *, actor: Actor, note: str = "", event: str | None = None,
                **fields: Any) -> Order:
    """The one guard for orders. The caller holds the row lock (select_for_update)."""
    allowed = ORDER_TRANSITIONS[order.kind].get(order.status, set())
    if to_status not in allowed:
        raise Conflict(_("This %(kind)s order is %(status)s: it cannot become %(to)s.")
                       % {"kind": order.kind, "status": order.status, "to": to_status},
                       code="invalid_transition")
    before = order.status
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    save_fields(order, ["status", "updated_at", *fields])
    _record(order, actor=actor, from_status=before, to_status=to_status, note=note)
    audit_record(actor=actor, action=f"order.{to_status}", object_type="order", object_id=order.pk,
                 before={"status": before}, after={"status": to_status, **({"note": note} if note else {})})
    if event:
        event_publish(event_type=event, data=order_data(order))
    return order


def _milestone_transition(milestone: Milestone, to_status: str, *, actor: Actor, event: str, note: str = "",
                          **fields: Any) -> Milestone:
    if to_status not in MILESTONE_TRANSITIONS[milestone.status]:
        raise Conflict(_("This milestone is %(status)s: it cannot become %(to)s.")
                       % {"status": milestone.status, "to": to_status}, code="invalid_transition")
    before = milestone.status
    milestone.status = to_status
    for name, value in fields.items():
        setattr(milestone, name, value)
    milestone.save(update_fields=["status", *fields])
    _record(milestone.order, actor=actor, from_status=before, to_status=to_status, milestone=milestone, note=note)
    audit_record(actor=actor, action=f"milestone.{to_status}", object_type="milestone", object_id=milestone.pk,
                 before={"status": before}, after={"status": to_status})
    event_publish(event_type=event, data=milestone_data(milestone))
    return milestone


def _locked(order: Order) -> Order:
    return order_lock(order.pk)


def _count_sale(order: Order) -> None:
    """One more sale on the listing: a hot row for a popular product, so written last (the payment's
    transaction runs `last_writes`)."""
    listing_id = order.listing_id
    write_last(lambda: execute(_COUNT_SALE, [listing_id]))


# What `Listing.objects.filter(pk=…).update(sales_count=F("sales_count") + 1)` sends, prepared.
_COUNT_SALE = f'UPDATE {Listing._meta.db_table} SET sales_count = sales_count + 1 WHERE id = %s'  # noqa: S608


# The reads of every checkout, compiled once (osdm.core.prepared).
_order_locked = Prepared(lambda p: Order.objects.select_for_update(of=("self",)).select_related("listing")
                         .filter(pk=p.uuid("id")).order_by()[:1])
_listing_on_sale = Prepared(lambda p: Listing.objects.filter(pk=p.uuid("id"), status=Listing.Status.PUBLISHED,
                                                             hidden=False).order_by()[:1])


def order_lock(order_id) -> Order:
    """The order, its row locked until the transaction ends (the listing joined for reading only)."""
    order = _order_locked.first(id=order_id)
    if order is None:
        raise Order.DoesNotExist(order_id)
    return order


def _require(condition: bool, message: str, code: str) -> None:
    if not condition:
        raise PermissionDenied(message, code=code)


# --- placing orders ----------------------------------------------------------------------------


def order_place(*, actor: Actor, buyer, listing_id, package_tier: str | None = None,
                requirements: list[dict] | None = None) -> Order:
    """A product purchase or a service order, pending payment."""
    listing = _listing_on_sale.first(id=listing_id)
    if listing is None:
        raise NotFound(_("No such listing is on sale."), code="listing_not_found")
    if listing.market == Market.PROJECTS:
        raise ValidationFailed(_("Projects are hired through proposals, not ordered."), code="not_orderable")
    if listing.owner_id == buyer.pk:
        raise Conflict(_("You cannot order your own listing."), code="own_listing")
    tenant = _tenant()
    package = None
    answers: list[dict] = []
    if listing.market == Market.SERVICES:
        if not package_tier:
            raise ValidationFailed(fields={"package": [_("Choose a package.")]})
        package = ServicePackage.objects.filter(listing=listing, tier=package_tier).first()
        if package is None:
            raise ValidationFailed(_("This service has no such package."), code="unknown_package",
                                   fields={"package": [_("This service has no such package.")]})
        answers = _answers(listing, requirements or [])
        subtotal, title = package.price, f"{listing.title} — {package.title}"
    else:
        if package_tier or requirements:
            raise ValidationFailed(_("Products have no packages or requirements."), code="not_applicable")
        subtotal, title = listing.price, listing.title
    commission = commission_of(subtotal, tenant.commission_bps)
    with transaction.atomic():
        order = Order(
            number=_next_number(), kind=OrderKind.PRODUCT if listing.market == Market.PRODUCTS else OrderKind.SERVICE,
            status=OrderStatus.PENDING_PAYMENT, buyer=buyer, seller_id=listing.owner_id, listing=listing,
            package=package, title=title[:200], currency=listing.currency, subtotal=subtotal,
            commission_bps=tenant.commission_bps, commission=commission, total=subtotal,
            seller_amount=subtotal - commission, requirements=answers,
            delivery_days=package.delivery_days if package else None,
            revisions_included=package.revisions if package else 0)
        insert(order)
        placed = _record(order, actor=actor, from_status="", to_status=order.status)
        audit_record(actor=actor, action="order.created", object_type="order", object_id=order.pk,
                     after=order_data(order))
        event_publish(event_type="order.created", data=order_data(order))
        from osdm.escrow.services import escrow_open
        from osdm.payments.services import payment_create_for_order

        payment = payment_create_for_order(order=order)
        escrow_open(order=order)
    # Everything the order's detail shows is in hand: the response needs no second read.
    order._prefetched_objects_cache = {"milestones": [], "deliveries": [], "status_changes": [placed],
                                       "payments": [payment]}
    return order


def _answers(listing: Listing, given: list[dict]) -> list[dict]:
    questions = [q["question"] for q in listing.requirements]
    by_question = {a.get("question"): a.get("answer", "") for a in given}
    unknown = [q for q in by_question if q not in questions]
    if unknown:
        raise ValidationFailed(fields={"requirements": [_("Unknown question: %(q)s") % {"q": q} for q in unknown]})
    missing = [q["question"] for q in listing.requirements if q.get("required") and not str(
        by_question.get(q["question"], "")).strip()]
    if missing:
        raise ValidationFailed(_("Answer every required question."), code="requirements_missing",
                               fields={"requirements": missing})
    return [{"question": q, "answer": str(by_question.get(q, ""))} for q in questions]


def order_mark_paid(*, actor: Actor, order: Order, locked: bool = False, escrow=None) -> Order:
    """Money for the order has arrived (called by payments, in the payment's transaction; `locked`:
    the caller holds the order's row lock already; `escrow`: the order's escrow, held and locked by
    the caller). Products complete at once: their files become downloadable; services start, with
    their due date."""
    with transaction.atomic(savepoint=False):
        order = order if locked else _locked(order)
        now = timezone.now()
        if order.kind == OrderKind.PRODUCT:
            # Delivered at payment: the files become downloadable now.
            order = _transition(order, OrderStatus.COMPLETED, actor=actor, event="order.paid", paid_at=now,
                                delivered_at=now, completed_at=now)
            event_publish(event_type="order.completed", data=order_data(order))
            _count_sale(order)
            if _tenant().escrow_release_products_on_payment:
                _release(order, actor=actor, escrow=escrow)
            else:
                # Held by policy: released by the buyer, the operator, or the auto-release clock,
                # which starts now, as does the dispute window.
                from osdm.escrow.services import escrow_delivered

                escrow_delivered(order=order)
        elif order.kind == OrderKind.SERVICE:
            order = _transition(order, OrderStatus.IN_PROGRESS, actor=actor, event="order.paid", paid_at=now,
                                due_at=now + timedelta(days=order.delivery_days or 0))
        else:
            raise Conflict(_("Contracts are paid milestone by milestone."), code="invalid_transition")
    return order


def order_cancel(*, actor: Actor, order: Order, principal, reason: str = "") -> Order:
    """Before payment the buyer may cancel; once work started, the seller (declining) or the operator."""
    with transaction.atomic():
        order = _locked(order)
        operator = getattr(principal, "is_operator", False)
        if OrderStatus.CANCELLED not in ORDER_TRANSITIONS[order.kind].get(order.status, set()):
            return _transition(order, OrderStatus.CANCELLED, actor=actor)  # refused: 409 whoever asks
        from osdm.escrow import services as escrow

        if order.status == OrderStatus.PENDING_PAYMENT:
            _require(operator or principal.pk == order.buyer_id, _("Only the buyer can cancel this order."),
                     "not_the_buyer")
            escrow.escrow_cancel(order=order)
        else:
            _require(operator or principal.pk == order.seller_id,
                     _("Once paid, only the seller or the operator can cancel this order."), "not_allowed")
            # Paid: the buyer gets their money back through the gateway, in this same transaction.
            _refund_escrow(order, actor=actor, reason=reason or "order cancelled")
        return _transition(order, OrderStatus.CANCELLED, actor=actor, note=reason, event="order.cancelled",
                           cancelled_at=timezone.now())


def _refund_escrow(order: Order, *, actor: Actor, reason: str, milestone: Milestone | None = None) -> None:
    """Give a paid order's (or milestone's) escrow back through the gateway. A disputed escrow is
    the dispute's to decide: cancelling is refused while it is open."""
    from osdm.escrow import services as escrow
    from osdm.escrow.models import Escrow, EscrowStatus

    qs = Escrow.objects.select_for_update().filter(order=order)
    found = (qs.filter(milestone=milestone) if milestone else qs.filter(milestone__isnull=True)).first()
    if found is None:
        return
    if found.status == EscrowStatus.DISPUTED:
        raise Conflict(_("A dispute is open on this payment: its resolution decides the refund."),
                       code="escrow_disputed")
    if found.status == EscrowStatus.HELD:
        escrow.escrow_refund_full(escrow=found, actor=actor, reason=reason)


def _delivery_files(principal, file_ids: list) -> list[StoredFile]:
    files = list(StoredFile.objects.filter(pk__in=file_ids, owner_id=principal.pk))
    if len(files) != len(set(file_ids)):
        raise ValidationFailed(fields={"file_ids": [_("Upload each file first; only your own files.")]})
    return files


def order_deliver(*, actor: Actor, order: Order, principal, message: str, file_ids: list | None = None,
                  milestone_id=None) -> OrderDelivery:
    with transaction.atomic():
        order = _locked(order)
        _require(principal.pk == order.seller_id, _("Only the seller delivers."), "not_the_seller")
        files = _delivery_files(principal, file_ids or [])
        now = timezone.now()
        milestone = None
        if order.kind == OrderKind.CONTRACT:
            milestone = _milestone_of(order, milestone_id)
            _milestone_transition(milestone, MilestoneStatus.DELIVERED, actor=actor, event="milestone.delivered",
                                  delivered_at=now)
            from osdm.escrow.services import escrow_delivered

            escrow_delivered(order=order, milestone=milestone)
        elif order.kind == OrderKind.SERVICE:
            if milestone_id:
                raise ValidationFailed(fields={"milestone_id": [_("Only contracts have milestones.")]})
            _transition(order, OrderStatus.DELIVERED, actor=actor, event="order.delivered", delivered_at=now)
            from osdm.escrow.services import escrow_delivered

            escrow_delivered(order=order)
        else:
            raise Conflict(_("Products are delivered by their files when paid."), code="invalid_transition")
        delivery = OrderDelivery.objects.create(order=order, milestone=milestone, message=message)
        delivery.files.set(files)
    return delivery


def _milestone_of(order: Order, milestone_id) -> Milestone:
    if not milestone_id:
        raise ValidationFailed(fields={"milestone_id": [_("Say which milestone.")]})
    milestone = Milestone.objects.select_for_update().filter(order=order, pk=milestone_id).first()
    if milestone is None:
        raise NotFound(code="milestone_not_found")
    milestone.order = order
    return milestone


def order_complete(*, actor: Actor, order: Order, principal) -> Order:
    """The buyer accepts a delivered service order."""
    with transaction.atomic():
        order = _locked(order)
        _require(principal.pk == order.buyer_id, _("Only the buyer accepts a delivery."), "not_the_buyer")
        if order.kind != OrderKind.SERVICE:
            raise Conflict(_("Accept a contract's milestones one by one."), code="invalid_transition")
        order = _transition(order, OrderStatus.COMPLETED, actor=actor, event="order.completed",
                            completed_at=timezone.now())
        _count_sale(order)
        _release(order, actor=actor)
    return order


def _release(order: Order, *, actor: Actor, milestone: Milestone | None = None, escrow=None) -> None:
    """Release the order's (or milestone's) held escrow, if any. `escrow`: that escrow, already
    read under its lock by the caller (the payment that just held it)."""
    from osdm.escrow.models import Escrow, EscrowStatus
    from osdm.escrow.services import escrow_release

    if escrow is None or escrow.status != EscrowStatus.HELD or escrow.milestone_id != (milestone and milestone.pk):
        qs = Escrow.objects.select_for_update().filter(order=order, status=EscrowStatus.HELD)
        escrow = (qs.filter(milestone=milestone) if milestone else qs.filter(milestone__isnull=True)).first()
    if escrow is not None:
        escrow_release(escrow=escrow, actor=actor, locked=True)


def order_request_revision(*, actor: Actor, order: Order, principal, message: str) -> Order:
    with transaction.atomic():
        order = _locked(order)
        _require(principal.pk == order.buyer_id, _("Only the buyer asks for a revision."), "not_the_buyer")
        if order.kind != OrderKind.SERVICE:
            raise Conflict(_("Ask for revisions on a contract's milestones."), code="invalid_transition")
        if order.status == OrderStatus.DELIVERED and order.revisions_used >= order.revisions_included:
            raise Conflict(_("No revisions are left on this order."), code="no_revisions_left")
        from osdm.escrow.services import escrow_delivery_undone

        escrow_delivery_undone(order=order)
        return _transition(order, OrderStatus.IN_PROGRESS, actor=actor, note=message, event="order.revision_requested",
                           revisions_used=order.revisions_used + 1, delivered_at=None)


# --- proposals and contracts -------------------------------------------------------------------


def proposal_create(*, actor: Actor, seller, listing_id, cover_letter: str, amount: int, duration_days: int,
                    milestones: list[dict] | None = None) -> Proposal:
    listing = Listing.objects.filter(pk=listing_id, market=Market.PROJECTS, status=Listing.Status.PUBLISHED,
                                     hidden=False).first()
    if listing is None:
        raise NotFound(_("No such open project."), code="listing_not_found")
    if listing.owner_id == seller.pk:
        raise Conflict(_("You cannot propose on your own project."), code="own_listing")
    if not seller.is_seller:
        raise PermissionDenied(_("Create a seller profile before sending proposals."), code="seller_profile_required")
    milestones = milestones or [{"title": _("Complete the project"), "amount": amount}]
    if len(milestones) > MAX_MILESTONES:
        raise ValidationFailed(fields={"milestones": [_("At most %(n)s milestones.") % {"n": MAX_MILESTONES}]})
    if sum(m["amount"] for m in milestones) != amount:
        raise ValidationFailed(_("The milestones must add up to the proposed amount."), code="milestones_mismatch",
                               fields={"milestones": [_("The milestones must add up to the proposed amount.")]})
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(listing=listing, seller=seller, cover_letter=cover_letter,
                                               amount=amount, currency=listing.currency, duration_days=duration_days,
                                               milestones=milestones)
            audit_record(actor=actor, action="proposal.created", object_type="proposal", object_id=proposal.pk,
                         after=proposal_data(proposal))
            event_publish(event_type="proposal.created", data=proposal_data(proposal))
    except IntegrityError as exc:
        raise Conflict(_("You already have a pending proposal on this project."), code="proposal_exists") from exc
    return proposal


def _proposal_locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().select_related("listing").get(pk=proposal.pk)


def _proposal_move(proposal: Proposal, to_status: str, *, actor: Actor, event: str) -> Proposal:
    if to_status not in Proposal.TRANSITIONS[proposal.status]:
        raise Conflict(_("This proposal is %(status)s already.") % {"status": proposal.status},
                       code="invalid_transition")
    before = proposal.status
    proposal.status, proposal.decided_at = to_status, timezone.now()
    proposal.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(actor=actor, action=f"proposal.{to_status}", object_type="proposal", object_id=proposal.pk,
                 before={"status": before}, after={"status": to_status})
    event_publish(event_type=event, data=proposal_data(proposal))
    return proposal


def proposal_withdraw(*, actor: Actor, proposal: Proposal, principal) -> Proposal:
    with transaction.atomic():
        proposal = _proposal_locked(proposal)
        _require(principal.pk == proposal.seller_id, _("Only its author withdraws a proposal."), "not_the_seller")
        return _proposal_move(proposal, Proposal.Status.WITHDRAWN, actor=actor, event="proposal.withdrawn")


def proposal_decline(*, actor: Actor, proposal: Proposal, principal) -> Proposal:
    with transaction.atomic():
        proposal = _proposal_locked(proposal)
        _require(principal.pk == proposal.listing.owner_id, _("Only the project's poster declines."), "not_the_buyer")
        return _proposal_move(proposal, Proposal.Status.DECLINED, actor=actor, event="proposal.declined")


def proposal_accept(*, actor: Actor, proposal: Proposal, principal) -> Order:
    """The poster hires: the proposal becomes a contract with its milestones; the other pending
    proposals are declined and the project closes. The project row is locked first, so of two
    acceptances racing on one project exactly one wins."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=proposal.listing_id)
        proposal = _proposal_locked(proposal)
        _require(principal.pk == listing.owner_id, _("Only the project's poster accepts a proposal."), "not_the_buyer")
        if listing.status != Listing.Status.PUBLISHED:
            raise Conflict(_("This project is no longer open."), code="project_closed")
        _proposal_move(proposal, Proposal.Status.ACCEPTED, actor=actor, event="proposal.accepted")
        tenant = _tenant()
        commission = commission_of(proposal.amount, tenant.commission_bps)
        now = timezone.now()
        order = Order(
            number=_next_number(), kind=OrderKind.CONTRACT, status=OrderStatus.IN_PROGRESS, buyer_id=listing.owner_id,
            seller_id=proposal.seller_id, listing=listing, proposal=proposal, title=listing.title,
            currency=proposal.currency, subtotal=proposal.amount, commission_bps=tenant.commission_bps,
            commission=commission, total=proposal.amount, seller_amount=proposal.amount - commission,
            delivery_days=proposal.duration_days, due_at=now + timedelta(days=proposal.duration_days))
        insert(order)
        # Commission per milestone, with the rounding remainder on the last, so they add up exactly.
        left = commission
        rows = []
        for position, item in enumerate(proposal.milestones, start=1):
            cut = left if position == len(proposal.milestones) else commission_of(item["amount"], tenant.commission_bps)
            cut = min(cut, item["amount"])
            left -= cut
            due_days = item.get("due_days")
            rows.append(Milestone(order=order, position=position, title=item["title"][:200], amount=item["amount"],
                                  commission=cut, seller_amount=item["amount"] - cut,
                                  due_at=now + timedelta(days=due_days) if due_days else None))
        Milestone.objects.bulk_create(rows)
        _record(order, actor=actor, from_status="", to_status=order.status, note=f"proposal {proposal.pk}")
        audit_record(actor=actor, action="order.created", object_type="order", object_id=order.pk,
                     after=order_data(order))
        event_publish(event_type="order.created", data=order_data(order))
        for other in Proposal.objects.select_for_update().filter(listing=listing, status=Proposal.Status.PENDING):
            _proposal_move(other, Proposal.Status.DECLINED, actor=Actor.system("hiring"), event="proposal.declined")
        before = listing.status
        listing.status = Listing.Status.CLOSED
        listing.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="listing.closed", object_type="listing", object_id=listing.pk,
                     before={"status": before}, after={"status": listing.status})
    return order


def milestone_mark_funded(*, actor: Actor, milestone: Milestone) -> Milestone:
    """Money for a milestone has arrived (called by payments). The first funded milestone is when the
    contract is paid (`paid_at`), as a payment is for the other orders: it counts as a paid order from
    then on. (The revenue it brings is each milestone's amount when that milestone is funded.)"""
    with transaction.atomic():
        order = _locked(milestone.order)
        milestone = _milestone_of(order, milestone.pk)
        if order.status != OrderStatus.IN_PROGRESS:
            raise Conflict(_("This contract is %(status)s.") % {"status": order.status}, code="invalid_transition")
        now = timezone.now()
        milestone = _milestone_transition(milestone, MilestoneStatus.FUNDED, actor=actor, event="milestone.funded",
                                          funded_at=now)
        if order.paid_at is None:
            order.paid_at = now
            order.save(update_fields=["paid_at", "updated_at"])
        return milestone


def milestone_accept(*, actor: Actor, order: Order, milestone_id, principal) -> Milestone:
    with transaction.atomic():
        order = _locked(order)
        _require(principal.pk == order.buyer_id, _("Only the buyer accepts a delivery."), "not_the_buyer")
        milestone = _milestone_of(order, milestone_id)
        milestone = _milestone_transition(milestone, MilestoneStatus.ACCEPTED, actor=actor, event="milestone.accepted",
                                          accepted_at=timezone.now())
        _release(order, actor=actor, milestone=milestone)
        remaining = order.milestones.exclude(status__in=[MilestoneStatus.ACCEPTED, MilestoneStatus.CANCELLED])
        if not remaining.exists():
            _transition(order, OrderStatus.COMPLETED, actor=actor, event="order.completed",
                        completed_at=timezone.now())
    return milestone


def milestone_request_revision(*, actor: Actor, order: Order, milestone_id, principal, message: str) -> Milestone:
    with transaction.atomic():
        order = _locked(order)
        _require(principal.pk == order.buyer_id, _("Only the buyer asks for a revision."), "not_the_buyer")
        milestone = _milestone_of(order, milestone_id)
        milestone = _milestone_transition(milestone, MilestoneStatus.FUNDED, actor=actor,
                                          event="milestone.revision_requested", note=message,
                                          revisions_used=milestone.revisions_used + 1, delivered_at=None)
        from osdm.escrow.services import escrow_delivery_undone

        escrow_delivery_undone(order=order, milestone=milestone)
        return milestone


def milestone_cancel(*, actor: Actor, order: Order, milestone_id, principal, reason: str = "") -> Milestone:
    """An unfunded milestone can be dropped by either party. A funded (or delivered) one, as a paid
    order: by the seller (declining) or the operator, and its escrow is refunded to the buyer through
    the gateway in the same transaction; a disputed one only by the dispute's resolution. The
    contract completes when the rest is done."""
    with transaction.atomic():
        order = _locked(order)
        operator = getattr(principal, "is_operator", False)
        _require(principal.pk in (order.buyer_id, order.seller_id) or operator,
                 _("Only the contract's parties can drop a milestone."), "not_a_party")
        milestone = _milestone_of(order, milestone_id)
        if milestone.status in (MilestoneStatus.FUNDED, MilestoneStatus.DELIVERED):
            _require(operator or principal.pk == order.seller_id,
                     _("Once funded, only the seller or the operator can cancel a milestone."), "not_allowed")
            _refund_escrow(order, milestone=milestone, actor=actor, reason=reason or "milestone cancelled")
        milestone = _milestone_transition(milestone, MilestoneStatus.CANCELLED, actor=actor,
                                          event="milestone.cancelled", note=reason)
        live = order.milestones.exclude(status=MilestoneStatus.CANCELLED)
        if not live.exists():
            _transition(order, OrderStatus.CANCELLED, actor=actor, event="order.cancelled",
                        cancelled_at=timezone.now())
        elif not live.exclude(status=MilestoneStatus.ACCEPTED).exists():
            _transition(order, OrderStatus.COMPLETED, actor=actor, event="order.completed",
                        completed_at=timezone.now())
    return milestone

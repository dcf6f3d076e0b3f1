"""Order reads, scoped so that an order or a proposal of someone else is simply not found."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from osdm.catalog.models import Listing
from osdm.core.errors import NotFound, ValidationFailed
from osdm.core.prepared import Prepared, prefetched
from osdm.payments.models import Payment

from .models import Milestone, Order, OrderDelivery, OrderKind, Proposal, StatusChange

MARKET_KIND = {"products": OrderKind.PRODUCT, "services": OrderKind.SERVICE, "projects": OrderKind.CONTRACT}


def _orders_of(party=None, *, everyone: bool = False) -> QuerySet[Order]:
    """Orders as a party sees them: those they buy or sell; every one with `everyone` (the operator).
    The one rule, for the querysets below and the prepared reads."""
    qs = Order.objects.select_related("package")
    return qs if everyone else qs.filter(Q(buyer_id=party) | Q(seller_id=party))


def _visible_orders(principal) -> QuerySet[Order]:
    return _orders_of(getattr(principal, "pk", None), everyone=getattr(principal, "is_operator", False))


def order_list(*, principal, role: str | None = None, market: str | None = None,
               status: str | None = None) -> QuerySet[Order]:
    qs = _visible_orders(principal).prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("position")))
    if role == "buyer":
        qs = qs.filter(buyer_id=principal.pk)
    elif role == "seller":
        qs = qs.filter(seller_id=principal.pk)
    elif role:
        raise ValidationFailed(fields={"role": ["One of: buyer, seller."]})
    if market:
        if market not in MARKET_KIND:
            raise ValidationFailed(fields={"market": ["One of: products, services, projects."]})
        qs = qs.filter(kind=MARKET_KIND[market])
    if status:
        qs = qs.filter(status=status)
    return qs


# An order's detail is read after every step of a checkout: its reads are compiled once (osdm.core.prepared).
_order_of_party = Prepared(lambda p: _orders_of(p.uuid("party")).filter(pk=p.uuid("id")).order_by()[:1])
_order_any = Prepared(lambda p: _orders_of(everyone=True).filter(pk=p.uuid("id")).order_by()[:1])
_history = Prepared(lambda p: StatusChange.objects.filter(order_id=p.uuid("order")).order_by("created_at", "id"))
_payments = Prepared(lambda p: Payment.objects.filter(order_id=p.uuid("order")))


def order_get(*, principal, order_id) -> Order:
    """One order with what its detail shows. Relations its kind never has (a product's milestones and
    deliveries, a service's milestones) are known empty and not queried."""
    if getattr(principal, "is_operator", False):
        order = _order_any.first(id=order_id)
    else:
        order = _order_of_party.first(id=order_id, party=principal.pk)
    if order is None:
        raise NotFound(code="order_not_found")
    prefetched(order, "status_changes", _history.all(order=order.pk))
    prefetched(order, "payments", _payments.all(order=order.pk))
    lookups = []
    empty = []
    if order.kind == OrderKind.CONTRACT:
        lookups.append(Prefetch("milestones", queryset=Milestone.objects.order_by("position")))
    else:
        empty.append("milestones")
    if order.kind == OrderKind.PRODUCT:
        empty.append("deliveries")
    else:
        lookups.append(Prefetch("deliveries", queryset=OrderDelivery.objects.prefetch_related("files")))
    if lookups:
        prefetch_related_objects([order], *lookups)
    for name in empty:
        prefetched(order, name, [])  # not .none(): iterating that compiles a query (~0.7 ms) to learn it is empty
    return order


def library(*, principal) -> QuerySet[Order]:
    """A buyer's paid product orders: what they may download."""
    return (Order.objects.filter(buyer_id=principal.pk, kind=OrderKind.PRODUCT, status__in=Order.PAID_STATUSES)
            .select_related("package").prefetch_related("milestones", "listing__files__file"))


def proposals_of_listing(*, principal, listing_id) -> QuerySet[Proposal]:
    listing = Listing.objects.filter(pk=listing_id).only("owner_id", "market").first()
    if listing is None:
        raise NotFound(code="listing_not_found")
    qs = Proposal.objects.filter(listing_id=listing_id).select_related("contract")
    if getattr(principal, "is_operator", False) or listing.owner_id == principal.pk:
        return qs
    return qs.filter(seller_id=principal.pk)


def proposal_list(*, principal, role: str | None = None, status: str | None = None) -> QuerySet[Proposal]:
    if role not in (None, "seller", "buyer"):
        raise ValidationFailed(fields={"role": ["One of: buyer, seller."]})
    qs = Proposal.objects.select_related("contract")
    if role == "buyer":
        qs = qs.filter(listing__owner_id=principal.pk)
    elif role == "seller":
        qs = qs.filter(seller_id=principal.pk)
    else:
        qs = qs.filter(Q(seller_id=principal.pk) | Q(listing__owner_id=principal.pk))
    if status:
        qs = qs.filter(status=status)
    return qs


def proposal_get(*, principal, proposal_id) -> Proposal:
    proposal = Proposal.objects.select_related("listing").filter(pk=proposal_id).first()
    if proposal is None or principal.pk not in (proposal.seller_id, proposal.listing.owner_id):
        raise NotFound(code="proposal_not_found")
    return proposal

"""Escrow and wallet reads, scoped to the parties (and the operator)."""

from __future__ import annotations

import uuid

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from osdm.core.errors import NotFound, ValidationFailed
from osdm.ledger.models import Account, Transfer

from .models import Escrow, EscrowStatus

MARKET_KIND = {"products": "product", "services": "service", "projects": "contract"}


def escrow_list(*, principal, role: str | None = None, status: str | None = None,
                market: str | None = None) -> QuerySet[Escrow]:
    qs = Escrow.objects.select_related("order")
    if not getattr(principal, "is_operator", False):
        qs = qs.filter(Q(buyer_id=principal.pk) | Q(seller_id=principal.pk))
    if role == "buyer":
        qs = qs.filter(buyer_id=principal.pk)
    elif role == "seller":
        qs = qs.filter(seller_id=principal.pk)
    elif role:
        raise ValidationFailed(fields={"role": ["One of: buyer, seller."]})
    if status:
        if status not in EscrowStatus.values:
            raise ValidationFailed(fields={"status": [f"One of: {', '.join(EscrowStatus.values)}."]})
        qs = qs.filter(status=status)
    if market:
        if market not in MARKET_KIND:
            raise ValidationFailed(fields={"market": ["One of: products, services, projects."]})
        qs = qs.filter(order__kind=MARKET_KIND[market])
    return qs


def escrow_get(*, principal, escrow_id) -> Escrow:
    escrow = escrow_list(principal=principal).filter(pk=escrow_id).first()
    if escrow is None:
        raise NotFound(code="escrow_not_found")
    return escrow


def wallet(*, user) -> list[dict]:
    """Per currency: available, pending in escrow, paid out, and owed (clawbacks the wallet could
    not cover, repaid from the next earnings)."""
    rows = []
    owners = Account.objects.filter(owner=user)
    debts = {a.currency: a.debits_posted - a.credits_posted
             for a in owners.filter(kind=Account.Kind.SELLER_DEBT)}
    for account in owners.filter(kind=Account.Kind.WALLET).order_by("currency"):
        paid_out = (Transfer.objects.filter(debit_account=account, code="payout.request")
                    .aggregate(total=Sum("amount"))["total"] or 0)
        returned = (Transfer.objects.filter(credit_account=account, code="payout.return")
                    .aggregate(total=Sum("amount"))["total"] or 0)
        rows.append({"currency": account.currency, "available": account.available,
                     "pending": account.credits_pending, "paid_out": paid_out - returned,
                     "owed": debts.get(account.currency, 0)})
    return rows


def wallet_transactions(*, user, currency: str | None = None) -> QuerySet[Transfer]:
    """Every transfer that moved the wallet, newest first. A hold is one line whose status follows
    it (pending, then released or voided); the void itself is not a line of its own (it moved
    nothing), a release is (the money arriving)."""
    accounts = Account.objects.filter(owner=user, kind=Account.Kind.WALLET)
    if currency:
        accounts = accounts.filter(currency=currency)
    resolution = Transfer.objects.filter(pending_id=OuterRef("pk")).values("kind")[:1]
    return (Transfer.objects.filter(Q(debit_account__in=accounts) | Q(credit_account__in=accounts))
            .exclude(kind=Transfer.Kind.VOID_PENDING).exclude(amount=0)
            .annotate(resolution_kind=Subquery(resolution))
            .select_related("debit_account", "credit_account"))


def order_ids_of(references: list[str]) -> dict[str, str]:
    """Escrow and withdrawal references → the order each escrow belongs to."""
    ids = []
    for reference in references:
        try:
            ids.append(uuid.UUID(reference))
        except ValueError:
            continue
    return {str(pk): str(order_id) for pk, order_id in Escrow.objects.filter(pk__in=ids).values_list("pk", "order_id")}

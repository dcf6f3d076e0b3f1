"""Payment reads: the payer, the order's parties and the operator see a payment; nobody else."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from osdm.core.errors import NotFound
from osdm.core.prepared import Prepared, prefetched

from .models import Payment, Refund


def _visible(principal) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("order").prefetch_related("refunds")
    if getattr(principal, "is_operator", False):
        return qs
    return qs.filter(Q(order__buyer_id=principal.pk) | Q(order__seller_id=principal.pk))


def _party_payment(p):
    party = p.uuid("party")
    return (Payment.objects.select_related("order")
            .filter(Q(order__buyer_id=party) | Q(order__seller_id=party), pk=p.uuid("id")))


# Read at every step of a checkout: compiled once (osdm.core.prepared).
_payment_of_party = Prepared(lambda p: _party_payment(p).order_by()[:1])
_payment_any = Prepared(lambda p: Payment.objects.select_related("order").filter(pk=p.uuid("id")).order_by()[:1])
_refunds = Prepared(lambda p: Refund.objects.filter(payment_id=p.uuid("payment")))


def payment_get(*, principal, payment_id) -> Payment:
    if getattr(principal, "is_operator", False):
        payment = _payment_any.first(id=payment_id)
    else:
        payment = _payment_of_party.first(id=payment_id, party=principal.pk)
    if payment is None:
        raise NotFound(code="payment_not_found")
    return payment


def payment_refunds_load(payment: Payment) -> Payment:
    """The payment's refunds read into `payment.refunds.all()` (what its representation lists)."""
    prefetched(payment, "refunds", _refunds.all(payment=payment.pk))
    return payment


def payment_list(*, principal, order_id=None, status: str | None = None) -> QuerySet[Payment]:
    qs = _visible(principal)
    if order_id:
        qs = qs.filter(order_id=order_id)
    if status:
        qs = qs.filter(status=status)
    return qs

"""Payment reads: the payer, the order's parties and the operator see a payment; nobody else."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from osdm.core.errors import NotFound
from osdm.core.prepared import Prepared, prefetched

from .models import Payment, Refund


def _payments_of(party=None, *, everyone: bool = False) -> QuerySet[Payment]:
    """Payments as a party sees them: of the orders they buy or sell; every one with `everyone`
    (the operator). The one rule, for the querysets below and the prepared reads."""
    qs = Payment.objects.select_related("order")
    return qs if everyone else qs.filter(Q(order__buyer_id=party) | Q(order__seller_id=party))


def _visible(principal) -> QuerySet[Payment]:
    return _payments_of(getattr(principal, "pk", None), everyone=getattr(principal, "is_operator", False)).prefetch_related("refunds")


# Read at every step of a checkout: compiled once (osdm.core.prepared).
_payment_of_party = Prepared(lambda p: _payments_of(p.uuid("party")).filter(pk=p.uuid("id")).order_by()[:1])
_payment_any = Prepared(lambda p: _payments_of(everyone=True).filter(pk=p.uuid("id")).order_by()[:1])
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

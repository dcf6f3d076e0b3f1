"""Payment reads: the payer, the order's parties and the operator see a payment; nobody else."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from osdm.core.errors import NotFound

from .models import Payment


def _visible(principal) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("order").prefetch_related("refunds")
    if getattr(principal, "is_operator", False):
        return qs
    return qs.filter(Q(order__buyer_id=principal.pk) | Q(order__seller_id=principal.pk))


def payment_get(*, principal, payment_id) -> Payment:
    payment = _visible(principal).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(code="payment_not_found")
    return payment


def payment_list(*, principal, order_id=None, status: str | None = None) -> QuerySet[Payment]:
    qs = _visible(principal)
    if order_id:
        qs = qs.filter(order_id=order_id)
    if status:
        qs = qs.filter(status=status)
    return qs

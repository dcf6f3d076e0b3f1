"""Payout reads, scoped in one place: a seller sees their own destinations and withdrawals, the
operator sees every withdrawal. Anything else is simply not found."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from osdm.core.errors import NotFound, ValidationFailed

from .models import PayoutDestination, Withdrawal, WithdrawalStatus


def destination_list(*, user) -> QuerySet[PayoutDestination]:
    return PayoutDestination.objects.filter(seller_id=user.pk, removed_at__isnull=True)


def destination_get(*, user, destination_id) -> PayoutDestination:
    destination = destination_list(user=user).filter(pk=destination_id).first()
    if destination is None:
        raise NotFound(code="destination_not_found")
    return destination


def withdrawal_list(*, principal, status: str | None = None, seller_id: str | None = None) -> QuerySet[Withdrawal]:
    qs = Withdrawal.objects.select_related("destination")
    if not getattr(principal, "is_operator", False):
        qs = qs.filter(seller_id=principal.pk)
    elif seller_id:
        try:
            qs = qs.filter(seller_id=uuid.UUID(str(seller_id)))
        except ValueError as exc:
            raise ValidationFailed(fields={"seller": ["Not a user id."]}) from exc
    if status:
        if status not in WithdrawalStatus.values:
            raise ValidationFailed(fields={"status": [f"One of: {', '.join(WithdrawalStatus.values)}."]})
        qs = qs.filter(status=status)
    return qs


def withdrawal_get(*, principal, withdrawal_id) -> Withdrawal:
    withdrawal = withdrawal_list(principal=principal).filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound(code="withdrawal_not_found")
    return withdrawal

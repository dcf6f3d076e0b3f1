"""Dispute reads: its parties and the operator see it; nobody else."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from osdm.core.errors import NotFound, ValidationFailed

from .models import Dispute, DisputeMessage, DisputeStatus


def dispute_list(*, principal, status: str | None = None) -> QuerySet[Dispute]:
    qs = Dispute.objects.prefetch_related(
        Prefetch("messages", queryset=DisputeMessage.objects.prefetch_related("files")))
    if not getattr(principal, "is_operator", False):
        qs = qs.filter(Q(buyer_id=principal.pk) | Q(seller_id=principal.pk))
    if status:
        if status not in DisputeStatus.values:
            raise ValidationFailed(fields={"status": [f"One of: {', '.join(DisputeStatus.values)}."]})
        qs = qs.filter(status=status)
    return qs


def dispute_get(*, principal, dispute_id) -> Dispute:
    dispute = dispute_list(principal=principal).filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound(code="dispute_not_found")
    return dispute

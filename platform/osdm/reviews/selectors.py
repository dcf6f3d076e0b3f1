"""Review reads: published reviews are public; a blind one is visible to its author only (and to the
operator); hidden ones to their author and the operator."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from osdm.core.errors import NotFound

from .models import Review


def review_list(*, principal, listing_id=None, subject_id=None, order_id=None, role: str | None = None
                ) -> QuerySet[Review]:
    qs = Review.objects.all()
    if not getattr(principal, "is_operator", False):
        visible = Q(status=Review.Status.PUBLISHED)
        if getattr(principal, "pk", None):
            visible |= Q(author_id=principal.pk)
        qs = qs.filter(visible)
    if listing_id:
        qs = qs.filter(listing_id=listing_id)
    if subject_id:
        qs = qs.filter(subject_id=subject_id)
    if order_id:
        qs = qs.filter(order_id=order_id)
    if role:
        qs = qs.filter(role=role)
    return qs


def review_get(*, principal, review_id) -> Review:
    review = review_list(principal=principal).filter(pk=review_id).first()
    if review is None:
        raise NotFound(code="review_not_found")
    return review

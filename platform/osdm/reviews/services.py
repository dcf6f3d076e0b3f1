"""Review writes: writing (after completion, once), publishing (both written, or the blind window
passed), the reviewed party's one reply, operator hiding; aggregates kept exact."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from osdm.accounts.models import SellerProfile
from osdm.audit.services import Actor, audit_record
from osdm.catalog.models import Listing
from osdm.catalog.services import search_facets_invalidate
from osdm.core.errors import Conflict, PermissionDenied, ValidationFailed
from osdm.orders.models import Order, OrderStatus
from webhooks.services import event_publish

from .models import BLIND_DAYS, Review


def review_data(review: Review) -> dict:
    return {"id": str(review.pk), "order_id": str(review.order_id), "listing_id": str(review.listing_id),
            "author_id": str(review.author_id), "subject_id": str(review.subject_id), "role": review.role,
            "rating": review.rating, "status": review.status}


def _recount(*, listing_id, seller_id) -> None:
    """Aggregates from the published buyer reviews: exact whatever happened before."""
    published = Review.objects.filter(status=Review.Status.PUBLISHED, role=Review.Role.BUYER)
    listing = published.filter(listing_id=listing_id).aggregate(total=Sum("rating"), count=Count("id"))
    Listing.objects.filter(pk=listing_id).update(rating_sum=listing["total"] or 0, rating_count=listing["count"])
    search_facets_invalidate()  # the `rating` filter counts differently now
    seller = published.filter(subject_id=seller_id).aggregate(total=Sum("rating"), count=Count("id"))
    SellerProfile.objects.filter(user_id=seller_id).update(rating_sum=seller["total"] or 0,
                                                           rating_count=seller["count"])


def _publish(reviews: list[Review], *, actor: Actor) -> None:
    now = timezone.now()
    for review in reviews:
        if review.status != Review.Status.BLIND:
            continue
        review.status, review.published_at = Review.Status.PUBLISHED, now
        review.save(update_fields=["status", "published_at"])
        audit_record(actor=actor, action="review.published", object_type="review", object_id=review.pk,
                     after=review_data(review))
        event_publish(event_type="review.published", data=review_data(review))
    if reviews:
        order = reviews[0].order
        _recount(listing_id=order.listing_id, seller_id=order.seller_id)


def review_create(*, actor: Actor, order: Order, principal, rating: int, text: str = "") -> Review:
    if order.status != OrderStatus.COMPLETED:
        raise Conflict(_("Reviews open once the order is completed."), code="order_not_completed")
    if principal.pk == order.buyer_id:
        role, subject_id = Review.Role.BUYER, order.seller_id
    elif principal.pk == order.seller_id:
        role, subject_id = Review.Role.SELLER, order.buyer_id
    else:
        raise PermissionDenied(_("Only the order's buyer and seller review it."), code="not_a_party")
    try:
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order.pk)  # both sides' reviews serialise on the order
            review = Review.objects.create(order=order, listing_id=order.listing_id, author_id=principal.pk,
                                           subject_id=subject_id, role=role, rating=rating, text=text)
            audit_record(actor=actor, action="review.created", object_type="review", object_id=review.pk,
                         after=review_data(review))
            event_publish(event_type="review.created", data=review_data(review))
            both = list(Review.objects.filter(order=order).select_related("order"))
            if len(both) == 2:
                _publish(both, actor=actor)
                review.refresh_from_db()
    except IntegrityError as exc:
        raise Conflict(_("You have already reviewed this order."), code="already_reviewed") from exc
    return review


def reviews_unblind(*, now=None) -> int:
    """Publish reviews whose blind window passed without the other side writing. Run by beat."""
    now = now or timezone.now()
    due = Review.objects.filter(status=Review.Status.BLIND,
                                order__completed_at__lte=now - timedelta(days=BLIND_DAYS)).select_related("order")
    count = 0
    for review in due:
        with transaction.atomic():
            locked = list(Review.objects.select_for_update().filter(pk=review.pk, status=Review.Status.BLIND)
                          .select_related("order"))
            _publish(locked, actor=Actor.system("reviews"))
            count += len(locked)
    return count


def review_reply(*, actor: Actor, review: Review, principal, text: str) -> Review:
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if principal.pk != review.subject_id:
            raise PermissionDenied(_("Only the reviewed party replies."), code="not_the_subject")
        if review.status != Review.Status.PUBLISHED:
            raise Conflict(_("Reply once the review is published."), code="review_not_published")
        if review.reply:
            raise Conflict(_("You have already replied."), code="already_replied")
        if not text.strip():
            raise ValidationFailed(fields={"text": [_("This field may not be blank.")]})
        review.reply, review.replied_at = text, timezone.now()
        review.save(update_fields=["reply", "replied_at"])
        audit_record(actor=actor, action="review.replied", object_type="review", object_id=review.pk)
    return review


def review_hide(*, actor: Actor, review: Review, reason: str) -> Review:
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Say why the review is hidden.")]})
    with transaction.atomic():
        review = Review.objects.select_for_update().select_related("order").get(pk=review.pk)
        before = review.status
        review.status, review.hidden_reason = Review.Status.HIDDEN, reason
        review.save(update_fields=["status", "hidden_reason"])
        audit_record(actor=actor, action="review.hidden", object_type="review", object_id=review.pk,
                     before={"status": before}, after={"status": review.status, "reason": reason})
        _recount(listing_id=review.listing_id, seller_id=review.order.seller_id)
    return review

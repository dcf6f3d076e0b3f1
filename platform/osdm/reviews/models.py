"""Reviews after an order completes: the buyer reviews the seller (and the listing), the seller the
buyer, once each. Both stay hidden until both have written or the blind window passes (14 days), so
neither is shaped by the other. Published buyer reviews count towards the listing's and the seller's
ratings, which are recomputed from the published reviews whenever one is published or hidden.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

BLIND_DAYS = 14


class Review(models.Model):
    class Role(models.TextChoices):
        BUYER = "buyer", "By the buyer, of the seller"
        SELLER = "seller", "By the seller, of the buyer"

    class Status(models.TextChoices):
        BLIND = "blind", "Waiting for the other side (or the blind window)"
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden by the operator"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="reviews")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.PROTECT, related_name="reviews")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="reviews_written")
    subject = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="reviews_received")
    role = models.CharField(max_length=8, choices=Role.choices)
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BLIND)
    reply = models.TextField(max_length=5000, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "author"], name="review_once_per_order_and_author"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_range"),
            models.CheckConstraint(condition=models.Q(status__in=["blind", "published", "hidden"]),
                                   name="review_status_valid"),
        ]
        indexes = [models.Index(fields=["listing", "status"], name="review_listing_idx"),
                   models.Index(fields=["subject", "status"], name="review_subject_idx")]

    def __str__(self) -> str:
        return f"review {self.pk}"

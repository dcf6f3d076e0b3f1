"""Disputes: a buyer contests a held escrow; the money is frozen until the operator decides.

OPEN when the buyer files it (within the marketplace's dispute window after delivery); the seller
answers (UNDER_REVIEW); the operator RESOLVES it: release to the seller, refund to the buyer, or split
(an exact amount each way, the refund part through the gateway). A dispute the seller does not answer
by `respond_by` resolves by the marketplace's rule (`dispute_unanswered_outcome`).
"""

from __future__ import annotations

import uuid

from django.db import models


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"  # filed; waiting for the seller's answer
    UNDER_REVIEW = "under_review", "Under review"  # both sides heard; the operator decides
    RESOLVED = "resolved", "Resolved"


DISPUTE_TRANSITIONS = {
    DisputeStatus.OPEN: {DisputeStatus.UNDER_REVIEW, DisputeStatus.RESOLVED},
    DisputeStatus.UNDER_REVIEW: {DisputeStatus.RESOLVED},
    DisputeStatus.RESOLVED: set(),
}


class Dispute(models.Model):
    class Reason(models.TextChoices):
        NOT_DELIVERED = "not_delivered", "Not delivered"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        QUALITY = "quality", "Quality"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        RELEASE = "release", "Released to the seller"
        REFUND = "refund", "Refunded to the buyer"
        SPLIT = "split", "Split"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    escrow = models.ForeignKey("escrow.Escrow", on_delete=models.PROTECT, related_name="disputes")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="disputes")
    buyer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="disputes_opened")
    seller = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="disputes_against")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    description = models.TextField(max_length=10000)
    status = models.CharField(max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    refund_amount = models.BigIntegerField(default=0)  # to the buyer, on resolution
    release_amount = models.BigIntegerField(default=0)  # to the seller (before commission), on resolution
    resolution_note = models.TextField(max_length=5000, blank=True)
    resolved_by = models.CharField(max_length=80, blank=True)
    respond_by = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=DisputeStatus.values), name="dispute_status_valid"),
            models.UniqueConstraint(fields=["escrow"], condition=~models.Q(status="resolved"),
                                    name="dispute_one_open_per_escrow"),
            models.CheckConstraint(condition=models.Q(refund_amount__gte=0, release_amount__gte=0),
                                   name="dispute_amounts_non_negative"),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk}"


class DisputeMessage(models.Model):
    id = models.BigAutoField(primary_key=True)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="messages")
    author_type = models.CharField(max_length=16)  # buyer, seller, operator
    author_id = models.CharField(max_length=64)
    body = models.TextField(max_length=10000)
    files = models.ManyToManyField("files.StoredFile", blank=True, related_name="+")  # evidence
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} on {self.dispute_id}"

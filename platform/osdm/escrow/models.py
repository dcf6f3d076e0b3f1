"""Escrow: the buyer's payment for one order (or one milestone), held until the work is accepted.

PENDING when the order is placed; HELD when its payment succeeds (two pending ledger transfers from
the buyer's funds: the seller's share to the seller's wallet, the commission to the marketplace);
RELEASED when the buyer accepts (or the auto-release job does, after the tenant's days since
delivery): both transfers posted; REFUNDED: both voided and the money sent back through the gateway;
DISPUTED: frozen until resolved. Each move is one transaction with its ledger transfers, audit record
and event; transfer ids derive from the escrow, so a move replayed is a no-op.
"""

from __future__ import annotations

import uuid

from django.db import models


class EscrowStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for the payment
    HELD = "held", "Held"  # paid; reserved for the seller, not yet theirs
    RELEASED = "released", "Released"  # the seller's (minus commission)
    REFUNDED = "refunded", "Refunded"  # back to the buyer
    DISPUTED = "disputed", "Disputed"  # frozen until the operator resolves it
    CANCELLED = "cancelled", "Cancelled"  # the order was cancelled before payment


ESCROW_TRANSITIONS = {
    EscrowStatus.PENDING: {EscrowStatus.HELD, EscrowStatus.CANCELLED},
    EscrowStatus.HELD: {EscrowStatus.RELEASED, EscrowStatus.REFUNDED, EscrowStatus.DISPUTED},
    EscrowStatus.DISPUTED: {EscrowStatus.RELEASED, EscrowStatus.REFUNDED},
    EscrowStatus.RELEASED: set(),
    EscrowStatus.REFUNDED: set(),
    EscrowStatus.CANCELLED: set(),
}


class Escrow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="escrows")
    milestone = models.OneToOneField("orders.Milestone", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="escrow")
    buyer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="escrows_as_buyer")
    seller = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="escrows_as_seller")
    # The order's kind (which never changes), so money held per market is summed without the orders.
    order_kind = models.CharField(max_length=16)
    amount = models.BigIntegerField()
    commission = models.BigIntegerField()
    seller_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=EscrowStatus.choices, default=EscrowStatus.PENDING)
    # Bumped when a partial refund re-reserves a smaller amount: the hold's transfer ids derive from it.
    generation = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    held_at = models.DateTimeField(null=True, blank=True)
    release_after = models.DateTimeField(null=True, blank=True, db_index=True)  # set on delivery
    released_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=EscrowStatus.values), name="escrow_status_valid"),
            models.CheckConstraint(condition=models.Q(seller_amount=models.F("amount") - models.F("commission")),
                                   name="escrow_amounts_balance"),
            models.UniqueConstraint(fields=["order"], condition=models.Q(milestone__isnull=True),
                                    name="escrow_one_per_order"),
        ]
        indexes = [
            models.Index(fields=["status", "release_after"], name="escrow_due_idx"),
            # Money pending per market (the operator's overview): an index-only scan of the held escrows.
            models.Index(fields=["order_kind"], include=["amount"], condition=models.Q(status__in=["held", "disputed"]),
                         name="escrow_pending_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"escrow {self.pk}"

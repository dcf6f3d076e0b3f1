"""Orders of the three markets, with their state machines as data.

- A **product** order is paid and then complete: the product's files become downloadable.
- A **service** order is paid, worked on, delivered, and accepted (or sent back for a revision
  while revisions remain).
- A **contract** comes from an accepted project proposal; it is paid milestone by milestone, each
  milestone funded, delivered and accepted on its own.

Each status column has its TRANSITIONS table, one guard (`orders.services._transition`) that raises
a 409 for anything else, and a CheckConstraint. Every change is a `StatusChange` row (who, when).
Amounts are integers in the currency's minor unit: `total` is what the buyer pays, `commission` the
marketplace's cut (basis points of the subtotal, rounded half up), `seller_amount` the rest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class OrderKind(models.TextChoices):
    PRODUCT = "product", "Product purchase"
    SERVICE = "service", "Service order"
    CONTRACT = "contract", "Project contract"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"  # placed; its payment is not through yet
    IN_PROGRESS = "in_progress", "In progress"  # service paid, the seller is working / contract active
    DELIVERED = "delivered", "Delivered"  # service delivered, waiting for the buyer
    COMPLETED = "completed", "Completed"  # accepted (service), paid (product), all milestones done (contract)
    CANCELLED = "cancelled", "Cancelled"  # never paid, or stopped before completion


ORDER_TRANSITIONS: dict[str, dict[str, set[str]]] = {
    OrderKind.PRODUCT: {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
    OrderKind.SERVICE: {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.IN_PROGRESS, OrderStatus.CANCELLED},
        OrderStatus.IN_PROGRESS: {OrderStatus.DELIVERED, OrderStatus.CANCELLED},
        # accept, revision, or cancelled when a dispute refunds the buyer
        OrderStatus.DELIVERED: {OrderStatus.COMPLETED, OrderStatus.IN_PROGRESS, OrderStatus.CANCELLED},
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
    OrderKind.CONTRACT: {
        OrderStatus.IN_PROGRESS: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
}


class MilestoneStatus(models.TextChoices):
    PENDING_FUNDING = "pending_funding", "Pending funding"  # agreed, not paid yet
    FUNDED = "funded", "Funded"  # paid into escrow; the seller works on it
    DELIVERED = "delivered", "Delivered"  # the seller delivered; waiting for the buyer
    ACCEPTED = "accepted", "Accepted"  # the buyer accepted: released to the seller
    CANCELLED = "cancelled", "Cancelled"  # dropped before funding


MILESTONE_TRANSITIONS: dict[str, set[str]] = {
    MilestoneStatus.PENDING_FUNDING: {MilestoneStatus.FUNDED, MilestoneStatus.CANCELLED},
    # cancelled from funded or delivered only when a dispute refunds it
    MilestoneStatus.FUNDED: {MilestoneStatus.DELIVERED, MilestoneStatus.CANCELLED},
    MilestoneStatus.DELIVERED: {MilestoneStatus.ACCEPTED, MilestoneStatus.FUNDED, MilestoneStatus.CANCELLED},
    MilestoneStatus.ACCEPTED: set(),
    MilestoneStatus.CANCELLED: set(),
}


class Order(models.Model):
    PAID_STATUSES = (OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED, OrderStatus.COMPLETED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.BigIntegerField(unique=True, editable=False)  # human-friendly, per marketplace
    kind = models.CharField(max_length=16, choices=OrderKind.choices)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.PROTECT, related_name="orders")
    package = models.ForeignKey("catalog.ServicePackage", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="orders")
    proposal = models.OneToOneField("orders.Proposal", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="contract")
    title = models.CharField(max_length=200)  # the listing's (and package's) title when ordered
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()
    commission_bps = models.PositiveIntegerField()
    commission = models.BigIntegerField()
    total = models.BigIntegerField()
    seller_amount = models.BigIntegerField()
    requirements = models.JSONField(default=list, blank=True)  # [{"question", "answer"}]
    delivery_days = models.PositiveIntegerField(null=True, blank=True)
    revisions_included = models.PositiveIntegerField(default=0)
    revisions_used = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)  # set when a service order is paid
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the order's (first) money arrived: its payment, or a contract's first funded milestone.
    paid_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["product", "service", "contract"]),
                                   name="order_kind_valid"),
            models.CheckConstraint(
                condition=(models.Q(kind="product", status__in=["pending_payment", "completed", "cancelled"])
                           | models.Q(kind="service", status__in=["pending_payment", "in_progress", "delivered",
                                                                  "completed", "cancelled"])
                           | models.Q(kind="contract", status__in=["in_progress", "completed", "cancelled"])),
                name="order_status_valid_for_kind"),
            models.CheckConstraint(condition=models.Q(total=models.F("subtotal")), name="order_total_is_subtotal"),
            models.CheckConstraint(condition=models.Q(seller_amount=models.F("subtotal") - models.F("commission")),
                                   name="order_amounts_balance"),
            models.CheckConstraint(condition=models.Q(subtotal__gte=0, commission__gte=0, seller_amount__gte=0),
                                   name="order_amounts_non_negative"),
            models.CheckConstraint(condition=~models.Q(buyer=models.F("seller")), name="order_not_self"),
        ]
        # The dashboards' reads (osdm.analytics.selectors) are index-only scans of these: a user's
        # orders created or paid in a window, and the orders created or paid around a window's edges.
        indexes = [
            models.Index(fields=["buyer", "created_at"], include=["kind", "status"], name="order_buyer_created_idx"),
            models.Index(fields=["seller", "created_at"], include=["kind", "status"], name="order_seller_created_idx"),
            models.Index(fields=["created_at"], include=["kind", "status"], name="order_created_idx"),
            models.Index(fields=["buyer", "paid_at"], include=["kind", "total", "listing"],
                         condition=models.Q(paid_at__isnull=False), name="order_buyer_paid_idx"),
            models.Index(fields=["seller", "paid_at"], include=["kind", "total", "seller_amount", "listing"],
                         condition=models.Q(paid_at__isnull=False), name="order_seller_paid_idx"),
            models.Index(fields=["paid_at"], include=["kind", "total", "commission", "listing", "created_at"],
                         condition=models.Q(paid_at__isnull=False), name="order_paid_idx"),
            models.Index(fields=["status", "kind"], name="order_status_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def is_late(self) -> bool:
        from django.utils import timezone

        if self.kind != OrderKind.SERVICE or self.due_at is None:
            return False
        finished = self.delivered_at if self.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED) else None
        return (finished or timezone.now()) > self.due_at


class Proposal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # sent; the project's poster has not decided
        ACCEPTED = "accepted", "Accepted"  # became a contract
        DECLINED = "declined", "Declined"  # another proposal was accepted, or the poster declined
        WITHDRAWN = "withdrawn", "Withdrawn"  # the seller took it back

    TRANSITIONS = {
        Status.PENDING: {Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN},
        Status.ACCEPTED: set(),
        Status.DECLINED: set(),
        Status.WITHDRAWN: set(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey("catalog.Listing", on_delete=models.PROTECT, related_name="proposals")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals")
    cover_letter = models.TextField(max_length=10000)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    duration_days = models.PositiveIntegerField()
    milestones = models.JSONField(default=list)  # proposed: [{"title", "amount", "due_days"?}]
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "accepted", "declined", "withdrawn"]),
                                   name="proposal_status_valid"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="proposal_amount_positive"),
            # One live proposal per seller per project, and one accepted proposal per project.
            models.UniqueConstraint(fields=["listing", "seller"], condition=models.Q(status="pending"),
                                    name="proposal_one_pending_per_seller"),
            models.UniqueConstraint(fields=["listing"], condition=models.Q(status="accepted"),
                                    name="proposal_one_accepted_per_project"),
        ]

    def __str__(self) -> str:
        return f"proposal {self.pk}"


class Milestone(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    amount = models.BigIntegerField()
    commission = models.BigIntegerField()
    seller_amount = models.BigIntegerField()
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=MilestoneStatus.choices, default=MilestoneStatus.PENDING_FUNDING)
    revisions_used = models.PositiveIntegerField(default=0)
    funded_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="milestone_position_unique"),
            models.CheckConstraint(condition=models.Q(status__in=["pending_funding", "funded", "delivered", "accepted",
                                                                  "cancelled"]), name="milestone_status_valid"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(condition=models.Q(seller_amount=models.F("amount") - models.F("commission")),
                                   name="milestone_amounts_balance"),
        ]
        indexes = [models.Index(fields=["funded_at"], condition=models.Q(funded_at__isnull=False),
                                name="milestone_funded_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} #{self.position}"


class OrderDelivery(models.Model):
    """What a seller delivered: a message and files, for an order or one milestone of it."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deliveries")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="deliveries")
    message = models.TextField(max_length=10000)
    files = models.ManyToManyField("files.StoredFile", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.order_id}"


class StatusChange(models.Model):
    """One transition of an order or a milestone: the history every dispute starts from."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="status_changes")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"

"""Orders (product purchases, service orders, project contracts), their milestones, deliveries and
history, and reviews. Amounts are integers in `currency`'s minor unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel
from .catalog import StoredFile

__all__ = ["Milestone", "Order", "OrderDelivery", "OrderDetail", "OrderPayment", "Review", "StatusChange"]


class Milestone(BaseModel):
    """A contract's funded step: `pending_funding`, `funded`, `delivered`, `accepted` or `cancelled`."""

    id: str
    position: int
    title: str
    amount: int
    commission: int
    seller_amount: int
    status: str = "pending_funding"
    due_at: datetime | None = None
    revisions_used: int = 0
    funded_at: datetime | None = None
    delivered_at: datetime | None = None
    accepted_at: datetime | None = None


class OrderPayment(BaseModel):
    """The order's current payment, in short (`client.payments.retrieve(id)` for all of it)."""

    id: str
    status: str
    amount: int
    currency: str


class OrderDelivery(BaseModel):
    id: int
    milestone_id: str | None = None
    message: str
    files: list[StoredFile] = []
    created_at: datetime


class StatusChange(BaseModel):
    from_status: str = ""
    to_status: str
    milestone_id: str | None = None
    actor_type: str
    actor_id: str = ""
    note: str = ""
    created_at: datetime


class Order(BaseModel):
    """An order as lists show it. `kind` is `product`, `service` or `contract`; `status` is
    `pending_payment`, `in_progress`, `delivered`, `completed` or `cancelled`."""

    id: str
    number: int
    kind: str
    status: str
    buyer_id: str
    seller_id: str
    listing_id: str
    package: str | None = None
    """A service order's tier: `basic`, `standard` or `premium`."""
    proposal_id: str | None = None
    title: str
    currency: str
    subtotal: int
    commission_bps: int
    commission: int
    total: int
    seller_amount: int
    requirements: Any = None
    delivery_days: int | None = None
    revisions_included: int = 0
    revisions_used: int = 0
    due_at: datetime | None = None
    is_late: bool = False
    milestones: list[Milestone] = []
    created_at: datetime
    paid_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None


class OrderDetail(Order):
    """An order with its payment, deliveries and status history."""

    payment: OrderPayment | None = None
    deliveries: list[OrderDelivery] = []
    history: list[StatusChange] = []


class Review(BaseModel):
    """A review of one side of an order by the other: `role` `buyer` (of the seller) or `seller` (of
    the buyer); `status` `blind` (until both reviewed, or the window closed), `published` or `hidden`."""

    id: str
    order_id: str
    listing_id: str
    author_id: str
    subject_id: str
    role: str
    rating: int
    text: str = ""
    status: str = "blind"
    reply: str = ""
    replied_at: datetime | None = None
    hidden_reason: str = ""
    created_at: datetime
    published_at: datetime | None = None

"""Events: what webhooks deliver and the events API lists, typed by event type.

`parse_event()` gives the class registered for the event's type and version (`UserCreatedEvent`,
`PingEvent`, ...), whose `data` is a model; an event this SDK does not know yet (a newer type or a
new version) comes back as a plain `Event` whose `data` is a dict, so a receiver never breaks when
the platform adds events. Narrow with `isinstance`:

    event = webhooks.verify(body, headers, secret)
    if isinstance(event, UserCreatedEvent):
        welcome(event.data.email)

A new event type is one data model, one `Event` subclass and one line in `EVENT_TYPES`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .._models import BaseModel

__all__ = [
    "EVENT_TYPES",
    "DisputeEventData",
    "DisputeOpenedEvent",
    "DisputeResolvedEvent",
    "EscrowEventData",
    "EscrowHeldEvent",
    "EscrowRefundedEvent",
    "EscrowReleasedEvent",
    "Event",
    "ListingEventData",
    "ListingModeratedEvent",
    "ListingModerationEventData",
    "ListingPublishedEvent",
    "MarketplaceActivatedEvent",
    "MarketplaceEventData",
    "MarketplaceSuspendedEvent",
    "MarketplaceUpdatedEvent",
    "MessageCreatedEvent",
    "MessageEventData",
    "MilestoneAcceptedEvent",
    "MilestoneCancelledEvent",
    "MilestoneDeliveredEvent",
    "MilestoneEventData",
    "MilestoneFundedEvent",
    "MilestoneRevisionRequestedEvent",
    "OrderCancelledEvent",
    "OrderCompletedEvent",
    "OrderCreatedEvent",
    "OrderDeliveredEvent",
    "OrderEventData",
    "OrderPaidEvent",
    "OrderRevisionRequestedEvent",
    "PaymentEventData",
    "PaymentFailedEvent",
    "PaymentRefundedEvent",
    "PaymentSucceededEvent",
    "PingEvent",
    "PingEventData",
    "ProposalAcceptedEvent",
    "ProposalCreatedEvent",
    "ProposalDeclinedEvent",
    "ProposalEventData",
    "ProposalWithdrawnEvent",
    "ReviewCreatedEvent",
    "ReviewEventData",
    "ReviewPublishedEvent",
    "SecretKeyCreatedEvent",
    "SecretKeyEventData",
    "SecretKeyRevokedEvent",
    "SellerProfileEventData",
    "SellerProfileUpdatedEvent",
    "UserCreatedEvent",
    "UserEventData",
    "UserUpdatedEvent",
    "WebhookEndpointCreatedEvent",
    "WebhookEndpointDeletedEvent",
    "WebhookEndpointDisabledEvent",
    "WebhookEndpointEventData",
    "WebhookEndpointUpdatedEvent",
    "WithdrawalApprovedEvent",
    "WithdrawalEventData",
    "WithdrawalFailedEvent",
    "WithdrawalPaidEvent",
    "WithdrawalRejectedEvent",
    "WithdrawalRequestedEvent",
    "WithdrawalReturnedEvent",
    "parse_event",
]


class Event(BaseModel):
    """Any event. `data` is the type's payload: a model on the typed subclasses, a dict here."""

    id: str
    """`evt_...`, also the `webhook-id` of its deliveries: deduplicate on it."""
    type: str
    version: int = 1
    sequence: int
    """Increases with every event of the marketplace: order by it, not by arrival."""
    timestamp: datetime
    data: Any


# --- payloads --------------------------------------------------------------------------------------
# Declared here, not derived from the API's resources (types/orders.py, money.py...) though they share
# fields: an event's payload is versioned with the event (EVENT_TYPES is keyed by type and version)
# and must not change when a resource grows a field.


class PingEventData(BaseModel):
    endpoint_id: str
    message: str


class UserEventData(BaseModel):
    id: str
    email: str
    full_name: str
    locale: str
    is_seller: bool
    created_at: datetime


class SellerProfileEventData(BaseModel):
    user_id: str
    display_name: str
    country: str
    bio: str = ""
    avatar_url: str = ""


class SecretKeyEventData(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


class MarketplaceEventData(BaseModel):
    slug: str
    name: str
    status: str
    currency: str
    commission_bps: int
    default_locale: str


class WebhookEndpointEventData(BaseModel):
    id: str
    url: str
    enabled: bool
    event_types: list[str]
    disabled_reason: str = ""


class OrderEventData(BaseModel):
    """An order as events carry it: `kind` `product`, `service` or `contract`; amounts in `currency`'s
    minor unit."""

    id: str
    number: int
    kind: str
    status: str
    buyer_id: str
    seller_id: str
    listing_id: str
    currency: str
    subtotal: int
    commission: int
    total: int
    seller_amount: int
    created_at: datetime


class PaymentEventData(BaseModel):
    id: str
    order_id: str
    milestone_id: str | None = None
    amount: int
    currency: str
    status: str
    method: str
    gateway: str
    refunded_amount: int = 0
    failure_code: str = ""
    created_at: datetime


class EscrowEventData(BaseModel):
    """Money held for an order (or a milestone): `amount` = `commission` + `seller_amount`."""

    id: str
    order_id: str
    milestone_id: str | None = None
    amount: int
    commission: int
    seller_amount: int
    currency: str
    status: str
    release_after: datetime | None = None


class ListingEventData(BaseModel):
    id: str
    market: str
    title: str
    status: str
    owner_id: str
    category_id: int
    price: int
    currency: str


class ListingModerationEventData(ListingEventData):
    """The listing, and whether the operator hid it (with the reason shown to its owner)."""

    hidden: bool
    hidden_reason: str = ""


class ProposalEventData(BaseModel):
    id: str
    listing_id: str
    seller_id: str
    amount: int
    currency: str
    duration_days: int
    status: str


class MilestoneEventData(BaseModel):
    id: str
    order_id: str
    position: int
    title: str
    amount: int
    status: str


class DisputeEventData(BaseModel):
    """`outcome` (`release`, `refund`, `split`) and the amounts once resolved."""

    id: str
    escrow_id: str
    order_id: str
    reason: str
    status: str
    outcome: str = ""
    refund_amount: int = 0
    release_amount: int = 0
    respond_by: datetime | None = None


class WithdrawalEventData(BaseModel):
    id: str
    seller_id: str
    destination_id: str
    iban_last4: str
    bank_name: str
    amount: int
    currency: str
    status: str
    gateway: str = ""
    gateway_payout_id: str = ""
    failure_code: str = ""
    failure_reason: str = ""
    created_at: datetime


class ReviewEventData(BaseModel):
    """`role`: the author's side of the order (`buyer` or `seller`); `status` `blind` until published."""

    id: str
    order_id: str
    listing_id: str
    author_id: str
    subject_id: str
    role: str
    rating: int
    status: str


class MessageEventData(BaseModel):
    """Who wrote to whom, about what: the text is never in the event (read it through the API)."""

    conversation_id: str
    message_id: str
    sender_id: str
    recipient_id: str
    subject_type: str
    subject_id: str | None = None
    created_at: datetime


# --- typed events ----------------------------------------------------------------------------------


class PingEvent(Event):
    type: Literal["ping"]
    data: PingEventData


class UserCreatedEvent(Event):
    type: Literal["user.created"]
    data: UserEventData


class UserUpdatedEvent(Event):
    type: Literal["user.updated"]
    data: UserEventData


class SellerProfileUpdatedEvent(Event):
    type: Literal["seller_profile.updated"]
    data: SellerProfileEventData


class SecretKeyCreatedEvent(Event):
    type: Literal["secret_key.created"]
    data: SecretKeyEventData


class SecretKeyRevokedEvent(Event):
    type: Literal["secret_key.revoked"]
    data: SecretKeyEventData


class MarketplaceUpdatedEvent(Event):
    type: Literal["marketplace.updated"]
    data: MarketplaceEventData


class MarketplaceSuspendedEvent(Event):
    type: Literal["marketplace.suspended"]
    data: MarketplaceEventData


class MarketplaceActivatedEvent(Event):
    type: Literal["marketplace.activated"]
    data: MarketplaceEventData


class WebhookEndpointCreatedEvent(Event):
    type: Literal["webhook_endpoint.created"]
    data: WebhookEndpointEventData


class WebhookEndpointUpdatedEvent(Event):
    type: Literal["webhook_endpoint.updated"]
    data: WebhookEndpointEventData


class WebhookEndpointDeletedEvent(Event):
    type: Literal["webhook_endpoint.deleted"]
    data: WebhookEndpointEventData


class WebhookEndpointDisabledEvent(Event):
    type: Literal["webhook_endpoint.disabled"]
    data: WebhookEndpointEventData


class OrderCreatedEvent(Event):
    type: Literal["order.created"]
    data: OrderEventData


class OrderPaidEvent(Event):
    type: Literal["order.paid"]
    data: OrderEventData


class OrderDeliveredEvent(Event):
    type: Literal["order.delivered"]
    data: OrderEventData


class OrderRevisionRequestedEvent(Event):
    type: Literal["order.revision_requested"]
    data: OrderEventData


class OrderCompletedEvent(Event):
    type: Literal["order.completed"]
    data: OrderEventData


class OrderCancelledEvent(Event):
    type: Literal["order.cancelled"]
    data: OrderEventData


class PaymentSucceededEvent(Event):
    type: Literal["payment.succeeded"]
    data: PaymentEventData


class PaymentFailedEvent(Event):
    type: Literal["payment.failed"]
    data: PaymentEventData


class PaymentRefundedEvent(Event):
    type: Literal["payment.refunded"]
    data: PaymentEventData


class EscrowHeldEvent(Event):
    type: Literal["escrow.held"]
    data: EscrowEventData


class EscrowReleasedEvent(Event):
    type: Literal["escrow.released"]
    data: EscrowEventData


class EscrowRefundedEvent(Event):
    type: Literal["escrow.refunded"]
    data: EscrowEventData


class ListingPublishedEvent(Event):
    type: Literal["listing.published"]
    data: ListingEventData


class ListingModeratedEvent(Event):
    type: Literal["listing.moderated"]
    data: ListingModerationEventData


class ProposalCreatedEvent(Event):
    type: Literal["proposal.created"]
    data: ProposalEventData


class ProposalAcceptedEvent(Event):
    type: Literal["proposal.accepted"]
    data: ProposalEventData


class ProposalDeclinedEvent(Event):
    type: Literal["proposal.declined"]
    data: ProposalEventData


class ProposalWithdrawnEvent(Event):
    type: Literal["proposal.withdrawn"]
    data: ProposalEventData


class MilestoneFundedEvent(Event):
    type: Literal["milestone.funded"]
    data: MilestoneEventData


class MilestoneDeliveredEvent(Event):
    type: Literal["milestone.delivered"]
    data: MilestoneEventData


class MilestoneRevisionRequestedEvent(Event):
    type: Literal["milestone.revision_requested"]
    data: MilestoneEventData


class MilestoneAcceptedEvent(Event):
    type: Literal["milestone.accepted"]
    data: MilestoneEventData


class MilestoneCancelledEvent(Event):
    type: Literal["milestone.cancelled"]
    data: MilestoneEventData


class DisputeOpenedEvent(Event):
    type: Literal["dispute.opened"]
    data: DisputeEventData


class DisputeResolvedEvent(Event):
    type: Literal["dispute.resolved"]
    data: DisputeEventData


class WithdrawalRequestedEvent(Event):
    type: Literal["withdrawal.requested"]
    data: WithdrawalEventData


class WithdrawalApprovedEvent(Event):
    type: Literal["withdrawal.approved"]
    data: WithdrawalEventData


class WithdrawalPaidEvent(Event):
    type: Literal["withdrawal.paid"]
    data: WithdrawalEventData


class WithdrawalFailedEvent(Event):
    type: Literal["withdrawal.failed"]
    data: WithdrawalEventData


class WithdrawalRejectedEvent(Event):
    type: Literal["withdrawal.rejected"]
    data: WithdrawalEventData


class WithdrawalReturnedEvent(Event):
    type: Literal["withdrawal.returned"]
    data: WithdrawalEventData


class ReviewCreatedEvent(Event):
    type: Literal["review.created"]
    data: ReviewEventData


class ReviewPublishedEvent(Event):
    type: Literal["review.published"]
    data: ReviewEventData


class MessageCreatedEvent(Event):
    type: Literal["message.created"]
    data: MessageEventData


EVENT_TYPES: dict[tuple[str, int], type[Event]] = {
    ("ping", 1): PingEvent,
    ("user.created", 1): UserCreatedEvent,
    ("user.updated", 1): UserUpdatedEvent,
    ("seller_profile.updated", 1): SellerProfileUpdatedEvent,
    ("secret_key.created", 1): SecretKeyCreatedEvent,
    ("secret_key.revoked", 1): SecretKeyRevokedEvent,
    ("marketplace.updated", 1): MarketplaceUpdatedEvent,
    ("marketplace.suspended", 1): MarketplaceSuspendedEvent,
    ("marketplace.activated", 1): MarketplaceActivatedEvent,
    ("webhook_endpoint.created", 1): WebhookEndpointCreatedEvent,
    ("webhook_endpoint.updated", 1): WebhookEndpointUpdatedEvent,
    ("webhook_endpoint.deleted", 1): WebhookEndpointDeletedEvent,
    ("webhook_endpoint.disabled", 1): WebhookEndpointDisabledEvent,
    ("order.created", 1): OrderCreatedEvent,
    ("order.paid", 1): OrderPaidEvent,
    ("order.delivered", 1): OrderDeliveredEvent,
    ("order.revision_requested", 1): OrderRevisionRequestedEvent,
    ("order.completed", 1): OrderCompletedEvent,
    ("order.cancelled", 1): OrderCancelledEvent,
    ("payment.succeeded", 1): PaymentSucceededEvent,
    ("payment.failed", 1): PaymentFailedEvent,
    ("payment.refunded", 1): PaymentRefundedEvent,
    ("escrow.held", 1): EscrowHeldEvent,
    ("escrow.released", 1): EscrowReleasedEvent,
    ("escrow.refunded", 1): EscrowRefundedEvent,
    ("listing.published", 1): ListingPublishedEvent,
    ("listing.moderated", 1): ListingModeratedEvent,
    ("proposal.created", 1): ProposalCreatedEvent,
    ("proposal.accepted", 1): ProposalAcceptedEvent,
    ("proposal.declined", 1): ProposalDeclinedEvent,
    ("proposal.withdrawn", 1): ProposalWithdrawnEvent,
    ("milestone.funded", 1): MilestoneFundedEvent,
    ("milestone.delivered", 1): MilestoneDeliveredEvent,
    ("milestone.revision_requested", 1): MilestoneRevisionRequestedEvent,
    ("milestone.accepted", 1): MilestoneAcceptedEvent,
    ("milestone.cancelled", 1): MilestoneCancelledEvent,
    ("dispute.opened", 1): DisputeOpenedEvent,
    ("dispute.resolved", 1): DisputeResolvedEvent,
    ("withdrawal.requested", 1): WithdrawalRequestedEvent,
    ("withdrawal.approved", 1): WithdrawalApprovedEvent,
    ("withdrawal.paid", 1): WithdrawalPaidEvent,
    ("withdrawal.failed", 1): WithdrawalFailedEvent,
    ("withdrawal.rejected", 1): WithdrawalRejectedEvent,
    ("withdrawal.returned", 1): WithdrawalReturnedEvent,
    ("review.created", 1): ReviewCreatedEvent,
    ("review.published", 1): ReviewPublishedEvent,
    ("message.created", 1): MessageCreatedEvent,
}
"""(type, payload version) -> the class that parses it."""


def parse_event(data: Any) -> Event:
    """An event payload (a decoded dict) as its typed class, or as a plain `Event` when unknown."""
    if isinstance(data, dict):
        cls = EVENT_TYPES.get((str(data.get("type")), int(data.get("version", 1) or 1)))
        if cls is not None:
            return cls.model_validate(data)
    return Event.model_validate(data)

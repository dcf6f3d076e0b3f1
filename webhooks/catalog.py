"""The event catalog: every event type a marketplace can publish, with its payload version, a JSON
Schema for its `data`, and a sample.

Publishing a type that is not here, or data that does not match its schema, is a programming error
and raises: receivers can rely on the documented shape. A breaking change to a payload is a new
`version` of the type, documented in docs/webhooks.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator

STRING, INTEGER, BOOLEAN, OBJECT, ARRAY = "string", "integer", "boolean", "object", "array"
NULLABLE_STRING = ["string", "null"]


def _object(properties: dict[str, Any]) -> dict:
    return {"type": "object", "required": sorted(properties),
            "properties": {k: ({"type": v} if isinstance(v, str | list) else v) for k, v in properties.items()}}


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    properties: dict[str, Any]
    sample: dict
    version: int = 1
    emitted_by: str = ""  # the app that publishes it
    tags: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def schema(self) -> dict:
        return _object(self.properties)

    @cached_property
    def validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.schema)


class UnknownEventType(LookupError):
    pass


CATALOG: dict[str, EventType] = {}


def register(event_type: EventType) -> EventType:
    if event_type.name in CATALOG:
        raise ValueError(f"event type {event_type.name} registered twice")
    event_type.validator.validate(event_type.sample)  # a sample that does not match is a bug here
    CATALOG[event_type.name] = event_type
    return event_type


def get(name: str) -> EventType:
    try:
        return CATALOG[name]
    except KeyError as exc:
        raise UnknownEventType(name) from exc


_USER = {"id": STRING, "email": STRING, "full_name": STRING, "locale": STRING, "is_seller": BOOLEAN,
         "created_at": STRING}
_USER_SAMPLE = {"id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "email": "sara@example.com",
                "full_name": "سارة الحربي", "locale": "ar", "is_seller": False,
                "created_at": "2026-11-27T09:30:00Z"}
_KEY = {"id": INTEGER, "name": STRING, "prefix": STRING, "created_at": STRING, "revoked_at": NULLABLE_STRING}
_KEY_SAMPLE = {"id": 7, "name": "ci", "prefix": "sk_live_AbCd", "created_at": "2026-11-27T09:30:00Z",
               "revoked_at": None}
_MARKETPLACE = {"slug": STRING, "name": STRING, "status": STRING, "currency": STRING, "commission_bps": INTEGER,
                "default_locale": STRING}
_MARKETPLACE_SAMPLE = {"slug": "acme", "name": "Acme Market", "status": "active", "currency": "SAR",
                       "commission_bps": 1000, "default_locale": "ar"}
_ENDPOINT = {"id": STRING, "url": STRING, "enabled": BOOLEAN, "event_types": ARRAY,
             "disabled_reason": STRING}
_ENDPOINT_SAMPLE = {"id": "we_3f1c9a0b2d4e5f6a7b8c9d0e", "url": "https://hooks.example.com/osdm",
                    "enabled": True, "event_types": [], "disabled_reason": ""}

for _name, _description, _properties, _sample, _by in (
    ("ping", "Sent by the `test` action of an endpoint, to check it receives and verifies.",
     {"endpoint_id": STRING, "message": STRING},
     {"endpoint_id": "we_3f1c9a0b2d4e5f6a7b8c9d0e", "message": "Hello from OSDM"}, "webhooks"),
    ("user.created", "A buyer signed up.", _USER, _USER_SAMPLE, "accounts"),
    ("user.updated", "A user changed their name, language or password.", _USER, _USER_SAMPLE, "accounts"),
    ("seller_profile.updated", "A user became a seller or changed their seller profile.",
     {"user_id": STRING, "display_name": STRING, "country": STRING, "bio": STRING, "avatar_url": STRING},
     {"user_id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "display_name": "Sara Studio", "country": "SA",
      "bio": "", "avatar_url": ""}, "accounts"),
    ("secret_key.created", "A secret key was created.", _KEY, _KEY_SAMPLE, "tenants"),
    ("secret_key.revoked", "A secret key was revoked.", _KEY, {**_KEY_SAMPLE, "revoked_at": "2026-11-28T10:00:00Z"},
     "tenants"),
    ("marketplace.updated", "The marketplace's settings changed.", _MARKETPLACE, _MARKETPLACE_SAMPLE, "tenants"),
    ("marketplace.suspended", "The platform suspended the marketplace; its API answers 403 until activated.",
     _MARKETPLACE, {**_MARKETPLACE_SAMPLE, "status": "suspended"}, "tenants"),
    ("marketplace.activated", "The platform lifted a suspension.", _MARKETPLACE, _MARKETPLACE_SAMPLE, "tenants"),
    ("webhook_endpoint.created", "A webhook endpoint was added.", _ENDPOINT, _ENDPOINT_SAMPLE, "webhooks"),
    ("webhook_endpoint.updated", "A webhook endpoint was changed (URL, types, enabled, secret rotation).",
     _ENDPOINT, _ENDPOINT_SAMPLE, "webhooks"),
    ("webhook_endpoint.deleted", "A webhook endpoint was deleted.", _ENDPOINT, _ENDPOINT_SAMPLE, "webhooks"),
    ("webhook_endpoint.disabled",
     "An endpoint was disabled: it answered 410 Gone, or kept failing for five days.",
     _ENDPOINT, {**_ENDPOINT_SAMPLE, "enabled": False, "disabled_reason": "gone"}, "webhooks"),
):
    register(EventType(name=_name, description=_description, properties=_properties, sample=_sample,
                       emitted_by=_by))


_LISTING = {"id": STRING, "market": STRING, "title": STRING, "status": STRING, "owner_id": STRING,
            "category_id": INTEGER, "price": INTEGER, "currency": STRING}
_LISTING_SAMPLE = {"id": "2f0d9c8e-3b1a-4e5f-9a7b-6c5d4e3f2a1b", "market": "services",
                   "title": "تصميم شعار احترافي لمتجرك", "status": "published",
                   "owner_id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "category_id": 12, "price": 15000,
                   "currency": "SAR"}
_ORDER = {"id": STRING, "number": INTEGER, "kind": STRING, "status": STRING, "buyer_id": STRING, "seller_id": STRING,
          "listing_id": STRING, "currency": STRING, "subtotal": INTEGER, "commission": INTEGER, "total": INTEGER,
          "seller_amount": INTEGER, "created_at": STRING}
_ORDER_SAMPLE = {"id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "number": 1042, "kind": "service",
                 "status": "in_progress", "buyer_id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60",
                 "seller_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "listing_id": "2f0d9c8e-3b1a-4e5f-9a7b-6c5d4e3f2a1b",
                 "currency": "SAR", "subtotal": 15000, "commission": 1500, "total": 15000, "seller_amount": 13500,
                 "created_at": "2026-11-27T09:30:00Z"}
_PROPOSAL = {"id": STRING, "listing_id": STRING, "seller_id": STRING, "amount": INTEGER, "currency": STRING,
             "duration_days": INTEGER, "status": STRING}
_PROPOSAL_SAMPLE = {"id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "listing_id": "2f0d9c8e-3b1a-4e5f-9a7b-6c5d4e3f2a1b",
                    "seller_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "amount": 500000, "currency": "SAR",
                    "duration_days": 30, "status": "pending"}
_MILESTONE = {"id": STRING, "order_id": STRING, "position": INTEGER, "title": STRING, "amount": INTEGER,
              "status": STRING}
_MILESTONE_SAMPLE = {"id": "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8", "order_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
                     "position": 1, "title": "تصميم الواجهات", "amount": 200000, "status": "funded"}

for _name, _description, _properties, _sample, _by in (
    ("listing.published", "A listing became visible in its market.", _LISTING, _LISTING_SAMPLE, "catalog"),
    ("listing.moderated", "The operator hid a listing (with a reason) or showed it again.",
     {**_LISTING, "hidden": BOOLEAN, "hidden_reason": STRING},
     {**_LISTING_SAMPLE, "hidden": True, "hidden_reason": "Copyrighted material"}, "catalog"),
    ("order.created", "A buyer placed an order (pending payment), or a proposal became a contract.",
     _ORDER, {**_ORDER_SAMPLE, "status": "pending_payment"}, "orders"),
    ("order.paid", "An order's payment arrived: a product completes, a service starts.", _ORDER, _ORDER_SAMPLE,
     "orders"),
    ("order.delivered", "The seller delivered a service order.", _ORDER, {**_ORDER_SAMPLE, "status": "delivered"},
     "orders"),
    ("order.revision_requested", "The buyer sent a delivered service order back for a revision.", _ORDER,
     _ORDER_SAMPLE, "orders"),
    ("order.completed", "An order is complete: a product paid, a service accepted, a contract's milestones done.",
     _ORDER, {**_ORDER_SAMPLE, "status": "completed"}, "orders"),
    ("order.cancelled", "An order was cancelled.", _ORDER, {**_ORDER_SAMPLE, "status": "cancelled"}, "orders"),
    ("proposal.created", "A seller sent a proposal on a project.", _PROPOSAL, _PROPOSAL_SAMPLE, "orders"),
    ("proposal.accepted", "The project's poster accepted a proposal: a contract was created.", _PROPOSAL,
     {**_PROPOSAL_SAMPLE, "status": "accepted"}, "orders"),
    ("proposal.declined", "A proposal was declined (by the poster, or because another was accepted).", _PROPOSAL,
     {**_PROPOSAL_SAMPLE, "status": "declined"}, "orders"),
    ("proposal.withdrawn", "The seller withdrew a proposal.", _PROPOSAL, {**_PROPOSAL_SAMPLE, "status": "withdrawn"},
     "orders"),
    ("milestone.funded", "A contract milestone's payment arrived.", _MILESTONE, _MILESTONE_SAMPLE, "orders"),
    ("milestone.delivered", "The seller delivered a milestone.", _MILESTONE, {**_MILESTONE_SAMPLE, "status": "delivered"},
     "orders"),
    ("milestone.revision_requested", "The buyer sent a delivered milestone back for a revision.", _MILESTONE,
     _MILESTONE_SAMPLE, "orders"),
    ("milestone.accepted", "The buyer accepted a milestone.", _MILESTONE, {**_MILESTONE_SAMPLE, "status": "accepted"},
     "orders"),
    ("milestone.cancelled", "An unfunded milestone was dropped.", _MILESTONE,
     {**_MILESTONE_SAMPLE, "status": "cancelled"}, "orders"),
):
    register(EventType(name=_name, description=_description, properties=_properties, sample=_sample,
                       emitted_by=_by))


_PAYMENT = {"id": STRING, "order_id": STRING, "milestone_id": NULLABLE_STRING, "amount": INTEGER, "currency": STRING,
            "status": STRING, "method": STRING, "gateway": STRING, "refunded_amount": INTEGER,
            "failure_code": STRING, "created_at": STRING}
_PAYMENT_SAMPLE = {"id": "6f5e4d3c-2b1a-4f9e-8d7c-6b5a4f3e2d1c", "order_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
                   "milestone_id": None, "amount": 15000, "currency": "SAR", "status": "succeeded", "method": "mada",
                   "gateway": "moyasar", "refunded_amount": 0, "failure_code": "", "created_at": "2026-11-27T09:30:00Z"}

for _name, _description, _sample in (
    ("payment.succeeded", "A payment was captured; its order is paid (or its milestone funded).", _PAYMENT_SAMPLE),
    ("payment.failed", "A payment was declined or abandoned; it can be processed again.",
     {**_PAYMENT_SAMPLE, "status": "failed", "failure_code": "insufficient_funds"}),
    ("payment.refunded", "A payment was refunded, in full or in part.",
     {**_PAYMENT_SAMPLE, "status": "partially_refunded", "refunded_amount": 5000}),
):
    register(EventType(name=_name, description=_description, properties=_PAYMENT, sample=_sample,
                       emitted_by="payments"))


_ESCROW = {"id": STRING, "order_id": STRING, "milestone_id": NULLABLE_STRING, "amount": INTEGER, "commission": INTEGER,
           "seller_amount": INTEGER, "currency": STRING, "status": STRING, "release_after": NULLABLE_STRING}
_ESCROW_SAMPLE = {"id": "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9", "order_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
                  "milestone_id": None, "amount": 15000, "commission": 1500, "seller_amount": 13500, "currency": "SAR",
                  "status": "held", "release_after": None}
for _name, _description, _sample in (
    ("escrow.held", "An order's payment arrived and is held for the seller.", _ESCROW_SAMPLE),
    ("escrow.released", "Held money went to the seller's wallet (and the commission to the marketplace).",
     {**_ESCROW_SAMPLE, "status": "released"}),
    ("escrow.refunded", "Held money went back to the buyer.", {**_ESCROW_SAMPLE, "status": "refunded"}),
):
    register(EventType(name=_name, description=_description, properties=_ESCROW, sample=_sample, emitted_by="escrow"))


_DISPUTE = {"id": STRING, "escrow_id": STRING, "order_id": STRING, "reason": STRING, "status": STRING,
            "outcome": STRING, "refund_amount": INTEGER, "release_amount": INTEGER, "respond_by": NULLABLE_STRING}
_DISPUTE_SAMPLE = {"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "escrow_id": "3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9",
                   "order_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "reason": "not_as_described", "status": "open",
                   "outcome": "", "refund_amount": 0, "release_amount": 0, "respond_by": "2026-11-30T09:30:00Z"}
for _name, _description, _sample in (
    ("dispute.opened", "A buyer disputed a held escrow; the money is frozen.", _DISPUTE_SAMPLE),
    ("dispute.resolved", "The operator (or the unanswered-dispute rule) decided: release, refund or split.",
     {**_DISPUTE_SAMPLE, "status": "resolved", "outcome": "split", "refund_amount": 5000, "release_amount": 10000}),
):
    register(EventType(name=_name, description=_description, properties=_DISPUTE, sample=_sample,
                       emitted_by="disputes"))


_WITHDRAWAL = {"id": STRING, "seller_id": STRING, "destination_id": STRING, "iban_last4": STRING, "bank_name": STRING,
               "amount": INTEGER, "currency": STRING, "status": STRING, "gateway": STRING,
               "gateway_payout_id": STRING, "failure_code": STRING, "failure_reason": STRING,
               "created_at": STRING}
_WITHDRAWAL_SAMPLE = {"id": "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a", "seller_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                      "destination_id": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b", "iban_last4": "7519",
                      "bank_name": "Al Rajhi Bank", "amount": 25000, "currency": "SAR", "status": "requested",
                      "gateway": "", "gateway_payout_id": "", "failure_code": "", "failure_reason": "",
                      "created_at": "2026-11-27T09:30:00Z"}
_WITHDRAWAL_SENT = {**_WITHDRAWAL_SAMPLE, "gateway": "moyasar", "gateway_payout_id": "ac2cc6d8-1ffa-48e9-a6eb-d4e98dbdb8ec"}
for _name, _description, _sample in (
    ("withdrawal.requested", "A seller asked to withdraw: the amount left their wallet and is in transit.",
     _WITHDRAWAL_SAMPLE),
    ("withdrawal.approved", "The operator (or the auto-approval rule) approved a withdrawal; it is being paid out.",
     {**_WITHDRAWAL_SAMPLE, "status": "approved", "gateway": "moyasar"}),
    ("withdrawal.paid", "The gateway reports the payout to the seller's bank account done.",
     {**_WITHDRAWAL_SENT, "status": "paid"}),
    ("withdrawal.failed", "The gateway could not pay the withdrawal out; the money is back in the wallet.",
     {**_WITHDRAWAL_SENT, "status": "failed", "failure_code": "beneficiary_account_invalid",
      "failure_reason": "Beneficiary account is invalid or closed"}),
    ("withdrawal.rejected", "The operator refused a withdrawal; the money is back in the wallet.",
     {**_WITHDRAWAL_SAMPLE, "status": "rejected"}),
    ("withdrawal.returned", "The bank sent a paid withdrawal back; the money is back in the wallet.",
     {**_WITHDRAWAL_SENT, "status": "returned", "failure_code": "returned",
      "failure_reason": "Returned by the beneficiary bank"}),
):
    register(EventType(name=_name, description=_description, properties=_WITHDRAWAL, sample=_sample,
                       emitted_by="payouts"))


_REVIEW = {"id": STRING, "order_id": STRING, "listing_id": STRING, "author_id": STRING, "subject_id": STRING,
           "role": STRING, "rating": INTEGER, "status": STRING}
_REVIEW_SAMPLE = {"id": "7d6c5b4a-3f2e-4d1c-9b8a-7f6e5d4c3b2a", "order_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
                  "listing_id": "2f0d9c8e-3b1a-4e5f-9a7b-6c5d4e3f2a1b", "author_id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60",
                  "subject_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "role": "buyer", "rating": 5, "status": "blind"}
for _name, _description, _sample in (
    ("review.created", "A party reviewed a completed order (hidden until both reviewed or 14 days passed).",
     _REVIEW_SAMPLE),
    ("review.published", "A review became visible.", {**_REVIEW_SAMPLE, "status": "published"}),
):
    register(EventType(name=_name, description=_description, properties=_REVIEW, sample=_sample,
                       emitted_by="reviews"))


_MESSAGE = {"conversation_id": STRING, "message_id": STRING, "sender_id": STRING, "recipient_id": STRING,
            "subject_type": STRING, "subject_id": NULLABLE_STRING, "created_at": STRING}
_MESSAGE_SAMPLE = {"conversation_id": "4b3a2f1e-0d9c-4b8a-9f7e-6d5c4b3a2f1e",
                   "message_id": "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b",
                   "sender_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                   "recipient_id": "5b0c2f9e-8d1e-4f55-9b57-0a3e1c2d4f60", "subject_type": "order",
                   "subject_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "created_at": "2026-11-27T09:30:00Z"}
register(EventType(name="message.created", properties=_MESSAGE, sample=_MESSAGE_SAMPLE, emitted_by="messaging",
                   description="A user wrote to another in a conversation (about a listing, an order, a dispute, "
                               "or direct). The text is never in the event: read it through the API."))

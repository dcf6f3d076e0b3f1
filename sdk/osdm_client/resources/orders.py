"""`client.orders`: buy a product, order a service, run a contract — create, pay (`client.payments`),
deliver, request a revision, complete, cancel; `client.orders.milestones` for a contract's milestones;
`client.orders.reviews` to review the other side of a completed order."""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import Any

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Milestone, Order, OrderDelivery, OrderDetail, Payment, Review

__all__ = ["AsyncOrderMilestones", "AsyncOrderReviews", "AsyncOrders", "OrderMilestones", "OrderReviews", "Orders"]

PATH = "/api/v1/orders/"


def _one(order_id: str, action: str = "") -> str:
    return f"{PATH}{segment(order_id)}/{action}"


def _milestone(order_id: str, milestone_id: str, action: str) -> str:
    return f"{PATH}{segment(order_id)}/milestones/{segment(milestone_id)}/{action}"


class OrderMilestones(SyncAPIResource):
    def payment(self, order_id: str, milestone_id: str) -> Payment:
        """The payment that funds a milestone (the buyer): process it with `client.payments.process`."""
        return self._client.post(_milestone(order_id, milestone_id, "payment"), Payment)

    def accept(self, order_id: str, milestone_id: str) -> Milestone:
        """Accept a delivered milestone (the buyer): its escrow is released."""
        return self._client.post(_milestone(order_id, milestone_id, "accept"), Milestone)

    def revision(self, order_id: str, milestone_id: str, *, message: str) -> Milestone:
        """Ask for a delivered milestone to be reworked (the buyer)."""
        return self._client.post(_milestone(order_id, milestone_id, "revision"), Milestone, body={"message": message})

    def cancel(self, order_id: str, milestone_id: str, *, reason: str | NotGiven = NOT_GIVEN) -> Milestone:
        """Drop a milestone: an unfunded one (either party), or a funded one (the seller or the operator; its
        escrow is refunded to the buyer, `reason` recorded with the refund)."""
        return self._client.post(_milestone(order_id, milestone_id, "cancel"), Milestone, body={"reason": reason})


class OrderReviews(SyncAPIResource):
    def create(self, order_id: str, *, rating: int, text: str | NotGiven = NOT_GIVEN) -> Review:
        """Review the other side of a completed order, `rating` 1 to 5. It stays `blind` until both sides
        have reviewed (or the window closes)."""
        return self._client.post(_one(order_id, "reviews"), Review, body={"rating": rating, "text": text})


class Orders(SyncAPIResource):
    @cached_property
    def milestones(self) -> OrderMilestones:
        return OrderMilestones(self._client)

    @cached_property
    def reviews(self) -> OrderReviews:
        return OrderReviews(self._client)

    def list(self, *, role: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN,
             status: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Order]:
        """Your orders (every order, for the operator): `role` `buyer` or `seller`; `market` `products`,
        `services` or `projects`; `status` `pending_payment`, `in_progress`, `delivered`, `completed` or
        `cancelled`."""
        return self._client.get_page(PATH, Order, params={"role": role, "market": market, "status": status,
                                                          "limit": limit})

    def create(self, *, listing_id: str, package: str | NotGiven = NOT_GIVEN,
               requirements: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN) -> OrderDetail:
        """Order a published product or service (the buyer); a service needs its `package` tier and the
        answers to its requirements (`[{"question": ..., "answer": ...}]`). The order waits for payment:
        `order.payment.id` is the payment to process."""
        return self._client.post(PATH, OrderDetail, body={"listing_id": listing_id, "package": package,
                                                          "requirements": requirements})

    def retrieve(self, order_id: str) -> OrderDetail:
        return self._client.get(_one(order_id), OrderDetail)

    def deliver(self, order_id: str, *, message: str, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN,
                milestone_id: str | NotGiven = NOT_GIVEN) -> OrderDelivery:
        """Deliver the work (the seller), with files uploaded with purpose `delivery`; for a contract,
        name the `milestone_id` delivered."""
        return self._client.post(_one(order_id, "deliver"), OrderDelivery, body={
            "message": message, "file_ids": file_ids, "milestone_id": milestone_id})

    def complete(self, order_id: str) -> OrderDetail:
        """Accept the delivery (the buyer): the order completes and its escrow is released."""
        return self._client.post(_one(order_id, "complete"), OrderDetail)

    def request_revision(self, order_id: str, *, message: str) -> OrderDetail:
        """Ask for the delivery to be reworked (the buyer), within the revisions included."""
        return self._client.post(_one(order_id, "revision"), OrderDetail, body={"message": message})

    def cancel(self, order_id: str, *, reason: str | NotGiven = NOT_GIVEN) -> OrderDetail:
        """Cancel an order not yet paid (either side), or as the operator."""
        return self._client.post(_one(order_id, "cancel"), OrderDetail, body={"reason": reason})


class AsyncOrderMilestones(AsyncAPIResource):
    async def payment(self, order_id: str, milestone_id: str) -> Payment:
        """The payment that funds a milestone (the buyer): process it with `client.payments.process`."""
        return await self._client.post(_milestone(order_id, milestone_id, "payment"), Payment)

    async def accept(self, order_id: str, milestone_id: str) -> Milestone:
        """Accept a delivered milestone (the buyer): its escrow is released."""
        return await self._client.post(_milestone(order_id, milestone_id, "accept"), Milestone)

    async def revision(self, order_id: str, milestone_id: str, *, message: str) -> Milestone:
        """Ask for a delivered milestone to be reworked (the buyer)."""
        return await self._client.post(_milestone(order_id, milestone_id, "revision"), Milestone, body={"message": message})

    async def cancel(self, order_id: str, milestone_id: str, *, reason: str | NotGiven = NOT_GIVEN) -> Milestone:
        """Drop a milestone: an unfunded one (either party), or a funded one (the seller or the operator; its
        escrow is refunded to the buyer, `reason` recorded with the refund)."""
        return await self._client.post(_milestone(order_id, milestone_id, "cancel"), Milestone, body={"reason": reason})


class AsyncOrderReviews(AsyncAPIResource):
    async def create(self, order_id: str, *, rating: int, text: str | NotGiven = NOT_GIVEN) -> Review:
        """Review the other side of a completed order, `rating` 1 to 5. It stays `blind` until both sides
        have reviewed (or the window closes)."""
        return await self._client.post(_one(order_id, "reviews"), Review, body={"rating": rating, "text": text})


class AsyncOrders(AsyncAPIResource):
    @cached_property
    def milestones(self) -> AsyncOrderMilestones:
        return AsyncOrderMilestones(self._client)

    @cached_property
    def reviews(self) -> AsyncOrderReviews:
        return AsyncOrderReviews(self._client)

    def list(self, *, role: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN,
             status: str | NotGiven = NOT_GIVEN, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Order]:
        """Your orders (every order, for the operator): `role` `buyer` or `seller`; `market` `products`,
        `services` or `projects`; `status` `pending_payment`, `in_progress`, `delivered`, `completed` or
        `cancelled`."""
        return self._client.get_page(PATH, Order, params={"role": role, "market": market, "status": status,
                                                          "limit": limit})

    async def create(self, *, listing_id: str, package: str | NotGiven = NOT_GIVEN,
                     requirements: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN) -> OrderDetail:
        """Order a published product or service (the buyer); a service needs its `package` tier and the
        answers to its requirements (`[{"question": ..., "answer": ...}]`). The order waits for payment:
        `order.payment.id` is the payment to process."""
        return await self._client.post(PATH, OrderDetail, body={"listing_id": listing_id, "package": package,
                                                                "requirements": requirements})

    async def retrieve(self, order_id: str) -> OrderDetail:
        return await self._client.get(_one(order_id), OrderDetail)

    async def deliver(self, order_id: str, *, message: str, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN,
                      milestone_id: str | NotGiven = NOT_GIVEN) -> OrderDelivery:
        """Deliver the work (the seller), with files uploaded with purpose `delivery`; for a contract,
        name the `milestone_id` delivered."""
        return await self._client.post(_one(order_id, "deliver"), OrderDelivery, body={
            "message": message, "file_ids": file_ids, "milestone_id": milestone_id})

    async def complete(self, order_id: str) -> OrderDetail:
        """Accept the delivery (the buyer): the order completes and its escrow is released."""
        return await self._client.post(_one(order_id, "complete"), OrderDetail)

    async def request_revision(self, order_id: str, *, message: str) -> OrderDetail:
        """Ask for the delivery to be reworked (the buyer), within the revisions included."""
        return await self._client.post(_one(order_id, "revision"), OrderDetail, body={"message": message})

    async def cancel(self, order_id: str, *, reason: str | NotGiven = NOT_GIVEN) -> OrderDetail:
        """Cancel an order not yet paid (either side), or as the operator."""
        return await self._client.post(_one(order_id, "cancel"), OrderDetail, body={"reason": reason})

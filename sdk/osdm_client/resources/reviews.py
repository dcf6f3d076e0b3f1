"""`client.reviews`: published reviews of users and listings; the reviewed side replies, the operator
hides. Reviews are written with `client.orders.reviews.create`."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import Review

__all__ = ["AsyncReviews", "Reviews"]

PATH = "/api/v1/reviews/"


class Reviews(SyncAPIResource):
    def list(self, *, listing: str | NotGiven = NOT_GIVEN, order: str | NotGiven = NOT_GIVEN,
             role: str | NotGiven = NOT_GIVEN, user: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Review]:
        """Reviews of a `listing`, of an `order`, or of a `user`; `role` `buyer` or `seller` (who wrote it)."""
        return self._client.get_page(PATH, Review, params={"listing": listing, "order": order, "role": role,
                                                           "user": user, "limit": limit})

    def reply(self, review_id: str, *, text: str) -> Review:
        """Answer a review of you, once."""
        return self._client.post(f"{PATH}{segment(review_id)}/reply", Review, body={"text": text})

    def hide(self, review_id: str, *, reason: str) -> Review:
        """Hide a review (operator)."""
        return self._client.post(f"{PATH}{segment(review_id)}/hide", Review, body={"reason": reason})


class AsyncReviews(AsyncAPIResource):
    def list(self, *, listing: str | NotGiven = NOT_GIVEN, order: str | NotGiven = NOT_GIVEN,
             role: str | NotGiven = NOT_GIVEN, user: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Review]:
        """AsyncReviews of a `listing`, of an `order`, or of a `user`; `role` `buyer` or `seller` (who wrote it)."""
        return self._client.get_page(PATH, Review, params={"listing": listing, "order": order, "role": role,
                                                           "user": user, "limit": limit})

    async def reply(self, review_id: str, *, text: str) -> Review:
        """Answer a review of you, once."""
        return await self._client.post(f"{PATH}{segment(review_id)}/reply", Review, body={"text": text})

    async def hide(self, review_id: str, *, reason: str) -> Review:
        """Hide a review (operator)."""
        return await self._client.post(f"{PATH}{segment(review_id)}/hide", Review, body={"reason": reason})

"""`client.users`: the marketplace's users (operator)."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import User

__all__ = ["AsyncUsers", "Users"]

PATH = "/api/v1/users/"


class Users(SyncAPIResource):
    def list(self, *, email: str | NotGiven = NOT_GIVEN, is_seller: bool | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[User]:
        """Users, newest first; iterate for all of them."""
        return self._client.get_page(PATH, User, params={"email": email, "is_seller": is_seller, "limit": limit})

    def retrieve(self, user_id: str) -> User:
        return self._client.get(f"{PATH}{segment(user_id)}/", User)


class AsyncUsers(AsyncAPIResource):
    def list(self, *, email: str | NotGiven = NOT_GIVEN, is_seller: bool | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[User]:
        """Users, newest first; `async for` them all."""
        return self._client.get_page(PATH, User, params={"email": email, "is_seller": is_seller, "limit": limit})

    async def retrieve(self, user_id: str) -> User:
        return await self._client.get(f"{PATH}{segment(user_id)}/", User)

"""`client.me`: the logged-in user (user mode), and `client.me.seller_profile`."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource
from .._types import NOT_GIVEN, NotGiven
from ..types import ListingSummary, Order, SellerProfile, User

__all__ = ["AsyncMe", "AsyncMyLibrary", "AsyncMyListings", "AsyncSellerProfileResource", "Me", "MyLibrary",
           "MyListings", "SellerProfileResource"]

PATH = "/api/v1/me"
PROFILE_PATH = "/api/v1/me/seller-profile"
LISTINGS_PATH = "/api/v1/me/listings/"
LIBRARY_PATH = "/api/v1/me/library/"


class MyLibrary(SyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Order]:
        """The products you bought and paid for: each order's listing's files are yours to download."""
        return self._client.get_page(LIBRARY_PATH, Order, params={"limit": limit})


class AsyncMyLibrary(AsyncAPIResource):
    def list(self, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Order]:
        """The products you bought and paid for: each order's listing's files are yours to download."""
        return self._client.get_page(LIBRARY_PATH, Order, params={"limit": limit})


class MyListings(SyncAPIResource):
    def list(self, *, market: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[ListingSummary]:
        """Your own listings, drafts included; `status` is `draft`, `published`, `paused` or `closed`."""
        return self._client.get_page(LISTINGS_PATH, ListingSummary,
                                     params={"market": market, "status": status, "limit": limit})


class AsyncMyListings(AsyncAPIResource):
    def list(self, *, market: str | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[ListingSummary]:
        """Your own listings, drafts included; `status` is `draft`, `published`, `paused` or `closed`."""
        return self._client.get_page(LISTINGS_PATH, ListingSummary,
                                     params={"market": market, "status": status, "limit": limit})


class SellerProfileResource(SyncAPIResource):
    def retrieve(self) -> SellerProfile:
        """Your seller profile (`NotFoundError` with code `seller_profile_not_found` if you are not a seller)."""
        return self._client.get(PROFILE_PATH, SellerProfile)

    def upsert(self, *, display_name: str, country: str, bio: str | NotGiven = NOT_GIVEN,
               avatar_url: str | NotGiven = NOT_GIVEN) -> SellerProfile:
        """Become a seller, or replace your seller profile."""
        return self._client.put(PROFILE_PATH, SellerProfile, body={
            "display_name": display_name, "country": country, "bio": bio, "avatar_url": avatar_url})

    def update(self, *, display_name: str | NotGiven = NOT_GIVEN, country: str | NotGiven = NOT_GIVEN,
               bio: str | NotGiven = NOT_GIVEN, avatar_url: str | NotGiven = NOT_GIVEN) -> SellerProfile:
        """Change some fields of your seller profile."""
        return self._client.patch(PROFILE_PATH, SellerProfile, body={
            "display_name": display_name, "country": country, "bio": bio, "avatar_url": avatar_url})


class Me(SyncAPIResource):
    @cached_property
    def seller_profile(self) -> SellerProfileResource:
        return SellerProfileResource(self._client)

    @cached_property
    def listings(self) -> MyListings:
        return MyListings(self._client)

    @cached_property
    def library(self) -> MyLibrary:
        return MyLibrary(self._client)

    def retrieve(self) -> User:
        return self._client.get(PATH, User)

    def update(self, *, full_name: str | NotGiven = NOT_GIVEN, locale: Literal["ar", "en"] | NotGiven = NOT_GIVEN,
               password: str | NotGiven = NOT_GIVEN, current_password: str | NotGiven = NOT_GIVEN) -> User:
        """Change your name or language; a new `password` needs `current_password` and logs out every
        other session (their tokens stop working)."""
        return self._client.patch(PATH, User, body={
            "full_name": full_name, "locale": locale, "password": password, "current_password": current_password})


class AsyncSellerProfileResource(AsyncAPIResource):
    async def retrieve(self) -> SellerProfile:
        """Your seller profile (`NotFoundError` with code `seller_profile_not_found` if you are not a seller)."""
        return await self._client.get(PROFILE_PATH, SellerProfile)

    async def upsert(self, *, display_name: str, country: str, bio: str | NotGiven = NOT_GIVEN,
                     avatar_url: str | NotGiven = NOT_GIVEN) -> SellerProfile:
        """Become a seller, or replace your seller profile."""
        return await self._client.put(PROFILE_PATH, SellerProfile, body={
            "display_name": display_name, "country": country, "bio": bio, "avatar_url": avatar_url})

    async def update(self, *, display_name: str | NotGiven = NOT_GIVEN, country: str | NotGiven = NOT_GIVEN,
                     bio: str | NotGiven = NOT_GIVEN, avatar_url: str | NotGiven = NOT_GIVEN) -> SellerProfile:
        """Change some fields of your seller profile."""
        return await self._client.patch(PROFILE_PATH, SellerProfile, body={
            "display_name": display_name, "country": country, "bio": bio, "avatar_url": avatar_url})


class AsyncMe(AsyncAPIResource):
    @cached_property
    def seller_profile(self) -> AsyncSellerProfileResource:
        return AsyncSellerProfileResource(self._client)

    @cached_property
    def listings(self) -> AsyncMyListings:
        return AsyncMyListings(self._client)

    @cached_property
    def library(self) -> AsyncMyLibrary:
        return AsyncMyLibrary(self._client)

    async def retrieve(self) -> User:
        return await self._client.get(PATH, User)

    async def update(self, *, full_name: str | NotGiven = NOT_GIVEN,
                     locale: Literal["ar", "en"] | NotGiven = NOT_GIVEN, password: str | NotGiven = NOT_GIVEN,
                     current_password: str | NotGiven = NOT_GIVEN) -> User:
        """Change your name or language; a new `password` needs `current_password` and logs out every
        other session (their tokens stop working)."""
        return await self._client.patch(PATH, User, body={
            "full_name": full_name, "locale": locale, "password": password, "current_password": current_password})

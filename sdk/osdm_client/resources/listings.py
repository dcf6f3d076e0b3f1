"""`client.listings`: products, services and projects — search with facets, create, edit, publish,
pause, close, moderate; `client.listings.proposals`: sellers' bids on a project.

    page = client.listings.search(q="logo", market="services", max_price=50000)
    page.facets.total                     # every match, with counts per market, category and price
    for listing in page:                  # this page and every following one
        ...
"""

from __future__ import annotations

import builtins
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import (
    AsyncListingSearchPage,
    AsyncListingSearchPaginator,
    Listing,
    ListingSearchPage,
    ListingSummary,
    Proposal,
)

__all__ = ["AsyncListingProposals", "AsyncListings", "ListingProposals", "Listings"]

PATH = "/api/v1/listings/"


def _one(listing_id: str, action: str = "") -> str:
    return f"{PATH}{segment(listing_id)}/{action}"


class ListingProposals(SyncAPIResource):
    def list(self, listing_id: str, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Proposal]:
        """A project's proposals (its owner sees all of them, a seller their own)."""
        return self._client.get_page(_one(listing_id, "proposals/"), Proposal, params={"limit": limit})

    def create(self, listing_id: str, *, cover_letter: str, amount: int, duration_days: int,
               milestones: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN) -> Proposal:
        """Bid on a published project (a seller): `amount` in minor units; `milestones` as
        `[{"title": ..., "amount": ..., "due_days": ...}]`, their amounts adding up to `amount`."""
        return self._client.post(_one(listing_id, "proposals/"), Proposal, body={
            "cover_letter": cover_letter, "amount": amount, "duration_days": duration_days,
            "milestones": milestones})


class Listings(SyncAPIResource):
    @cached_property
    def proposals(self) -> ListingProposals:
        return ListingProposals(self._client)

    def search(self, *, q: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN,
               category: int | NotGiven = NOT_GIVEN, seller: str | NotGiven = NOT_GIVEN,
               tags: builtins.list[str] | str | NotGiven = NOT_GIVEN, min_price: int | NotGiven = NOT_GIVEN,
               max_price: int | NotGiven = NOT_GIVEN, delivery_days: int | NotGiven = NOT_GIVEN,
               rating: float | NotGiven = NOT_GIVEN, ordering: str | NotGiven = NOT_GIVEN,
               limit: int | NotGiven = NOT_GIVEN) -> ListingSearchPage:
        """Published listings matching every filter given: `q` full text, `market`, `category` (and its
        subcategories), `seller` (a user id), `tags` (all of them), a price range in minor units,
        `delivery_days` at most, `rating` at least; `ordering` is `relevance`, `newest`, `price`,
        `-price`, `rating` or `sales`. The first page carries `.facets`; iterate for every listing."""
        return cast("ListingSearchPage", self._client.get_page(PATH, ListingSummary, params={
            "q": q, "market": market, "category": category, "seller": seller, "tags": tags, "min_price": min_price,
            "max_price": max_price, "delivery_days": delivery_days, "rating": rating, "ordering": ordering,
            "limit": limit}, page_type=ListingSearchPage))

    def create(self, *, market: str, category_id: int, title: str, description: str,
               language: str | NotGiven = NOT_GIVEN, tags: builtins.list[str] | NotGiven = NOT_GIVEN,
               images: builtins.list[str] | NotGiven = NOT_GIVEN, price: int | NotGiven = NOT_GIVEN,
               license_text: str | NotGiven = NOT_GIVEN, version: str | NotGiven = NOT_GIVEN,
               file_ids: builtins.list[str] | NotGiven = NOT_GIVEN,
               packages: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
               requirements: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
               budget_min: int | NotGiven | None = NOT_GIVEN, budget_max: int | NotGiven = NOT_GIVEN,
               deadline: datetime | str | NotGiven | None = NOT_GIVEN,
               skills: builtins.list[str] | NotGiven = NOT_GIVEN, publish: bool | NotGiven = NOT_GIVEN) -> Listing:
        """A new listing (a seller), a draft unless `publish=True`. A product has a `price` and
        `file_ids` (uploaded with purpose `product`); a service `packages`
        (`[{"tier": "basic", "title": ..., "price": ..., "delivery_days": ...}]`) and `requirements`
        (`[{"question": ..., "required": True}]`); a project a budget, a `deadline` and `skills`.
        Amounts are integers in the marketplace currency's minor unit."""
        return self._client.post(PATH, Listing, body={
            "market": market, "category_id": category_id, "title": title, "description": description,
            "language": language, "tags": tags, "images": images, "price": price, "license_text": license_text,
            "version": version, "file_ids": file_ids, "packages": packages, "requirements": requirements,
            "budget_min": budget_min, "budget_max": budget_max, "deadline": deadline, "skills": skills,
            "publish": publish})

    def retrieve(self, listing_id: str) -> Listing:
        return self._client.get(_one(listing_id), Listing)

    def update(self, listing_id: str, *, category_id: int | NotGiven = NOT_GIVEN, title: str | NotGiven = NOT_GIVEN,
               description: str | NotGiven = NOT_GIVEN, language: str | NotGiven = NOT_GIVEN,
               tags: builtins.list[str] | NotGiven = NOT_GIVEN, images: builtins.list[str] | NotGiven = NOT_GIVEN,
               price: int | NotGiven = NOT_GIVEN, license_text: str | NotGiven = NOT_GIVEN,
               version: str | NotGiven = NOT_GIVEN, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN,
               packages: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
               requirements: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
               budget_min: int | NotGiven | None = NOT_GIVEN, budget_max: int | NotGiven = NOT_GIVEN,
               deadline: datetime | str | NotGiven | None = NOT_GIVEN,
               skills: builtins.list[str] | NotGiven = NOT_GIVEN) -> Listing:
        """Change your listing; only the fields given change."""
        return self._client.patch(_one(listing_id), Listing, body={
            "category_id": category_id, "title": title, "description": description, "language": language,
            "tags": tags, "images": images, "price": price, "license_text": license_text, "version": version,
            "file_ids": file_ids, "packages": packages, "requirements": requirements, "budget_min": budget_min,
            "budget_max": budget_max, "deadline": deadline, "skills": skills})

    def publish(self, listing_id: str) -> Listing:
        """Publish a draft or paused listing: it becomes searchable and buyable."""
        return self._client.post(_one(listing_id, "publish"), Listing)

    def pause(self, listing_id: str) -> Listing:
        """Take a published listing out of search for a while (`publish` brings it back)."""
        return self._client.post(_one(listing_id, "pause"), Listing)

    def close(self, listing_id: str) -> Listing:
        """Close a listing for good."""
        return self._client.post(_one(listing_id, "close"), Listing)

    def moderate(self, listing_id: str, *, hidden: bool, reason: str | NotGiven = NOT_GIVEN) -> Listing:
        """Hide a listing from everyone but its owner, or show it again (operator)."""
        return self._client.post(_one(listing_id, "moderate"), Listing, body={"hidden": hidden, "reason": reason})


class AsyncListingProposals(AsyncAPIResource):
    def list(self, listing_id: str, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Proposal]:
        """A project's proposals (its owner sees all of them, a seller their own)."""
        return self._client.get_page(_one(listing_id, "proposals/"), Proposal, params={"limit": limit})

    async def create(self, listing_id: str, *, cover_letter: str, amount: int, duration_days: int,
                     milestones: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN) -> Proposal:
        """Bid on a published project (a seller): `amount` in minor units; `milestones` as
        `[{"title": ..., "amount": ..., "due_days": ...}]`, their amounts adding up to `amount`."""
        return await self._client.post(_one(listing_id, "proposals/"), Proposal, body={
            "cover_letter": cover_letter, "amount": amount, "duration_days": duration_days,
            "milestones": milestones})


class AsyncListings(AsyncAPIResource):
    @cached_property
    def proposals(self) -> AsyncListingProposals:
        return AsyncListingProposals(self._client)

    def search(self, *, q: str | NotGiven = NOT_GIVEN, market: str | NotGiven = NOT_GIVEN,
               category: int | NotGiven = NOT_GIVEN, seller: str | NotGiven = NOT_GIVEN,
               tags: builtins.list[str] | str | NotGiven = NOT_GIVEN, min_price: int | NotGiven = NOT_GIVEN,
               max_price: int | NotGiven = NOT_GIVEN, delivery_days: int | NotGiven = NOT_GIVEN,
               rating: float | NotGiven = NOT_GIVEN, ordering: str | NotGiven = NOT_GIVEN,
               limit: int | NotGiven = NOT_GIVEN) -> AsyncListingSearchPaginator:
        """Published listings matching every filter given: `q` full text, `market`, `category` (and its
        subcategories), `seller` (a user id), `tags` (all of them), a price range in minor units,
        `delivery_days` at most, `rating` at least; `ordering` is `relevance`, `newest`, `price`,
        `-price`, `rating` or `sales`. The first page carries `.facets`; iterate for every listing."""
        return cast("AsyncListingSearchPaginator", self._client.get_page(PATH, ListingSummary, params={
            "q": q, "market": market, "category": category, "seller": seller, "tags": tags, "min_price": min_price,
            "max_price": max_price, "delivery_days": delivery_days, "rating": rating, "ordering": ordering,
            "limit": limit}, page_type=AsyncListingSearchPage, paginator_type=AsyncListingSearchPaginator))

    async def create(self, *, market: str, category_id: int, title: str, description: str,
                     language: str | NotGiven = NOT_GIVEN, tags: builtins.list[str] | NotGiven = NOT_GIVEN,
                     images: builtins.list[str] | NotGiven = NOT_GIVEN, price: int | NotGiven = NOT_GIVEN,
                     license_text: str | NotGiven = NOT_GIVEN, version: str | NotGiven = NOT_GIVEN,
                     file_ids: builtins.list[str] | NotGiven = NOT_GIVEN,
                     packages: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
                     requirements: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
                     budget_min: int | NotGiven | None = NOT_GIVEN, budget_max: int | NotGiven = NOT_GIVEN,
                     deadline: datetime | str | NotGiven | None = NOT_GIVEN,
                     skills: builtins.list[str] | NotGiven = NOT_GIVEN, publish: bool | NotGiven = NOT_GIVEN) -> Listing:
        """A new listing (a seller), a draft unless `publish=True`. A product has a `price` and
        `file_ids` (uploaded with purpose `product`); a service `packages`
        (`[{"tier": "basic", "title": ..., "price": ..., "delivery_days": ...}]`) and `requirements`
        (`[{"question": ..., "required": True}]`); a project a budget, a `deadline` and `skills`.
        Amounts are integers in the marketplace currency's minor unit."""
        return await self._client.post(PATH, Listing, body={
            "market": market, "category_id": category_id, "title": title, "description": description,
            "language": language, "tags": tags, "images": images, "price": price, "license_text": license_text,
            "version": version, "file_ids": file_ids, "packages": packages, "requirements": requirements,
            "budget_min": budget_min, "budget_max": budget_max, "deadline": deadline, "skills": skills,
            "publish": publish})

    async def retrieve(self, listing_id: str) -> Listing:
        return await self._client.get(_one(listing_id), Listing)

    async def update(self, listing_id: str, *, category_id: int | NotGiven = NOT_GIVEN, title: str | NotGiven = NOT_GIVEN,
                     description: str | NotGiven = NOT_GIVEN, language: str | NotGiven = NOT_GIVEN,
                     tags: builtins.list[str] | NotGiven = NOT_GIVEN, images: builtins.list[str] | NotGiven = NOT_GIVEN,
                     price: int | NotGiven = NOT_GIVEN, license_text: str | NotGiven = NOT_GIVEN,
                     version: str | NotGiven = NOT_GIVEN, file_ids: builtins.list[str] | NotGiven = NOT_GIVEN,
                     packages: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
                     requirements: builtins.list[dict[str, Any]] | NotGiven = NOT_GIVEN,
                     budget_min: int | NotGiven | None = NOT_GIVEN, budget_max: int | NotGiven = NOT_GIVEN,
                     deadline: datetime | str | NotGiven | None = NOT_GIVEN,
                     skills: builtins.list[str] | NotGiven = NOT_GIVEN) -> Listing:
        """Change your listing; only the fields given change."""
        return await self._client.patch(_one(listing_id), Listing, body={
            "category_id": category_id, "title": title, "description": description, "language": language,
            "tags": tags, "images": images, "price": price, "license_text": license_text, "version": version,
            "file_ids": file_ids, "packages": packages, "requirements": requirements, "budget_min": budget_min,
            "budget_max": budget_max, "deadline": deadline, "skills": skills})

    async def publish(self, listing_id: str) -> Listing:
        """Publish a draft or paused listing: it becomes searchable and buyable."""
        return await self._client.post(_one(listing_id, "publish"), Listing)

    async def pause(self, listing_id: str) -> Listing:
        """Take a published listing out of search for a while (`publish` brings it back)."""
        return await self._client.post(_one(listing_id, "pause"), Listing)

    async def close(self, listing_id: str) -> Listing:
        """Close a listing for good."""
        return await self._client.post(_one(listing_id, "close"), Listing)

    async def moderate(self, listing_id: str, *, hidden: bool, reason: str | NotGiven = NOT_GIVEN) -> Listing:
        """Hide a listing from everyone but its owner, or show it again (operator)."""
        return await self._client.post(_one(listing_id, "moderate"), Listing, body={"hidden": hidden, "reason": reason})

"""`client.categories`: each market's category tree. Anyone lists them; the operator manages them."""

from __future__ import annotations

import builtins

from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import CategoriesLoaded, Category

__all__ = ["AsyncCategories", "Categories"]

PATH = "/api/v1/categories/"


class Categories(SyncAPIResource):
    def list(self, *, market: str | NotGiven = NOT_GIVEN, include_inactive: bool | NotGiven = NOT_GIVEN
             ) -> builtins.list[Category]:
        """Every category (not paginated), parents before children; `market` is `products`, `services` or
        `projects`; `include_inactive` (operator) adds the deactivated ones."""
        return self._client.get_list(PATH, Category, params={"market": market, "include_inactive": include_inactive})

    def create(self, *, market: str, slug: str, name_en: str, name_ar: str,
               parent_id: int | NotGiven | None = NOT_GIVEN, icon: str | NotGiven = NOT_GIVEN,
               position: int | NotGiven = NOT_GIVEN) -> Category:
        """Add a category (operator), under `parent_id` if given."""
        return self._client.post(PATH, Category, body={
            "market": market, "slug": slug, "name_en": name_en, "name_ar": name_ar, "parent_id": parent_id,
            "icon": icon, "position": position})

    def update(self, category_id: int, *, parent_id: int | NotGiven | None = NOT_GIVEN,
               slug: str | NotGiven = NOT_GIVEN, name_en: str | NotGiven = NOT_GIVEN,
               name_ar: str | NotGiven = NOT_GIVEN, icon: str | NotGiven = NOT_GIVEN,
               position: int | NotGiven = NOT_GIVEN, is_active: bool | NotGiven = NOT_GIVEN) -> Category:
        """Change a category (operator); `is_active=False` hides it from new listings."""
        return self._client.patch(f"{PATH}{segment(category_id)}/", Category, body={
            "parent_id": parent_id, "slug": slug, "name_en": name_en, "name_ar": name_ar, "icon": icon,
            "position": position, "is_active": is_active})

    def delete(self, category_id: int) -> None:
        """Delete a category no listing uses (operator)."""
        self._client.delete(f"{PATH}{segment(category_id)}/")

    def load_default(self) -> CategoriesLoaded:
        """Load the platform's default category tree (operator); `.created` counts the new ones."""
        return self._client.post(f"{PATH}load-default", CategoriesLoaded)


class AsyncCategories(AsyncAPIResource):
    async def list(self, *, market: str | NotGiven = NOT_GIVEN, include_inactive: bool | NotGiven = NOT_GIVEN
                   ) -> builtins.list[Category]:
        """Every category (not paginated), parents before children; `market` is `products`, `services` or
        `projects`; `include_inactive` (operator) adds the deactivated ones."""
        return await self._client.get_list(PATH, Category, params={"market": market, "include_inactive": include_inactive})

    async def create(self, *, market: str, slug: str, name_en: str, name_ar: str,
                     parent_id: int | NotGiven | None = NOT_GIVEN, icon: str | NotGiven = NOT_GIVEN,
                     position: int | NotGiven = NOT_GIVEN) -> Category:
        """Add a category (operator), under `parent_id` if given."""
        return await self._client.post(PATH, Category, body={
            "market": market, "slug": slug, "name_en": name_en, "name_ar": name_ar, "parent_id": parent_id,
            "icon": icon, "position": position})

    async def update(self, category_id: int, *, parent_id: int | NotGiven | None = NOT_GIVEN,
                     slug: str | NotGiven = NOT_GIVEN, name_en: str | NotGiven = NOT_GIVEN,
                     name_ar: str | NotGiven = NOT_GIVEN, icon: str | NotGiven = NOT_GIVEN,
                     position: int | NotGiven = NOT_GIVEN, is_active: bool | NotGiven = NOT_GIVEN) -> Category:
        """Change a category (operator); `is_active=False` hides it from new listings."""
        return await self._client.patch(f"{PATH}{segment(category_id)}/", Category, body={
            "parent_id": parent_id, "slug": slug, "name_en": name_en, "name_ar": name_ar, "icon": icon,
            "position": position, "is_active": is_active})

    async def delete(self, category_id: int) -> None:
        """Delete a category no listing uses (operator)."""
        await self._client.delete(f"{PATH}{segment(category_id)}/")

    async def load_default(self) -> CategoriesLoaded:
        """Load the platform's default category tree (operator); `.created` counts the new ones."""
        return await self._client.post(f"{PATH}load-default", CategoriesLoaded)

"""The catalog: categories, listings (products, services, projects), proposals on projects, stored files,
and the search page with its facets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._models import BaseModel
from .._pagination import AsyncPage, AsyncPaginator, SyncPage

__all__ = [
    "AsyncListingSearchPage",
    "AsyncListingSearchPaginator",
    "CategoriesLoaded",
    "Category",
    "FacetCategory",
    "FacetPrice",
    "Facets",
    "FileLink",
    "Listing",
    "ListingOwner",
    "ListingSearchPage",
    "ListingSummary",
    "Package",
    "Proposal",
    "StoredFile",
]


class Category(BaseModel):
    id: int
    market: str
    """`products`, `services` or `projects`."""
    parent_id: int | None = None
    slug: str
    name_en: str
    name_ar: str
    icon: str = ""
    position: int = 0
    depth: int = 0
    is_active: bool = True


class StoredFile(BaseModel):
    id: str
    name: str
    purpose: str
    """`product` (a product's file), `delivery` (attached to a delivery or message) or `image`."""
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    created_at: datetime


class FileLink(BaseModel):
    """A signed download link anyone holding it may use until `expires_at`."""

    url: str
    thumbnail_url: str | None = None
    expires_at: datetime


class ListingOwner(BaseModel):
    id: str
    display_name: str


class Package(BaseModel):
    """A service's package tier: `basic`, `standard` or `premium`."""

    tier: str
    title: str
    description: str = ""
    price: int
    delivery_days: int
    revisions: int = 0
    features: list[str] = []


class Listing(BaseModel):
    """A product, service or project. Prices and budgets are integers in `currency`'s minor unit."""

    id: str
    market: str
    """`products`, `services` or `projects`."""
    status: str = "draft"
    """`draft`, `published`, `paused` or `closed`."""
    title: str
    description: str
    language: str = "ar"
    category: Category
    owner: ListingOwner
    tags: list[str] = []
    images: list[str] = []
    currency: str
    price: int = 0
    delivery_days: int | None = None
    license_text: str = ""
    version: str = ""
    requirements: Any = None
    packages: list[Package] = []
    files: list[StoredFile] = []
    budget_min: int | None = None
    budget_max: int | None = None
    deadline: datetime | None = None
    skills: list[str] = []
    rating: float | None = None
    rating_count: int = 0
    sales_count: int = 0
    hidden: bool = False
    hidden_reason: str = ""
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None


class ListingSummary(BaseModel):
    """A listing as lists and search show it."""

    id: str
    market: str
    status: str = "published"
    title: str
    language: str = "ar"
    category_id: int
    owner_id: str
    tags: list[str] = []
    images: list[str] = []
    currency: str
    price: int = 0
    delivery_days: int | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    deadline: datetime | None = None
    rating: float | None = None
    rating_count: int = 0
    sales_count: int = 0
    published_at: datetime | None = None
    created_at: datetime


class FacetCategory(BaseModel):
    id: int
    count: int


class FacetPrice(BaseModel):
    """A price bucket: `min` up to `max` (open-ended when `max` is None), minor units."""

    min: int
    max: int | None = None
    count: int


class Facets(BaseModel):
    """Counts over every match of a search (not only this page)."""

    total: int
    markets: dict[str, int] = {}
    categories: list[FacetCategory] = []
    price: list[FacetPrice] = []


class ListingSearchPage(SyncPage[ListingSummary]):
    """A page of search results with the search's `facets`; iterating walks every page, as any list."""

    facets: Facets

    def _absorb(self, data: dict[str, Any]) -> None:
        self.facets = Facets.model_validate(data["facets"])


class AsyncListingSearchPage(AsyncPage[ListingSummary]):
    """The async `ListingSearchPage`."""

    facets: Facets

    def _absorb(self, data: dict[str, Any]) -> None:
        self.facets = Facets.model_validate(data["facets"])


class AsyncListingSearchPaginator(AsyncPaginator[ListingSummary]):
    """`await` it for the first `AsyncListingSearchPage` (with facets), `async for` it for every listing."""


class Proposal(BaseModel):
    """A seller's bid on a project: `pending`, `accepted`, `declined` or `withdrawn`."""

    id: str
    listing_id: str
    seller_id: str
    cover_letter: str
    amount: int
    currency: str
    duration_days: int
    milestones: Any = None
    status: str = "pending"
    contract_id: str | None = None
    """The order (contract) accepting this proposal made."""
    created_at: datetime
    decided_at: datetime | None = None


class CategoriesLoaded(BaseModel):
    created: int
    """How many categories loading the default tree added."""

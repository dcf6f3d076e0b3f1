"""Catalog reads: the category tree, listing visibility, and search with filters, ordering and facets.

Search matches a listing when its text-search vector (built in the listing's language, over
normalised text) matches the query parsed both as Arabic and as English, or when the query is
trigram-similar to a word of its title or tags, so that a typo still finds it. Facets count the same
filtered set the results come from, so they always agree with the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from osdm.core.errors import NotFound

from .models import Category, Listing
from .text import normalize

# Price buckets for the facet, in major units of the currency (multiplied by 10^exponent).
PRICE_BUCKETS_MAJOR = (50, 100, 250, 500, 1000)
ORDERINGS = {
    "relevance": None,
    "newest": ("-published_at", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "rating": ("-rating_avg", "-rating_count", "-id"),
    "sales": ("-sales_count", "-id"),
}


def category_tree(*, market: str | None = None, include_inactive: bool = False) -> QuerySet[Category]:
    qs = Category.objects.all()
    if market:
        qs = qs.filter(market=market)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("market", "depth", "position", "id")


def category_get(*, category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(code="category_not_found")
    return category


def listing_visible(*, listing_id, principal) -> Listing:
    """A listing the principal may see: published and not hidden, or their own, or any to an operator."""
    listing = (Listing.objects.select_related("category", "owner__seller_profile")
               .prefetch_related("packages", "files__file").filter(pk=listing_id).first())
    if listing is None:
        raise NotFound(code="listing_not_found")
    if listing.is_visible or getattr(principal, "is_operator", False) or listing.owner_id == getattr(principal, "pk", 0):
        return listing
    raise NotFound(code="listing_not_found")


@dataclass
class SearchParams:
    q: str = ""
    market: str | None = None
    category_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    min_rating: float | None = None
    seller_id: str | None = None
    max_delivery_days: int | None = None
    tags: list[str] = field(default_factory=list)
    ordering: str = "relevance"


def _with_rating(qs: QuerySet[Listing]) -> QuerySet[Listing]:
    return qs.annotate(rating_avg=Case(When(rating_count=0, then=Value(0.0)),
                                       default=F("rating_sum") * 1.0 / F("rating_count"), output_field=FloatField()))


def listing_search(params: SearchParams) -> QuerySet[Listing]:
    """The filtered, ordered result set (not yet sliced)."""
    qs = _with_rating(Listing.objects.filter(status=Listing.Status.PUBLISHED, hidden=False))
    if params.market:
        qs = qs.filter(market=params.market)
    if params.category_id is not None:
        category = Category.objects.filter(pk=params.category_id).only("path").first()
        if category is None:
            return qs.none()
        qs = qs.filter(category__path__startswith=category.path)
    if params.min_price is not None:
        qs = qs.filter(price__gte=params.min_price)
    if params.max_price is not None:
        qs = qs.filter(price__lte=params.max_price)
    if params.min_rating is not None:
        qs = qs.filter(rating_avg__gte=params.min_rating)
    if params.seller_id:
        qs = qs.filter(owner_id=params.seller_id)
    if params.max_delivery_days is not None:
        qs = qs.filter(delivery_days__lte=params.max_delivery_days)
    if params.tags:
        qs = qs.filter(tags__contains=params.tags)
    text = normalize(params.q)
    ordering = ORDERINGS.get(params.ordering) or ()
    if text:
        query = (SearchQuery(text, config="arabic", search_type="websearch")
                 | SearchQuery(text, config="english", search_type="websearch"))
        qs = qs.filter(Q(search_vector=query) | Q(search_text__trigram_word_similar=text))
        if params.ordering == "relevance":
            qs = qs.annotate(relevance=Coalesce(SearchRank(F("search_vector"), query), 0.0)
                             + TrigramWordSimilarity(text, "search_text"))
            ordering = ("-relevance", "-id")
    if not ordering:
        ordering = ORDERINGS["newest"]
    return qs.order_by(*ordering)


def listing_facets(results: QuerySet[Listing], *, exponent: int = 2) -> dict:
    """Counts over the same filtered set: per market, per category (where the listings are filed),
    and per price bucket. Three aggregate queries whatever the result size."""
    base = results.order_by()
    markets = {row["market"]: row["n"] for row in base.values("market").annotate(n=Count("id"))}
    categories = [{"id": row["category_id"], "count": row["n"]}
                  for row in base.values("category_id").annotate(n=Count("id")).order_by("-n", "category_id")[:50]]
    unit = 10 ** exponent
    edges = [b * unit for b in PRICE_BUCKETS_MAJOR]
    buckets = {}
    lower = 0
    for edge in edges:
        buckets[f"{lower}-{edge}"] = Count("id", filter=Q(price__gte=lower, price__lt=edge))
        lower = edge
    buckets[f"{lower}-"] = Count("id", filter=Q(price__gte=lower))
    counts = base.aggregate(**buckets)
    price = []
    for key, count in counts.items():
        low, high = key.split("-")
        price.append({"min": int(low), "max": int(high) if high else None, "count": count})
    return {"total": sum(markets.values()), "markets": markets, "categories": categories, "price": price}


def listings_of_owner(*, owner, market: str | None = None, status: str | None = None) -> QuerySet[Listing]:
    qs = _with_rating(Listing.objects.filter(owner=owner)).select_related("category").prefetch_related("packages")
    if market:
        qs = qs.filter(market=market)
    if status:
        qs = qs.filter(status=status)
    return qs

"""Catalog reads: the category tree, listing visibility, and search with filters, ordering and facets.

Search matches a listing when its text-search vector (built in the listing's language, over
normalised text) matches the query parsed both as Arabic and as English. When that finds nothing,
every word of the query must be trigram-similar to a word of the title or tags, so a typo still
finds the listing (and a common word does not drag in half the catalogue). Facets count the same
filtered set the results come from, in one GROUPING SETS pass, so they always agree with the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, FloatField, QuerySet, Value, When
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


def _text_filter(qs: QuerySet[Listing], text: str) -> tuple[QuerySet[Listing], object | None, bool]:
    """Full text first (indexed, in both languages); only when it finds nothing, the typo-tolerant
    trigram match, with every word of the query required to be similar to a word of the title or tags.
    Returns the filtered set, the text-search query (for ranking), and whether trigrams were used."""
    query = (SearchQuery(text, config="arabic", search_type="websearch")
             | SearchQuery(text, config="english", search_type="websearch"))
    full_text = qs.filter(search_vector=query)
    if full_text.exists():
        return full_text, query, False
    words = [w for w in text.split() if len(w) >= 2][:8] or [text]
    fuzzy = qs
    for word in words:
        fuzzy = fuzzy.filter(search_text__trigram_word_similar=word)
    return fuzzy, None, True


def listing_search(params: SearchParams) -> QuerySet[Listing]:
    """The filtered, ordered result set (not yet sliced)."""
    qs = _with_rating(Listing.objects.filter(status=Listing.Status.PUBLISHED, hidden=False))
    if params.market:
        qs = qs.filter(market=params.market)
    if params.category_id is not None:
        category = Category.objects.filter(pk=params.category_id).only("path").first()
        if category is None:
            return qs.none()
        # Ids first, then `category_id IN (...)`: one index probe, not one nested loop per subcategory.
        qs = qs.filter(category_id__in=list(Category.objects.filter(path__startswith=category.path)
                                            .values_list("pk", flat=True)))
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
        qs, query, fuzzy = _text_filter(qs, text)
        if params.ordering == "relevance":
            rank = TrigramWordSimilarity(text, "search_text") if fuzzy else SearchRank(F("search_vector"), query)
            qs = qs.annotate(relevance=Coalesce(rank, 0.0))
            ordering = ("-relevance", "-id")
    if not ordering:
        ordering = ORDERINGS["newest"]
    # The page shows summaries: leave the long and derived columns in the table.
    return qs.defer("description", "license_text", "requirements", "search_vector", "search_text").order_by(*ordering)


def listing_facets(results: QuerySet[Listing], *, exponent: int = 2) -> dict:
    """Counts over the same filtered set, in one pass: per market, per category (where the listings
    are filed) and per price bucket (GROUPING SETS)."""
    unit = 10 ** exponent
    edges = [b * unit for b in PRICE_BUCKETS_MAJOR]
    inner_sql, params = results.order_by().values("market", "category_id", "price").query.sql_with_params()
    bucket = "width_bucket(price, ARRAY[" + ", ".join(str(e) for e in edges) + "]::bigint[])"
    # Built from Django's own compiled SQL (its values stay parameters) and integer bucket edges.
    sql = (f"SELECT market, category_id, {bucket} AS bucket, count(*), GROUPING(market), GROUPING(category_id) "  # noqa: S608
           f"FROM ({inner_sql}) AS matches GROUP BY GROUPING SETS ((market), (category_id), ({bucket}))")
    markets: dict[str, int] = {}
    categories: list[dict] = []
    by_bucket: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for market, category_id, bucket_no, count, market_grouped, category_grouped in cursor.fetchall():
            if not market_grouped:
                markets[market] = count
            elif not category_grouped:
                categories.append({"id": category_id, "count": count})
            else:
                by_bucket[bucket_no] = count
    categories.sort(key=lambda c: (-c["count"], c["id"]))
    lows = [0, *edges]
    price = [{"min": low, "max": edges[i] if i < len(edges) else None, "count": by_bucket.get(i, 0)}
             for i, low in enumerate(lows)]
    return {"total": sum(markets.values()), "markets": markets, "categories": categories[:50], "price": price}


def listings_of_owner(*, owner, market: str | None = None, status: str | None = None) -> QuerySet[Listing]:
    qs = _with_rating(Listing.objects.filter(owner=owner)).select_related("category").prefetch_related("packages")
    if market:
        qs = qs.filter(market=market)
    if status:
        qs = qs.filter(status=status)
    return qs

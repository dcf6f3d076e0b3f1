"""Catalog reads: the category tree, listing visibility, and search with filters, ordering and facets.

Search matches a listing when its text-search vector (built in the listing's language, over
normalised text) matches the query parsed both as Arabic and as English. When that finds nothing,
every word of the query must be trigram-similar to a word of the title or tags, so a typo still
finds the listing (and a common word does not drag in half the catalogue). Facets count the same
filtered set the results come from, in one GROUPING SETS pass, so they always agree with the results.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Case, F, FloatField, QuerySet, Subquery, Value, When

from osdm.core.errors import NotFound

from .models import Category, Listing
from .text import normalize

# Price buckets for the facet, in major units of the currency (multiplied by 10^exponent).
PRICE_BUCKETS_MAJOR = (50, 100, 250, 500, 1000)
# ORDER BY of each ordering, over the columns of the matching set (relevance only with text).
ORDERINGS = {
    "relevance": "relevance DESC, id DESC",
    "newest": "published_at DESC, id DESC",
    "price": "price, id",
    "-price": "price DESC, id DESC",
    "rating": "rating_avg DESC, rating_count DESC, id DESC",
    "sales": "sales_count DESC, id DESC",
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


def _filtered(params: SearchParams) -> QuerySet[Listing] | None:
    """Published, visible listings narrowed by every filter but the text (None: unknown category)."""
    qs = _with_rating(Listing.objects.filter(status=Listing.Status.PUBLISHED, hidden=False))
    if params.market:
        qs = qs.filter(market=params.market)
    if params.category_id is not None:
        # The category and its descendants in one query; ids first, then `category_id IN (...)`: one
        # index probe, not one nested loop per subcategory.
        path = Category.objects.filter(pk=params.category_id).values("path")[:1]
        ids = list(Category.objects.filter(path__startswith=Subquery(path)).values_list("pk", flat=True))
        if not ids:
            return None
        qs = qs.filter(category_id__in=ids)
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
    return qs


def _facets_sql(source: str, edges: list[int]) -> str:
    """One row of JSON: [market, category_id, bucket, count, grouped market, grouped category] per
    group of one GROUPING SETS pass over `source` (a relation with market, category_id, price)."""
    bucket = "width_bucket(price, ARRAY[" + ", ".join(str(int(e)) for e in edges) + "]::bigint[])"
    return ("SELECT json_agg(json_build_array(market, category_id, bucket, n, gm, gc)) FROM ("  # noqa: S608
            f"SELECT market, category_id, {bucket} AS bucket, count(*) AS n, GROUPING(market) AS gm, "
            f"GROUPING(category_id) AS gc FROM {source} GROUP BY GROUPING SETS ((market), (category_id), ({bucket}))) f")


def _facets(rows: list | None, edges: list[int]) -> dict:
    markets: dict[str, int] = {}
    categories: list[dict] = []
    by_bucket: dict[int, int] = {}
    for market, category_id, bucket_no, count, market_grouped, category_grouped in rows or ():
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


def _facets_key(params: SearchParams, exponent: int) -> str:
    filters = [params.market, params.category_id, params.min_price, params.max_price, params.min_rating,
               params.seller_id and str(params.seller_id), params.max_delivery_days, sorted(params.tags), exponent]
    return "catalog:facets:" + hashlib.sha256(json.dumps(filters).encode()).hexdigest()[:32]


def _cached_facets(key: str) -> tuple[dict | None, str]:
    """Facets of a text-less search cached under the catalogue's current version, and that version.
    The version changes whenever a listing or category changes (`services.search_facets_invalidate`),
    so an entry is never served for a catalogue it was not computed from."""
    found = cache.get_many([FACETS_VERSION_KEY, key])
    version = found.get(FACETS_VERSION_KEY)
    if version is None:
        cache.add(FACETS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        return None, cache.get(FACETS_VERSION_KEY)
    entry = found.get(key)
    if entry and entry[0] == version:
        return entry[1], version
    return None, version


# The page's columns: what a summary shows, not the long and derived ones.
_SUMMARY_COLUMNS = ", ".join(f'l."{f.column}"' for f in Listing._meta.concrete_fields if f.attname not in {
    "description", "license_text", "requirements", "search_vector", "search_text"})
_RATING_AVG = "CASE WHEN l.rating_count = 0 THEN 0.0 ELSE l.rating_sum * 1.0 / l.rating_count END"
# What the matching set carries: enough to order it and to count facets, not the listings themselves.
_MATCH_COLUMNS = ("l.id, l.market, l.category_id, l.price, l.published_at, "
                  f"{_RATING_AVG} AS rating_avg, l.rating_count, l.sales_count")
# The query parsed as Arabic and as English (both parameters are the normalised text).
_TSQUERY = "(websearch_to_tsquery('arabic'::regconfig, %s) || websearch_to_tsquery('english'::regconfig, %s))"
# The facets ride on one row of the page only (any one: the subquery runs once either way), not
# repeated, and parsed, on every row.
_ONCE = "CASE WHEN row_number() OVER () = 1 THEN "
FACETS_VERSION_KEY = "catalog:facets:version"
# A backstop only: every change of a listing or category replaces the version the entries are tied to.
FACETS_CACHE_SECONDS = 60


def _where(qs: QuerySet[Listing]) -> tuple[str, list]:
    """The WHERE clause Django compiles for the filters, over the table aliased `l`."""
    compiler = qs.query.get_compiler(connection=connection)
    sql, params = compiler.compile(qs.query.where)
    return sql.replace(f'"{Listing._meta.db_table}".', "l."), list(params)


@dataclass
class SearchPage:
    listings: list[Listing]
    more: bool
    facets: dict


def listing_search(params: SearchParams, *, offset: int = 0, limit: int = 20, exponent: int = 2) -> SearchPage:
    """One page of the search (`limit` listings from `offset`) with the facets of the whole matching set,
    in one statement: the matching set is computed once and both the page and the facets read it.

    With text, full text (indexed, both languages) decides; only when it matches nothing within the
    filters does the trigram match run (every query word similar to a word of the title or tags), in a
    second statement. Without text, the page comes straight from the table in the asked order and the
    facets of the filters are cached until the catalogue changes (`_cached_facets`)."""
    edges = [b * 10 ** exponent for b in PRICE_BUCKETS_MAJOR]
    base = _filtered(params)
    if base is None:
        return SearchPage([], False, _facets([], edges))
    where, where_params = _where(base)
    text = normalize(params.q)
    ordering = params.ordering if params.ordering in ORDERINGS else "relevance"
    if ordering == "relevance" and not text:
        ordering = "newest"
    order = ORDERINGS[ordering]
    # Built from Django's compiled WHERE (its values stay parameters), fixed SQL, integer bucket edges.
    if not text:
        return _browse(params, where, where_params, order=order, offset=offset, limit=limit, edges=edges,
                       exponent=exponent)
    ranked = ordering == "relevance"
    words = [w for w in text.split() if len(w) >= 2][:8] or [text]
    full_text = (f"SELECT {_MATCH_COLUMNS}, "  # noqa: S608
                 f"{f'COALESCE(ts_rank(l.search_vector, {_TSQUERY}), 0.0)' if ranked else '0.0'} AS relevance "
                 f"FROM {Listing._meta.db_table} l WHERE {where} AND l.search_vector @@ {_TSQUERY}")
    fuzzy = (f"SELECT {_MATCH_COLUMNS}, "  # noqa: S608
             f"{'COALESCE(word_similarity(%s, l.search_text), 0.0)' if ranked else '0.0'} AS relevance "
             f"FROM {Listing._meta.db_table} l WHERE {where}" + " AND l.search_text %%> %s" * len(words))
    # The trigram match only when full text finds nothing: a statement of its own, because merely
    # planning it costs milliseconds (pg_trgm estimates `%>` by computing similarities over the
    # column's statistics), which every search would pay if both were in one statement.
    strategies = ((full_text, [*([text, text] if ranked else []), *where_params, text, text]),
                  (fuzzy, [*([text] if ranked else []), *where_params, *words]))
    for matches_sql, matches_params in strategies:
        matches = f"WITH matches AS MATERIALIZED ({matches_sql}) "
        sql = (f"{matches}, page AS (SELECT id, relevance FROM matches ORDER BY {order} LIMIT %s OFFSET %s) "  # noqa: S608
               f"SELECT * FROM (SELECT {_SUMMARY_COLUMNS}, {_RATING_AVG} AS rating_avg, page.relevance, "
               f"{_ONCE}({_facets_sql('matches', edges)}) END AS facet_rows "
               f"FROM page JOIN {Listing._meta.db_table} l ON l.id = page.id) r ORDER BY {order}")
        page = list(Listing.objects.raw(sql, [*matches_params, limit + 1, offset]))
        if page:
            rows = next(row.facet_rows for row in page if row.facet_rows is not None)
            break
        if offset:  # an empty page past the end of a set that may not be empty
            rows = _fetch_facets(matches + _facets_sql("matches", edges), matches_params)
            if rows:
                break
    else:
        rows = []  # nothing matches at all
    return SearchPage(page[:limit], len(page) > limit, _facets(rows, edges))


def _fetch_facets(sql: str, params: list) -> list | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _browse(params: SearchParams, where: str, where_params: list, *, order: str, offset: int, limit: int,
            edges: list[int], exponent: int) -> SearchPage:
    """A search without text: the page straight from the table in the asked order (an index can
    serve it), and the facets of the whole filtered set beside it unless they are cached."""
    key = _facets_key(params, exponent)
    facets, version = _cached_facets(key)
    facets_sql = _facets_sql(f"(SELECT l.market, l.category_id, l.price FROM {Listing._meta.db_table} l "  # noqa: S608
                             f"WHERE {where}) m", edges)
    facet_column = f"{_ONCE}({facets_sql}) END" if facets is None else "NULL::json"
    sql = (f"SELECT *, {facet_column} AS facet_rows FROM ("  # noqa: S608
           f"SELECT {_SUMMARY_COLUMNS}, {_RATING_AVG} AS rating_avg, 0.0 AS relevance "
           f"FROM {Listing._meta.db_table} l WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s) r ORDER BY {order}")
    page = list(Listing.objects.raw(sql, [*(where_params if facets is None else []), *where_params, limit + 1,
                                          offset]))
    if facets is None:
        if page:
            rows = next(row.facet_rows for row in page if row.facet_rows is not None)
        else:  # nothing matches, or a cursor past the end
            rows = _fetch_facets(facets_sql, where_params) if offset else []
        facets = _facets(rows, edges)
        cache.set(key, (version, facets), timeout=FACETS_CACHE_SECONDS)
    return SearchPage(page[:limit], len(page) > limit, facets)


def listings_of_owner(*, owner, market: str | None = None, status: str | None = None) -> QuerySet[Listing]:
    qs = _with_rating(Listing.objects.filter(owner=owner)).select_related("category").prefetch_related("packages")
    if market:
        qs = qs.filter(market=market)
    if status:
        qs = qs.filter(status=status)
    return qs

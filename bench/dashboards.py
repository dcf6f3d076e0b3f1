"""How fast the dashboards answer with 1,000,000 orders in one marketplace.

Target (per the issue): each dashboard endpoint (`GET /api/v1/dashboards/overview|seller|buyer`)
answers in under 100 ms at the 95th percentile, server-side.

Set-up (timed and reported, not against the target): one tenant (time zone Asia/Riyadh, commission
10 %, the defaults) with the default taxonomy; --sellers sellers (default 2,000, with seller
profiles) and --buyers buyers (default 50,000); --listings listings (default 20,000: 55 % services
with three packages each, 30 % products, 15 % projects posted by buyers); --orders orders (default
1,000,000) over the last two years. Volume grows threefold over the two years, with a weekly (quieter
Friday and Saturday) and daily (evening peak, Riyadh time) rhythm. Sellers and buyers have lognormal
popularity (a few sellers sell thousands of orders, most a few hundred), so do listings within a seller.
Per order, as the platform's services would have left it:

  product   90 % paid within minutes: completed, escrow released on payment (the tenant default);
            5 % cancelled unpaid by the buyer (escrow cancelled); 5 % left pending_payment (escrow pending)
  service   86 % paid: in_progress until delivered (within 30-115 % of the package's days; 12 % with a
            revision), then delivered until accepted or auto-released (at most 7 days), then completed;
            escrow held while in progress or delivered (release_after set on delivery), released on
            completion; 3 % paid then cancelled (escrow refunded); 6 % cancelled unpaid; 5 % pending
  contract  one per hired project (70 % of projects), from an accepted proposal, 1-3 milestones funded
            and accepted one after the other (one escrow per funded milestone); 5 % cancelled before
            any funding. `paid_at` is the first milestone's funding, as milestone_mark_funded sets it.

Amounts are integers in halalas: products at the listing's price, services at the package's, contracts
at the proposal's; commission = subtotal x 10 % rounded half up, seller_amount = subtotal - commission,
total = subtotal (the order_* check constraints hold: the rows go through them). Order numbers are
consecutive in created_at order (and the sequence is moved past them), rows are written in that order
as a live table would be. Listings' sales_count and ratings, and sellers' ratings, are derived from the
orders. Payments, ledger transfers, status changes, reviews and audit rows are not written: the
dashboards do not read them. Orders and escrows are COPYed into an unlogged staging table, then one
INSERT .. SELECT each builds the real rows through every constraint, with the secondary indexes of the
two tables dropped meanwhile and rebuilt after (freshly built indexes are a little denser than those of
a table grown row by row); then VACUUM ANALYZE, as autovacuum would have left a table of that age. The
order triggers log every row inserted (osdm.analytics.models); the first fold (what beat would do)
builds the per-day tables from the orders; the fold of a busy minute is timed too.

Measured: the three endpoints on the tenant's host through django.test.Client (the whole middleware
stack: tenant resolution, authentication, throttling with its Redis round trip), for
period = day (last 30 days), week (26 weeks), month (12 months), each without and with
`market=services`: 18 cases. The overview with the operator secret key tenant_create returned; the
seller dashboard as the seller whose order count is nearest --heavy-seller (default 5,000); the buyer
dashboard as the buyer with the most orders. Access tokens are minted with
accounts.tokens.token_pair_issue, as the login endpoint would. Every case is warmed up (--warmup
requests), then --requests requests per case are timed, all cases shuffled together so that load from
other programs on the machine spreads evenly over them. The per-user rate limit is raised for the run
(its Redis round trip is still made): one seller asking 300+ times a minute is the bench, not a user.
SQL statements per request are counted with CaptureQueriesContext; for the 12-month case of each
endpoint every statement is also timed alone (median of 5, straight from the selectors). Before
timing, the overview is checked against a direct computation over the orders (check_exact), then a
busy minute of order updates is written and folded, as beat would (the requests read an empty log).

--explain     print EXPLAIN (ANALYZE, BUFFERS) of every statement of the 12-month, unfiltered case
              of each endpoint.
--keep        copy the seeded bench database to `osdm_bench_dashboards_kept` (left for experiments).

The bench database is `osdm_bench_dashboards` (not the shared `osdm_bench`, which other benchmarks
drop when they start), dropped at the end.

Run:  .venv/bin/python scripts/devenv.py bench dashboards
  or: eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"; export OSDM_DEBUG=1
      .venv/bin/python bench/dashboards.py [--orders 1000000] [--requests 50] [--explain]
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import os
import random
import statistics
import time
import uuid
from zoneinfo import ZoneInfo

import _support

SLUG = "bench-dashboards"
BENCH_DB = "osdm_bench_dashboards"
KEEP_DB = "osdm_bench_dashboards_kept"
TARGET_P95_MS = 100.0
DAY = 86400.0
SPAN_DAYS = 730
COMMISSION_BPS = 1000  # the tenant default; read back from the tenant and checked
AUTO_RELEASE_DAYS = 7  # Tenant.escrow_auto_release_days default
PERIODS = ("day", "week", "month")
MARKETS = (None, "services")
ENDPOINTS = ("overview", "seller", "buyer")

# Titles: "<adjective> <topic>", both languages.
EN_TOPICS = {
    "services": ("logo design", "wordpress website", "mobile app", "arabic translation", "video editing",
                 "seo audit", "social media management", "voice over", "business plan", "data entry",
                 "landing page", "motion graphics", "shopify store", "python script", "copywriting"),
    "products": ("wordpress theme", "presentation template", "icon pack", "arabic font", "lightroom presets",
                 "resume template", "ui kit", "ebook", "stock photos", "notion template"),
    "projects": ("booking app", "company website", "online store", "feasibility study", "brand identity",
                 "marketing campaign", "mobile game", "crm integration"),
}
AR_TOPICS = {
    "services": ("تصميم شعار", "موقع ووردبريس", "تطبيق جوال", "ترجمة", "مونتاج فيديو", "تحسين محركات البحث",
                 "إدارة حسابات التواصل", "تعليق صوتي", "خطة عمل", "إدخال بيانات", "صفحة هبوط", "موشن جرافيك"),
    "products": ("قالب ووردبريس", "قالب عرض تقديمي", "حزمة أيقونات", "خط عربي", "فلاتر لايتروم",
                 "قالب سيرة ذاتية", "كتاب إلكتروني", "صور جاهزة"),
    "projects": ("تطبيق حجز مواعيد", "موقع شركة", "متجر إلكتروني", "دراسة جدوى", "هوية بصرية",
                 "حملة تسويقية"),
}
EN_ADJ = ("professional", "modern", "creative", "premium", "fast", "bilingual", "custom", "elegant", "complete")
AR_ADJ = ("احترافي", "عصري", "إبداعي", "مميز", "سريع", "ثنائي اللغة", "مخصص", "أنيق", "متكامل")
TIERS = (("basic", "Basic", "أساسي"), ("standard", "Standard", "قياسي"), ("premium", "Premium", "متميز"))
# Orders per local hour of the day (Riyadh): quiet before dawn, busiest in the evening.
HOUR_WEIGHTS = (1.0, 0.6, 0.4, 0.3, 0.25, 0.3, 0.5, 0.8, 1.2, 1.6, 1.9, 2.0, 2.0, 1.9, 1.9, 2.0, 2.1, 2.2, 2.4,
                2.7, 3.0, 3.0, 2.6, 1.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders (default 1000000)")
    parser.add_argument("--sellers", type=int, default=2000, help="sellers (default 2000)")
    parser.add_argument("--buyers", type=int, default=50_000, help="buyers (default 50000)")
    parser.add_argument("--listings", type=int, default=20_000, help="listings (default 20000)")
    parser.add_argument("--heavy-seller", type=int, default=5000,
                        help="measure the seller whose order count is nearest this (default 5000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per case (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per case first (default 5)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) the statements of the 12-month case of each endpoint")
    parser.add_argument("--live-orders", type=int, default=2000,
                        help="orders paid (and as many delivered or cancelled) in the busy minute (default 2000)")
    parser.add_argument("--keep", action="store_true", help=f"copy the seeded bench database to {KEEP_DB}, for experiments")
    args = parser.parse_args()
    _support.BENCH_DB = BENCH_DB  # read by bench_database() when called
    with _support.bench_database() as url:
        run(args, url)


def keep_copy(bench_url: str) -> None:
    from django.db import connections

    connections.close_all()  # CREATE DATABASE .. TEMPLATE needs the source without other sessions
    admin_url = _support._with_db(bench_url, "postgres")
    _support._admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{KEEP_DB}" WITH (FORCE)',
                            f'CREATE DATABASE "{KEEP_DB}" TEMPLATE "{_support.BENCH_DB}"')
    print(f"Kept a copy of the seeded bench database as {KEEP_DB} (tenant {SLUG!r}); "
          f'drop it with: DROP DATABASE "{KEEP_DB}"')


# --- seeding ---------------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _cumulative(weights) -> list[float]:
    return list(itertools.accumulate(weights))


def _price(rng: random.Random, median_major: float, sigma: float, low: int, high: int) -> int:
    """Whole riyals, in halalas."""
    return round(min(max(rng.lognormvariate(0, sigma) * median_major, low), high)) * 100


def commission_of(amount: int, bps: int) -> int:
    return (amount * bps + 5000) // 10000  # as orders.services.commission_of


class Seed:
    """Everything generated in Python: ids, weights and the rows' inputs. One instance per run."""

    def __init__(self, rng: random.Random, args, now: dt.datetime, tz: ZoneInfo) -> None:
        self.rng = rng
        self.args = args
        self.now = now
        self.now_ts = now.timestamp()
        self.tz = tz
        first_local = now.astimezone(tz).date() - dt.timedelta(days=SPAN_DAYS - 1)
        self.day_starts = [dt.datetime.combine(first_local + dt.timedelta(days=i), dt.time(0), tz).timestamp()
                           for i in range(SPAN_DAYS)]
        self.start_ts = self.day_starts[0]
        self.seller_ids: list[str] = []
        self.buyer_ids: list[str] = []

    # -- time ---------------------------------------------------------------------------------------

    def order_times(self, n: int) -> list[float]:
        """n instants over the two years, growing threefold, quieter on Friday and Saturday, busiest in
        the evening (local time), a little noise per day; sorted."""
        rng = self.rng
        weights = []
        for i, start in enumerate(self.day_starts):
            weekday = dt.datetime.fromtimestamp(start, self.tz).weekday()  # Friday 4, Saturday 5
            weekly = {4: 0.8, 5: 0.9}.get(weekday, 1.0)
            weights.append((0.5 + i / (SPAN_DAYS - 1)) * weekly * rng.uniform(0.9, 1.1))
        day_cum, hour_cum = _cumulative(weights), _cumulative(HOUR_WEIGHTS)
        out: list[float] = []
        limit = self.now_ts - 60
        while len(out) < n:
            k = n - len(out)
            days = rng.choices(self.day_starts, cum_weights=day_cum, k=k)
            hours = rng.choices(range(24), cum_weights=hour_cum, k=k)
            out.extend(t for t in (d + h * 3600 + rng.random() * 3600 for d, h in zip(days, hours, strict=True))
                       if t < limit)
        out.sort()
        return out

    def ts(self, value: float | None):
        return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)


def seed_users(seed: Seed) -> tuple[float, float]:
    """Sellers (with profiles) and buyers, COPYed. Returns (seconds users, seconds profiles)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    rng, args = seed.rng, seed.args
    password = make_password(None)  # unusable; one hash for all, nobody logs in
    start = time.perf_counter()
    total = args.sellers + args.buyers
    with connection.cursor() as cursor:
        columns = "id, password, last_login, email, full_name, locale, is_active, token_version, created_at, updated_at"
        with cursor.cursor.copy(f"COPY accounts_user ({columns}) FROM STDIN") as copy:
            for i in range(total):
                uid = _uuid(rng)
                (seed.seller_ids if i < args.sellers else seed.buyer_ids).append(uid)
                joined = seed.ts(seed.start_ts - 200 * DAY + rng.random() * (SPAN_DAYS + 170) * DAY)
                arabic = rng.random() < 0.6
                copy.write_row((uid, password, None, f"user{i}@bench.osdm.dev",
                                f"{'مستخدم' if arabic else 'User'} {i}", "ar" if arabic else "en", True, 0,
                                joined, joined))
    users_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with connection.cursor() as cursor:
        columns = "user_id, display_name, bio, country, avatar_url, rating_sum, rating_count, created_at, updated_at"
        with cursor.cursor.copy(f"COPY accounts_sellerprofile ({columns}) FROM STDIN") as copy:
            for i, uid in enumerate(seed.seller_ids):
                copy.write_row((uid, f"Studio {i}", "Designer and developer.", rng.choice(("SA", "SA", "AE", "EG")),
                                "", 0, 0, seed.now, seed.now))
    return users_seconds, time.perf_counter() - start


def seed_listings(seed: Seed) -> dict:
    """Listings over the leaf categories, three packages per service, COPYed. Returns the in-memory
    model of the catalogue the orders are drawn from."""
    from django.db import connection

    from osdm.catalog.models import Category, Listing

    rng, args = seed.rng, seed.args
    parents = set(Category.objects.exclude(parent=None).values_list("parent_id", flat=True))
    leaves: dict[str, list[int]] = {"products": [], "services": [], "projects": []}
    for category in Category.objects.order_by("id"):
        if category.pk not in parents:
            leaves[category.market].append(category.pk)

    n_services = args.listings * 55 // 100
    n_products = args.listings * 30 // 100
    n_projects = args.listings - n_services - n_products
    # Sellers: lognormal popularity; a primary market; popular sellers keep more listings.
    seller_weight = [rng.lognormvariate(0, 1.1) for _ in seed.seller_ids]
    primary = ["services" if rng.random() < 0.65 else "products" for _ in seed.seller_ids]
    owner_cum = _cumulative(w ** 0.5 for w in seller_weight)
    buyer_weight = [rng.lognormvariate(0, 1.0) for _ in seed.buyer_ids]
    buyer_cum = _cumulative(buyer_weight)

    listings: list[dict] = []
    packages: list[tuple] = []
    by_seller: dict[int, list[int]] = {}  # seller index -> listing indexes (products and services)
    counts = {"services": 0, "products": 0}
    orderable = n_services + n_products
    owners = rng.choices(range(len(seed.seller_ids)), cum_weights=owner_cum, k=orderable * 2)
    owner_iter = iter(owners)
    while counts["services"] + counts["products"] < orderable:
        s = next(owner_iter)
        market = primary[s] if rng.random() < 0.8 else ("products" if primary[s] == "services" else "services")
        if counts[market] >= (n_services if market == "services" else n_products):
            continue
        counts[market] += 1
        listings.append({"market": market, "owner": s, "weight": rng.lognormvariate(0, 1.0)})
        by_seller.setdefault(s, []).append(len(listings) - 1)
    for _ in range(n_projects):
        listings.append({"market": "projects", "owner": None,
                         "buyer": rng.choices(range(len(seed.buyer_ids)), cum_weights=buyer_cum)[0]})

    columns = [f.column for f in Listing._meta.concrete_fields if f.column != "search_vector"]
    package_id = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY catalog_listing ({', '.join(columns)}) FROM STDIN") as copy:
            for item in listings:
                market = item["market"]
                arabic = rng.random() < 0.5
                topic = rng.choice((AR_TOPICS if arabic else EN_TOPICS)[market])
                adj = rng.choice(AR_ADJ if arabic else EN_ADJ)
                title = f"{topic} {adj}" if arabic else f"{adj.capitalize()} {topic}"
                created = seed.start_ts - 120 * DAY + rng.random() * (SPAN_DAYS + 100) * DAY
                item.update(id=_uuid(rng), title=title, created=created)
                row = {
                    "id": item["id"], "market": market, "category_id": rng.choice(leaves[market]),
                    "title": title, "description": f"{title}. " * 8, "language": "ar" if arabic else "en",
                    "tags": [topic], "images": [], "status": "published", "currency": "SAR", "price": 0,
                    "delivery_days": None, "license_text": "", "version": "", "requirements": "[]",
                    "budget_min": None, "budget_max": None, "deadline": None, "skills": [], "hidden": False,
                    "hidden_reason": "", "hidden_at": None, "rating_sum": 0, "rating_count": 0, "sales_count": 0,
                    "search_text": title, "created_at": seed.ts(created), "updated_at": seed.ts(created),
                    "published_at": seed.ts(created + 3600),
                }
                if market == "products":
                    row["owner_id"] = seed.seller_ids[item["owner"]]
                    row["price"] = item["price"] = _price(rng, 49, 0.9, 5, 2000)
                    row["version"], row["license_text"] = "1.0", "Personal and commercial use."
                    if rng.random() < 0.04:
                        row["status"] = "paused"
                elif market == "services":
                    row["owner_id"] = seed.seller_ids[item["owner"]]
                    basic = _price(rng, 150, 1.0, 20, 20000)
                    days = rng.choice((1, 2, 3, 3, 5, 5, 7, 7, 10, 14))
                    revisions = rng.choice((0, 1, 1, 2, 3))
                    item["packages"] = []
                    for k, (tier, en, ar) in enumerate(TIERS):
                        package_id += 1
                        price = basic if k == 0 else round(basic * (1.8 if k == 1 else 3.5) / 500) * 500
                        p_days = days + (0 if k == 0 else rng.randint(1, 3) * k)
                        p_rev = revisions + k
                        packages.append((package_id, item["id"], tier, ar if arabic else en, "", price, p_days,
                                         p_rev, []))
                        item["packages"].append((package_id, price, p_days, p_rev))
                    row["price"], row["delivery_days"] = basic, days
                    question = "ما تفاصيل طلبك؟" if arabic else "Your brief?"
                    row["requirements"] = json.dumps([{"question": question, "required": True}], ensure_ascii=False)
                    item["question"] = question
                    if rng.random() < 0.04:
                        row["status"] = "paused"
                else:
                    row["owner_id"] = seed.buyer_ids[item["buyer"]]
                    budget_max = _price(rng, 1500, 1.1, 50, 200000)
                    row["budget_max"] = row["price"] = item["budget_max"] = budget_max
                    row["budget_min"] = item["budget_min"] = budget_max // 200 * 100
                    row["deadline"] = (seed.ts(created) + dt.timedelta(days=rng.randint(14, 120))).date()
                    row["skills"] = ["Figma", "Flutter"]
                    item["row"] = row  # status decided with the contracts
                    continue
                if rng.random() < 0.02:
                    row["hidden"], row["hidden_reason"], row["hidden_at"] = True, "Reported", seed.now
                copy.write_row([row[c] for c in columns])
        seed_projects_later = [item for item in listings if item["market"] == "projects"]
        with cursor.cursor.copy("COPY catalog_servicepackage (id, listing_id, tier, title, description, price, "
                                "delivery_days, revisions, features) FROM STDIN") as copy:
            for row in packages:
                copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('catalog_servicepackage', 'id'), %s)", [package_id])
    return {"listings": listings, "by_seller": by_seller, "seller_weight": seller_weight, "buyer_cum": buyer_cum,
            "projects": seed_projects_later, "columns": columns}


def seed_orders(seed: Seed, catalogue: dict) -> dict:
    """Orders (with their escrows) COPYed into a staging table in created_at order, then
    INSERT .. SELECT into orders_order and escrow_escrow. Contracts (with proposals, milestones and
    milestone escrows) among them. Returns timings and counts."""
    from django.db import connection

    rng, args = seed.rng, seed.args
    listings, by_seller = catalogue["listings"], catalogue["by_seller"]
    projects = catalogue["projects"]
    n = args.orders
    timings = {}

    start = time.perf_counter()
    times = seed.order_times(n)
    # Contracts: one per hired project (70 % of projects), at instants drawn like the others.
    hired = [p for p in projects if rng.random() < 0.7][: max(0, n // 50)]
    contract_at = set(rng.sample(range(n), len(hired)))
    sellers_with_listings = sorted(by_seller)
    seller_cum = _cumulative(catalogue["seller_weight"][s] for s in sellers_with_listings)
    seller_listing_cum = {s: _cumulative(listings[i]["weight"] for i in by_seller[s]) for s in sellers_with_listings}
    seller_picks = rng.choices(sellers_with_listings, cum_weights=seller_cum, k=n)
    buyer_picks = rng.choices(range(len(seed.buyer_ids)), cum_weights=catalogue["buyer_cum"], k=n)
    contract_sellers = rng.choices(range(len(seed.seller_ids)), weights=catalogue["seller_weight"], k=len(hired))
    timings["times"] = time.perf_counter() - start

    now_ts = seed.now_ts
    seller_ids, buyer_ids = seed.seller_ids, seed.buyer_ids
    random_, lognorm, uniform = rng.random, rng.lognormvariate, rng.uniform
    bps = COMMISSION_BPS
    N = "\\N"

    def f(value: float | None) -> str:
        return N if value is None else f"{value:.6f}"

    proposals, milestones = [], []
    hired_iter = iter(zip(hired, contract_sellers, strict=True))
    status_counts: dict[tuple[str, str], int] = {}

    def row_lines():
        for number, t in enumerate(times, start=1):
            paid = due = delivered = completed = cancelled = None
            package_id, proposal_id, revisions_included, revisions_used, delivery_days = N, N, 0, 0, N
            escrow_status = N
            if number - 1 in contract_at:
                project, s = next(hired_iter)
                kind, listing, seller, buyer = "contract", project, seller_ids[s], buyer_ids[project["buyer"]]
                status, subtotal, duration, completed, cancelled, paid = contract(t, project, seller)
                proposal_id, delivery_days, due = proposals[-1][0], str(duration), t + duration * DAY
            else:
                s = seller_picks[number - 1]
                picks = by_seller[s]
                cum = seller_listing_cum[s]
                listing = listings[picks[bisect.bisect_right(cum, random_() * cum[-1])] if len(picks) > 1 else picks[0]]
                seller, buyer = seller_ids[s], buyer_ids[buyer_picks[number - 1]]
                u = random_()
                status, escrow_status = "pending_payment", "pending"
                if listing["market"] == "products":
                    kind, subtotal = "product", listing["price"]
                    if u < 0.90:
                        paid = t + 20 + 60 * lognorm(0, 1.0)
                        if paid < now_ts:
                            status, escrow_status, completed = "completed", "released", paid
                        else:
                            paid = None
                    elif u < 0.95:
                        cancelled = t + 600 * lognorm(0, 1.0)
                        if cancelled < now_ts:
                            status, escrow_status = "cancelled", "cancelled"
                        else:
                            cancelled = None
                else:
                    kind = "service"
                    v = random_()
                    package_id, subtotal, days, revisions_included = listing["packages"][
                        0 if v < 0.55 else 1 if v < 0.85 else 2]
                    delivery_days = str(days)
                    if u < 0.89:
                        paid = t + 30 + 300 * lognorm(0, 1.5)
                        if paid >= now_ts:
                            paid = None
                    elif u < 0.95:
                        cancelled = t + 1800 * lognorm(0, 1.0)
                        if cancelled < now_ts:
                            status, escrow_status = "cancelled", "cancelled"
                        else:
                            cancelled = None
                    if paid is not None:
                        status, escrow_status = "in_progress", "held"
                        due = paid + days * DAY
                        first = paid + days * DAY * uniform(0.3, 1.15)
                        delivered = first
                        if revisions_included and random_() < 0.12:
                            delivered = first + DAY * (1 + 2 * random_())
                            revisions_used = 1 if now_ts >= first else 0
                        accepted = delivered + min(DAY * lognorm(0, 1.2), AUTO_RELEASE_DAYS * DAY)
                        if u >= 0.86:  # 3 %: paid, then cancelled (declined, or a dispute refunded it)
                            cancel_at = paid + days * DAY * uniform(0.05, 0.9)
                            delivered, revisions_used = None, 0
                            if cancel_at < now_ts:
                                status, escrow_status, cancelled = "cancelled", "refunded", cancel_at
                        elif now_ts < delivered:
                            delivered = None  # in progress (a revision clears delivered_at too)
                        elif now_ts < accepted:
                            status = "delivered"
                        else:
                            status, escrow_status, completed = "completed", "released", accepted
            key = (kind, status)
            status_counts[key] = status_counts.get(key, 0) + 1
            yield (f"{number}\t{kind}\t{status}\t{buyer}\t{seller}\t{listing['id']}\t{package_id}\t{proposal_id}\t"
                   f"{subtotal}\t{delivery_days}\t{revisions_included}\t{revisions_used}\t{f(t)}\t{f(paid)}\t"
                   f"{f(due)}\t{f(delivered)}\t{f(completed)}\t{f(cancelled)}\t{escrow_status}\n")

    def contract(t: float, project: dict, seller: str) -> tuple:
        """A proposal accepted at t, with its milestones (appended to proposals / milestones).
        Returns (order status, amount, duration days, completed at, cancelled at, paid at: the first
        milestone's funding)."""
        amount = max(round(rng.uniform(project["budget_min"], project["budget_max"]) / 500) * 500, 5000)
        parts = rng.choices((1, 2, 3), weights=(40, 35, 25))[0]
        duration = rng.choice((7, 14, 21, 30, 45, 60))
        shares = [amount // parts] * parts
        shares[-1] += amount - sum(shares)
        plan = [{"title": f"Milestone {i + 1}", "amount": a, "due_days": duration * (i + 1) // parts}
                for i, a in enumerate(shares)]
        posted = t - DAY * rng.uniform(3, 30)  # the project was posted before it hired
        row = project["row"]
        row["created_at"], row["updated_at"], row["published_at"] = seed.ts(posted - 3600), seed.ts(t), seed.ts(posted)
        proposals.append((_uuid(rng), project["id"], seller, "I can do this.", amount, "SAR", duration,
                          json.dumps(plan), "accepted", seed.ts(posted + (t - posted) * rng.random()), seed.ts(t),
                          seed.ts(t)))
        left = commission_of(amount, bps)
        # 5 %: cancelled before any milestone was funded (milestones dropped, no escrow).
        cancel_at = t + DAY * rng.uniform(0.5, 5) if rng.random() < 0.05 else None
        cancelled = cancel_at is not None and cancel_at < now_ts
        moment, accepted_all, first_funded = t, True, None
        for i, share in enumerate(shares, start=1):
            cut = min(left if i == parts else commission_of(share, bps), share)
            left -= cut
            funded = delivered = accepted = None
            if cancelled:
                status = "cancelled"
            elif cancel_at is not None:
                status = "pending_funding"
            else:
                funded = moment + DAY * 0.5 * rng.lognormvariate(0, 1.0)
                delivered = funded + DAY * (duration / parts) * rng.uniform(0.5, 1.2)
                accepted = delivered + min(DAY * rng.lognormvariate(0, 1.2), AUTO_RELEASE_DAYS * DAY)
                if accepted < now_ts:
                    status = "accepted"
                elif delivered < now_ts:
                    status, accepted = "delivered", None
                elif funded < now_ts:
                    status, delivered, accepted = "funded", None, None
                else:
                    status, funded, delivered, accepted = "pending_funding", None, None, None
                moment = accepted or now_ts
            accepted_all = accepted_all and status == "accepted"
            first_funded = first_funded if i > 1 else funded
            milestones.append((len(proposals), i, f"Milestone {i}", share, cut, share - cut,
                               t + duration * i // parts * DAY, status, funded, delivered, accepted, t))
        if cancelled:
            return "cancelled", amount, duration, None, cancel_at, None
        if accepted_all:
            return "completed", amount, duration, moment, None, first_funded
        return "in_progress", amount, duration, None, None, first_funded

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE UNLOGGED TABLE bench_order_stage (
                number bigint, kind text, status text, buyer_id uuid, seller_id uuid, listing_id uuid,
                package_id bigint, proposal_id uuid, subtotal bigint, delivery_days int, revisions_included int,
                revisions_used int, created double precision, paid double precision, due double precision,
                delivered double precision, completed double precision, cancelled double precision,
                escrow_status text)""")
        with cursor.cursor.copy("COPY bench_order_stage FROM STDIN") as copy:
            batch = []
            for line in row_lines():
                batch.append(line)
                if len(batch) == 20000:
                    copy.write("".join(batch))
                    batch = []
            copy.write("".join(batch))
        timings["generate+copy"] = time.perf_counter() - start

        # Secondary indexes of orders and escrows are dropped for the bulk INSERTs and rebuilt after
        # (CREATE INDEX sorts once; a million random inserts into each is what made seeding slow). Indexes
        # behind primary-key/unique constraints stay; unique partial indexes are rebuilt, so checked.
        start = time.perf_counter()
        cursor.execute("""
            SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid IN ('orders_order'::regclass, 'escrow_escrow'::regclass)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                              AND k.contype IN ('p', 'u', 'x'))""")
        secondary = cursor.fetchall()
        for name, _definition in secondary:
            cursor.execute(f'DROP INDEX "{name}"')
        # Proposals (the contracts' own) first: orders reference them; projects before them.
        # Projects: hired ones closed; the rest open, or closed without hiring if old.
        hired_ids = {p["id"] for p in hired}
        columns = catalogue["columns"]
        with cursor.cursor.copy(f"COPY catalog_listing ({', '.join(columns)}) FROM STDIN") as copy:
            for project in projects:
                row = project["row"]
                old = row["created_at"].timestamp() < now_ts - 90 * DAY and rng.random() < 0.8
                if project["id"] in hired_ids or old:
                    row["status"] = "closed"
                copy.write_row([row[c] for c in columns])
        with cursor.cursor.copy("COPY orders_proposal (id, listing_id, seller_id, cover_letter, amount, currency, "
                                "duration_days, milestones, status, created_at, updated_at, decided_at) "
                                "FROM STDIN") as copy:
            for row in proposals:
                copy.write_row(row)
        cursor.execute(f"""
            INSERT INTO orders_order (id, number, kind, status, buyer_id, seller_id, listing_id, package_id,
                proposal_id, title, currency, subtotal, commission_bps, commission, total, seller_amount,
                requirements, delivery_days, revisions_included, revisions_used, due_at, created_at, updated_at,
                paid_at, delivered_at, completed_at, cancelled_at)
            SELECT gen_random_uuid(), s.number, s.kind, s.status, s.buyer_id, s.seller_id, s.listing_id,
                s.package_id, s.proposal_id,
                left(CASE WHEN p.id IS NULL THEN l.title ELSE l.title || ' — ' || p.title END, 200), 'SAR',
                s.subtotal, {bps}, (s.subtotal * {bps} + 5000) / 10000, s.subtotal,
                s.subtotal - (s.subtotal * {bps} + 5000) / 10000,
                CASE WHEN s.kind = 'service'
                     THEN jsonb_build_array(jsonb_build_object('question', l.requirements -> 0 ->> 'question',
                                                               'answer', 'As discussed in the brief.'))
                     ELSE '[]'::jsonb END,
                s.delivery_days, s.revisions_included, s.revisions_used, to_timestamp(s.due),
                to_timestamp(s.created),
                to_timestamp(GREATEST(s.created, s.paid, s.delivered, s.completed, s.cancelled)),
                to_timestamp(s.paid), to_timestamp(s.delivered), to_timestamp(s.completed), to_timestamp(s.cancelled)
            FROM bench_order_stage s
            JOIN catalog_listing l ON l.id = s.listing_id
            LEFT JOIN catalog_servicepackage p ON p.id = s.package_id
            ORDER BY s.number""")
        timings["insert orders"] = time.perf_counter() - start
        start = time.perf_counter()
        # One escrow per product/service order, opened when it was placed (escrow_open), moved as its order.
        cursor.execute(f"""
            INSERT INTO escrow_escrow (id, order_id, milestone_id, buyer_id, seller_id, order_kind, amount, commission,
                seller_amount, currency, status, generation, created_at, held_at, release_after, released_at,
                refunded_at)
            SELECT gen_random_uuid(), o.id, NULL, o.buyer_id, o.seller_id, o.kind, o.total, o.commission, o.seller_amount,
                o.currency, s.escrow_status, 0, o.created_at, o.paid_at,
                o.delivered_at + interval '{AUTO_RELEASE_DAYS} days',  -- set on delivery (escrow_delivered)
                CASE WHEN s.escrow_status = 'released' THEN o.completed_at END,
                CASE WHEN s.escrow_status = 'refunded' THEN o.cancelled_at END
            FROM orders_order o JOIN bench_order_stage s ON s.number = o.number
            WHERE o.kind <> 'contract'
            ORDER BY o.number""")
        timings["insert escrows"] = time.perf_counter() - start
        start = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, definition in secondary:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        timings["indexes"] = (len(secondary), time.perf_counter() - start)

        start = time.perf_counter()
        cursor.execute("""
            CREATE TEMP TABLE bench_milestone_stage (proposal_no int, position int, title text, amount bigint,
                commission bigint, seller_amount bigint, due double precision, status text,
                funded double precision, delivered double precision, accepted double precision,
                created double precision)""")
        with cursor.cursor.copy("COPY bench_milestone_stage FROM STDIN") as copy:
            for row in milestones:
                copy.write_row(row)
        cursor.execute("CREATE TEMP TABLE bench_proposal_no (proposal_no int, id uuid)")
        with cursor.cursor.copy("COPY bench_proposal_no FROM STDIN") as copy:
            for i, row in enumerate(proposals, start=1):
                copy.write_row((i, row[0]))
        cursor.execute("""
            INSERT INTO orders_milestone (id, order_id, position, title, amount, commission, seller_amount, due_at,
                status, revisions_used, funded_at, delivered_at, accepted_at, created_at)
            SELECT gen_random_uuid(), o.id, m.position, m.title, m.amount, m.commission, m.seller_amount,
                to_timestamp(m.due), m.status, 0, to_timestamp(m.funded), to_timestamp(m.delivered),
                to_timestamp(m.accepted), to_timestamp(m.created)
            FROM bench_milestone_stage m JOIN bench_proposal_no p USING (proposal_no)
            JOIN orders_order o ON o.proposal_id = p.id""")
        cursor.execute(f"""
            INSERT INTO escrow_escrow (id, order_id, milestone_id, buyer_id, seller_id, order_kind, amount, commission,
                seller_amount, currency, status, generation, created_at, held_at, release_after, released_at,
                refunded_at)
            SELECT gen_random_uuid(), o.id, m.id, o.buyer_id, o.seller_id, o.kind, m.amount, m.commission,
                m.seller_amount,
                o.currency, CASE WHEN m.status = 'accepted' THEN 'released' ELSE 'held' END, 0, m.funded_at,
                m.funded_at, m.delivered_at + interval '{AUTO_RELEASE_DAYS} days', m.accepted_at, NULL
            FROM orders_milestone m JOIN orders_order o ON o.id = m.order_id
            WHERE m.status IN ('funded', 'delivered', 'accepted')""")
        cursor.execute("SELECT setval('orders_order_number_seq', %s)", [n + 1000])
        # Derived counters, as the services keep them: sales (products when paid, services when
        # accepted), ratings from reviews of about 40 % of completed orders.
        cursor.execute("""
            WITH sales AS (
                SELECT listing_id, count(*) FILTER (WHERE status = 'completed') AS done FROM orders_order
                WHERE kind <> 'contract' GROUP BY listing_id)
            UPDATE catalog_listing l SET sales_count = s.done, rating_count = (s.done * 0.4)::int,
                rating_sum = ((s.done * 0.4)::int * (4.2 + 0.7 * random()))::int
            FROM sales s WHERE s.listing_id = l.id""")
        cursor.execute("""
            WITH r AS (SELECT owner_id, sum(rating_sum) AS s, sum(rating_count) AS c FROM catalog_listing
                       GROUP BY owner_id)
            UPDATE accounts_sellerprofile p SET rating_sum = r.s, rating_count = r.c
            FROM r WHERE r.owner_id = p.user_id""")
        # Nobody orders a listing before it is published, nor before signing up; a seller publishes after.
        cursor.execute("""
            UPDATE catalog_listing l SET created_at = f.first - interval '2 days',
                published_at = f.first - interval '1 day'
            FROM (SELECT listing_id, min(created_at) AS first FROM orders_order GROUP BY 1) f
            WHERE f.listing_id = l.id AND f.first - interval '1 day' < l.published_at""")
        cursor.execute("""
            UPDATE accounts_user u SET created_at = f.first - interval '3 hours', updated_at = f.first - interval '3 hours'
            FROM (SELECT id, min(at) AS first FROM (SELECT buyer_id AS id, created_at AS at FROM orders_order
                                                     UNION ALL SELECT owner_id, created_at FROM catalog_listing) a
                  GROUP BY 1) f
            WHERE f.id = u.id AND f.first - interval '3 hours' < u.created_at""")
        cursor.execute("DROP TABLE bench_order_stage")
        timings["contracts, projects, counters"] = time.perf_counter() - start
    return {"timings": timings, "status_counts": status_counts, "contracts": len(hired),
            "milestones": len(milestones)}


def vacuum_analyze(schema: str) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("orders_order", "escrow_escrow", "catalog_listing", "catalog_servicepackage", "accounts_user",
                      "accounts_sellerprofile", "orders_proposal", "orders_milestone", "analytics_orderlog",
                      "analytics_createdday", "analytics_paidday", "analytics_listingday", "analytics_listingmonth"):
            cursor.execute(f'VACUUM (ANALYZE) "{schema}".{table}')
    return time.perf_counter() - start


def dataset_report(cursor) -> list[str]:
    lines = []
    cursor.execute("""
        SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)), pg_size_pretty(pg_relation_size(c.oid)),
               pg_size_pretty(pg_indexes_size(c.oid)), c.reltuples::bigint
        FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
          AND relname IN ('orders_order', 'escrow_escrow', 'catalog_listing', 'accounts_user')
        ORDER BY pg_total_relation_size(c.oid) DESC""")
    lines.append("Tables: " + "; ".join(f"{name} ~{rows:,} rows, {total} ({heap} heap + {idx} indexes)"
                                        for name, total, heap, idx, rows in cursor.fetchall()))
    cursor.execute("SELECT kind, status, count(*) FROM orders_order GROUP BY 1, 2 ORDER BY 1, 3 DESC")
    rows = cursor.fetchall()
    total = sum(r[2] for r in rows)
    lines.append("Orders by kind/status: " + ", ".join(f"{k}/{s} {c:,} ({100 * c / total:.1f} %)" for k, s, c in rows))
    cursor.execute("SELECT status, count(*) FROM escrow_escrow GROUP BY 1 ORDER BY 2 DESC")
    lines.append("Escrows by status: " + ", ".join(f"{s} {c:,}" for s, c in cursor.fetchall()))
    cursor.execute("""
        SELECT count(*) FILTER (WHERE paid_at >= now() - interval '30 days'),
               count(*) FILTER (WHERE paid_at >= now() - interval '182 days'),
               count(*) FILTER (WHERE paid_at >= now() - interval '365 days'),
               count(*) FILTER (WHERE created_at >= now() - interval '30 days'),
               min(created_at), max(created_at), sum(total) FILTER (WHERE paid_at IS NOT NULL)
        FROM orders_order""")
    d30, w26, m12, c30, first, last, revenue = cursor.fetchone()
    lines.append(f"Paid orders in the windows: 30 days {d30:,}, 26 weeks {w26:,}, 12 months {m12:,}; created in the "
                 f"last 30 days {c30:,}; created {first:%Y-%m-%d} .. {last:%Y-%m-%d}; paid revenue "
                 f"{revenue / 100:,.0f} SAR")
    cursor.execute("""
        WITH s AS (SELECT seller_id, count(*) AS n FROM orders_order GROUP BY 1),
             b AS (SELECT buyer_id, count(*) AS n FROM orders_order GROUP BY 1)
        SELECT (SELECT count(*) FROM s), (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM s),
               (SELECT percentile_disc(0.99) WITHIN GROUP (ORDER BY n) FROM s), (SELECT max(n) FROM s),
               (SELECT count(*) FROM b), (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM b),
               (SELECT max(n) FROM b)""")
    s_count, s_med, s_p99, s_max, b_count, b_med, b_max = cursor.fetchone()
    lines.append(f"Orders per seller: {s_count:,} sellers with orders, median {s_med:,}, p99 {s_p99:,}, max {s_max:,}; "
                 f"per buyer: {b_count:,} buyers, median {b_med}, max {b_max}")
    return lines


# --- measuring -------------------------------------------------------------------------------------


class Principals:
    """Who calls each endpoint: the operator's secret key, and user access tokens minted as the login
    endpoint would (again when 5 minutes old: they expire after OSDM_ACCESS_TOKEN_TTL, 15 minutes)."""

    def __init__(self, host: str, schema: str, operator_key: str, seller, buyer) -> None:
        self.host, self.schema = host, schema
        self.operator_key = operator_key
        self.users = {"seller": seller, "buyer": buyer}
        self.minted: dict[str, tuple[float, str]] = {}

    def token(self, endpoint: str) -> str:
        from osdm.accounts.tokens import token_pair_issue

        if endpoint == "overview":
            return self.operator_key
        minted = self.minted.get(endpoint)
        if minted is None or time.monotonic() - minted[0] > 300:
            access = token_pair_issue(user=self.users[endpoint], schema_name=self.schema).access
            self.minted[endpoint] = minted = (time.monotonic(), access)
        return minted[1]


def case_label(endpoint: str, period: str, market: str | None) -> str:
    return f"{endpoint} {period}{' market=' + market if market else ''}"


def all_cases() -> list[tuple[str, str, str | None]]:
    return [(e, p, m) for e in ENDPOINTS for p in PERIODS for m in MARKETS]


def measure(client, principals: Principals, args, rng: random.Random) -> dict:
    """Warm up, then time every case's requests (shuffled together). Returns {case: (ms list, queries, sets)}."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def request(case):
        """(seconds, response) of one request: the token is minted (when due) before the clock starts."""
        endpoint, period, market = case
        params = {"period": period} | ({"market": market} if market else {})
        authorization = f"Bearer {principals.token(endpoint)}"
        start = time.perf_counter()
        response = client.get(f"/api/v1/dashboards/{endpoint}", params, HTTP_HOST=principals.host,
                              HTTP_AUTHORIZATION=authorization)
        seconds = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"{case}: {response.status_code} {response.content[:300]!r}")
        return seconds, response

    def get(case):
        return request(case)[1]

    cases = all_cases()
    for case in cases:
        for _ in range(args.warmup):
            get(case)
    order = [case for case in cases for _ in range(args.requests)]
    rng.shuffle(order)
    times: dict[tuple, list[float]] = {case: [] for case in cases}
    load_before = os.getloadavg()[0]
    for case in order:
        times[case].append(request(case)[0] * 1000)
    load_after = os.getloadavg()[0]
    counts = {}
    for case in cases:
        with CaptureQueriesContext(connection) as captured:
            get(case)
        sets = sum(q["sql"].startswith("SET search_path") for q in captured.captured_queries)
        counts[case] = (len(captured.captured_queries), sets)
    return {"times": times, "counts": counts, "load": (load_before, load_after)}


def print_results(title: str, result: dict, args, baseline: dict | None = None) -> dict[str, float]:
    print(f"\n{title}\n(django.test.Client, {args.requests} requests per case after {args.warmup} warm-up, all cases "
          f"shuffled together; ms; load average before/after: {result['load'][0]:.1f}/{result['load'][1]:.1f} "
          f"on {os.cpu_count()} CPUs)\n")
    rows = []
    for case in all_cases():
        count, median, p95, worst = _support.summary(result["times"][case])
        n, sets = result["counts"][case]
        row = [case_label(*case), str(count), f"{median:.1f}", f"{p95:.1f}", f"{worst:.1f}", f"{n} ({sets} SET)"]
        if baseline is not None:
            row.append(f"{_support.p95(baseline['times'][case]) / p95:.1f}x")
        rows.append(row)
    headers = ["case", "requests", "median", "p95", "max", "SQL statements/request"]
    print(_support.table(headers + (["p95 speed-up"] if baseline is not None else []), rows))
    verdict = {}
    print()
    for endpoint in ENDPOINTS:
        pooled = [ms for case in all_cases() if case[0] == endpoint for ms in result["times"][case]]
        worst_case = max((c for c in all_cases() if c[0] == endpoint), key=lambda c: _support.p95(result["times"][c]))
        worst_p95 = _support.p95(result["times"][worst_case])
        verdict[endpoint] = worst_p95
        print(f"  {endpoint:<8} p95 over all its {len(pooled)} requests {_support.p95(pooled):7.1f} ms; worst case "
              f"{case_label(*worst_case)!r} p95 {worst_p95:.1f} ms -> "
              f"{'under' if worst_p95 < TARGET_P95_MS else 'NOT under'} {TARGET_P95_MS:.0f} ms")
    met = all(v < TARGET_P95_MS for v in verdict.values())
    print(f"  Target (every case of every endpoint p95 < {TARGET_P95_MS:.0f} ms): {'MET' if met else 'NOT MET'}")
    return verdict


class StatementTimer:
    """A connection.execute_wrapper: the time of each statement, keyed by its SQL and how many times that
    SQL came before it in the same call (runs may differ in how many `SET search_path` they send)."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, int], list[float]] = {}
        self.seen: dict[str, int] = {}

    def new_run(self) -> None:
        self.seen = {}

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            occurrence = self.seen.get(sql, 0)
            self.seen[sql] = occurrence + 1
            self.times.setdefault((sql, occurrence), []).append(elapsed)


def statement_breakdown(principals: Principals, schema: str, tz_name: str, runs: int = 5) -> None:
    """Each SQL statement of the selector alone (no HTTP), 12-month window, no market filter."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from osdm.analytics import selectors

    print("\nWhere the time goes: each statement of the selector alone (no HTTP), period=month (12 months), "
          f"no market filter, median of {runs} runs, ms:")
    for endpoint in ENDPOINTS:
        timer = StatementTimer()
        with schema_context(schema):
            for _ in range(runs):
                win = selectors.window(tz_name=tz_name, period="month")
                timer.new_run()
                with connection.execute_wrapper(timer):
                    call_selector(endpoint, principals, win, None)
        # Statements in the order of their first run; those not in every run (a SET) as their sum / runs.
        medians = {key: statistics.median(v) if len(v) == runs else sum(v) / runs for key, v in timer.times.items()}
        print(f"\n  {endpoint}: {sum(len(v) for v in timer.times.values()) / runs:.0f} statements per call, "
              f"{sum(medians.values()):.1f} ms in all")
        for (sql, _), ms in medians.items():
            print(f"    {ms:7.1f}  {_shorten(sql)}")


def call_selector(endpoint: str, principals: Principals, win, market):
    from osdm.analytics import selectors

    if endpoint == "overview":
        return selectors.overview(win=win, market=market)
    return getattr(selectors, endpoint)(user=principals.users[endpoint], win=win, market=market)


def _shorten(sql: str, width: int = 150) -> str:
    import re

    sql = re.sub(r'"[a-z_]+"\."([a-z_]+)"', r"\1", sql)
    sql = re.sub(r'"([a-z_]+)"', r"\1", sql)
    sql = re.sub(r"\s+", " ", sql)
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def explain(principals: Principals, schema: str, tz_name: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from osdm.analytics import selectors

    for endpoint in ENDPOINTS:
        with schema_context(schema):
            win = selectors.window(tz_name=tz_name, period="month")
            with CaptureQueriesContext(connection) as captured:
                call_selector(endpoint, principals, win, None)
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the {endpoint} statements, period=month, no market:")
            with connection.cursor() as cursor:
                for query in captured.captured_queries:
                    if query["sql"].startswith("SET "):
                        continue
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    print("\n" + query["sql"] + "\n" + "\n".join(row[0] for row in cursor.fetchall()))


# --- the day tables: folding, and a check against the orders ------------------------------------------


def fold(schema: str, tz_name: str) -> tuple[int, float]:
    """What the beat job does for this marketplace (the first time: builds the day tables)."""
    from django_tenants.utils import schema_context

    from osdm.analytics import services

    start = time.perf_counter()
    with schema_context(schema):
        folded = services.dashboards_fold(tz_name=tz_name)
    return folded, time.perf_counter() - start


def live_minute(schema: str, rng: random.Random, orders: int) -> str:
    """A busy minute: `orders` pending orders paid and as many in-progress service orders delivered or
    cancelled, one transaction each (as the services make them), then the fold that follows."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT id, kind FROM orders_order WHERE status = 'pending_payment' ORDER BY number DESC "
                       "LIMIT %s", [orders])
        pending = cursor.fetchall()
        cursor.execute("SELECT id FROM orders_order WHERE status = 'in_progress' AND kind = 'service' "
                       "ORDER BY number DESC LIMIT %s", [orders])
        working = [r[0] for r in cursor.fetchall()]
        start = time.perf_counter()
        for order_id, kind in pending:
            with transaction.atomic():
                cursor.execute("UPDATE orders_order SET status = %s, paid_at = %s, updated_at = %s WHERE id = %s",
                               ["completed" if kind == "product" else "in_progress", timezone.now(), timezone.now(),
                                order_id])
        for order_id in working:
            with transaction.atomic():
                cursor.execute("UPDATE orders_order SET status = %s, updated_at = %s WHERE id = %s",
                               [rng.choice(("delivered", "cancelled")), timezone.now(), order_id])
        writes = time.perf_counter() - start
        cursor.execute("SELECT count(*) FROM analytics_orderlog")
        logged = cursor.fetchone()[0]
    return f"{len(pending) + len(working):,} order updates ({writes:.1f} s, {logged:,} log rows)"


def direct_overview(win, market: str | None) -> dict:
    """The overview's figures straight from the orders and milestones (every paid fact of the window
    read and summed), to check the day tables against."""
    from django.db import connection

    from osdm.analytics.selectors import MARKET_KIND, _paid_facts

    kind = MARKET_KIND[market] if market else None
    facts = _paid_facts("TRUE" + (" AND o.kind = %(kind)s" if kind else ""), "{at} >= %(start)s AND {at} < %(end)s")
    params = {"start": win.start, "end": win.end, "kind": kind, "tz": win.tz.key, "trunc": win.period}
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT date_trunc(%(trunc)s, at AT TIME ZONE %(tz)s)::date, sum(orders), sum(total), sum(commission),
                   coalesce(sum(orders) FILTER (WHERE created_at >= %(start)s), 0)
            FROM ({facts}) f GROUP BY 1 ORDER BY 1""", params)
        series = cursor.fetchall()
        cursor.execute(f"""
            SELECT status, count(*) FROM orders_order WHERE created_at >= %(start)s AND created_at < %(end)s
            {"AND kind = %(kind)s" if kind else ""} GROUP BY 1 ORDER BY 1""", params)
        by_status = dict(cursor.fetchall())
        cursor.execute(f"""
            SELECT listing_id, sum(orders) AS n, sum(total) AS amount FROM ({facts}) f
            GROUP BY 1 ORDER BY amount DESC, n DESC LIMIT 5""", params)
        top = [(str(listing), int(n), int(amount)) for listing, n, amount in cursor.fetchall()]
    created = sum(by_status.values())
    return {"revenue": sum(int(r[2]) for r in series), "commission": sum(int(r[3]) for r in series),
            "paid_orders": sum(int(r[1]) for r in series), "created_orders": created,
            "conversion": round(sum(int(r[4]) for r in series) / created, 4) if created else None,
            "orders_by_status": by_status, "top": top,
            "series": [{"bucket": b.isoformat(), "orders": int(n), "amount": int(a)} for b, n, a, _, _ in series]}


def check_exact(schema: str, tz_name: str) -> str:
    """The overview (day tables + log + partial days) equals direct_overview, for the default windows
    and arbitrary ones (mid-day ends, across a year, inside one day), every market."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from osdm.analytics import selectors

    now = timezone.now()
    windows = [(None, None, period) for period in PERIODS] + [
        (now - dt.timedelta(days=200, hours=7, minutes=37), now - dt.timedelta(days=20, hours=3, minutes=5), "week"),
        (now - dt.timedelta(days=700, hours=2), now - dt.timedelta(days=380), "month"),
        (now - dt.timedelta(days=3, hours=5), now - dt.timedelta(days=3, hours=1), "day")]
    checked, start = 0, time.perf_counter()
    with schema_context(schema):
        for begin, end, period in windows:
            win = selectors.window(tz_name=tz_name, period=period, start=begin, end=end)
            for market in (None, "services", "products", "projects"):
                got, want = selectors.overview(win=win, market=market), direct_overview(win, market)
                top = [(r["listing_id"], r["orders"], r["amount"]) for r in got["top_listings"]]
                same = all(got[k] == want[k] for k in want if k != "top") and (
                    [t[1:] for t in top] == [t[1:] for t in want["top"]])  # ties may come in another order
                if not same:
                    diff = {k: (got.get(k), want[k]) for k in want if got.get(k, top) != want[k]}
                    raise RuntimeError(f"the overview differs from the orders for {win} {market}: {diff}")
                checked += 1
    return f"{checked} windows x markets identical to the direct computation ({time.perf_counter() - start:.0f} s)"



# --- the run -----------------------------------------------------------------------------------------


def run(args, bench_url: str) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from osdm.accounts.models import User
    from tenants import sample_data, services

    rng = random.Random(args.seed)
    print(_support.environment())
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem'), current_setting('jit'), "
                       "current_setting('max_parallel_workers_per_gather')")
        print("shared_buffers={}, work_mem={}, jit={}, max_parallel_workers_per_gather={}".format(*cursor.fetchone()))

    # --- set-up -------------------------------------------------------------------------------------
    settings.OSDM_SPARE_POOL_SIZE = 0
    services._schedule_pool_refill = lambda: None
    start = time.perf_counter()
    made = services.tenant_create(slug=SLUG, name="Bench dashboards")
    tenant = made.tenant
    categories = sample_data.categories(tenant=tenant)
    if tenant.commission_bps != COMMISSION_BPS or tenant.escrow_auto_release_days != AUTO_RELEASE_DAYS \
            or not tenant.escrow_release_products_on_payment:
        raise RuntimeError("the tenant defaults changed; update COMMISSION_BPS / AUTO_RELEASE_DAYS")
    tenant_seconds = time.perf_counter() - start
    schema, tz_name = tenant.schema_name, tenant.timezone
    host = f"{SLUG}.{settings.OSDM_BASE_DOMAIN}"
    from django.utils import timezone

    seed = Seed(rng, args, timezone.now(), ZoneInfo(tz_name))
    setup_start = time.perf_counter()
    with schema_context(schema):
        users_seconds, profiles_seconds = seed_users(seed)
        start = time.perf_counter()
        catalogue = seed_listings(seed)
        listings_seconds = time.perf_counter() - start
        made_orders = seed_orders(seed, catalogue)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM analytics_orderlog")
            logged = cursor.fetchone()[0]
        facts, build_seconds = fold(schema, tz_name)
        vacuum_seconds = vacuum_analyze(schema)
        with connection.cursor() as cursor:
            report = dataset_report(cursor)
            cursor.execute("SELECT seller_id, count(*) FROM orders_order GROUP BY 1 ORDER BY abs(count(*) - %s), 1 "
                           "LIMIT 1", [args.heavy_seller])
            seller_id, seller_orders = cursor.fetchone()
            cursor.execute("SELECT buyer_id, count(*) FROM orders_order GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
            buyer_id, buyer_orders = cursor.fetchone()
            cursor.execute("SELECT kind, count(*) FROM orders_order WHERE seller_id = %s GROUP BY 1 ORDER BY 1",
                           [seller_id])
            seller_kinds = ", ".join(f"{k} {c:,}" for k, c in cursor.fetchall())
        seller = User.objects.select_related("seller_profile").get(pk=seller_id)
        buyer = User.objects.get(pk=buyer_id)
    setup_seconds = time.perf_counter() - setup_start
    t = made_orders["timings"]
    print(f"\nSet-up: tenant {SLUG!r} ({tz_name}, commission {tenant.commission_bps / 100:.0f} %) with {categories} "
          f"categories in {tenant_seconds:.1f} s; seeding {setup_seconds:.1f} s: "
          f"{args.sellers + args.buyers:,} users {users_seconds:.1f} s (+ {args.sellers:,} seller profiles "
          f"{profiles_seconds:.1f} s), {args.listings:,} listings with packages {listings_seconds:.1f} s, "
          f"{args.orders:,} orders: instants and picks {t['times']:.1f} s, generating + COPY to staging "
          f"{t['generate+copy']:.1f} s, INSERT orders {t['insert orders']:.1f} s, INSERT escrows "
          f"{t['insert escrows']:.1f} s, rebuilding their {t['indexes'][0]} secondary indexes {t['indexes'][1]:.1f} s, "
          f"{made_orders['contracts']:,} contracts with {made_orders['milestones']:,} "
          f"milestones + projects + counters {t['contracts, projects, counters']:.1f} s ({logged:,} order log rows "
          f"written by the triggers meanwhile); the dashboards' day tables built from {facts:,} facts in "
          f"{build_seconds:.1f} s (the first fold); VACUUM ANALYZE {vacuum_seconds:.1f} s.")
    for line in report:
        print(line)
    if args.keep:
        keep_copy(bench_url)
    print(f"Measured as: operator (secret key); seller {seller_id} with {seller_orders:,} orders ({seller_kinds}); "
          f"buyer {buyer_id} with {buyer_orders:,} orders (the most of any buyer).")

    # --- measuring ----------------------------------------------------------------------------------
    # The bench's one seller asks hundreds of times a minute; a real user would be throttled at 600/min.
    settings.OSDM_THROTTLE_RATES = {**settings.OSDM_THROTTLE_RATES, "user": "100000/min", "key": "100000/min"}
    client = Client()
    principals = Principals(host, schema, made.secret_key, seller, buyer)
    print("Check: " + check_exact(schema, tz_name))
    written = live_minute(schema, rng, args.live_orders)
    folded, fold_seconds = fold(schema, tz_name)
    print(f"A busy minute: {written}; its fold (the beat job, every minute) {fold_seconds * 1000:.0f} ms for "
          f"{folded:,} log rows.")
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) analytics_orderlog")
    result = measure(client, principals, args, rng)
    print_results("The platform as it is.", result, args)
    statement_breakdown(principals, schema, tz_name)
    if args.explain:
        explain(principals, schema, tz_name)


if __name__ == "__main__":
    main()

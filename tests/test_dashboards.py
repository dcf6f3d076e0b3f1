"""Dashboards: their figures equal a direct computation on the same data, in the marketplace's
time zone."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from osdm.accounts.models import User
from osdm.analytics import selectors, services, tasks
from osdm.analytics.models import DashboardState, OrderLog
from osdm.catalog.models import Listing
from osdm.orders.models import Milestone, Order
from tenants.models import Tenant
from tenants.services import tenant_run

from . import markets
from .conftest import assert_error
from .markets import product, project, service, user
from .test_money import _pay, _refunded, _service_order

pytestmark = pytest.mark.django_db


def test_dashboards_match_a_direct_computation(api, alpha):
    seller = user(api, alpha, seller=True)
    orders = []
    for _ in range(4):
        _, buyer, order = _service_order(api, alpha, seller=seller)
        orders.append((buyer, order))
    for _, order in orders[:3]:
        _pay(alpha, order["payment"]["id"])
    seller.post(f"/api/v1/orders/{orders[0][1]['id']}/deliver", {"message": "done"})
    orders[0][0].post(f"/api/v1/orders/{orders[0][1]['id']}/complete")
    # One payment arrived at 23:30 UTC yesterday: that is 02:30 today in Riyadh.
    riyadh = ZoneInfo("Asia/Riyadh")
    late = (datetime.now(UTC) - timedelta(days=1)).replace(hour=23, minute=30, second=0, microsecond=0)
    with tenant_run(alpha.tenant):
        Order.objects.filter(pk=orders[1][1]["id"]).update(paid_at=late)
        all_orders = list(Order.objects.filter(seller_id=seller.user_id))
    paid = [o for o in all_orders if o.paid_at]
    expected_earnings = sum(o.seller_amount for o in paid)
    expected_buckets = {}
    for o in paid:
        day = o.paid_at.astimezone(riyadh).date().isoformat()
        expected_buckets.setdefault(day, [0, 0])
        expected_buckets[day][0] += 1
        expected_buckets[day][1] += o.seller_amount

    board = seller.get("/api/v1/dashboards/seller?period=day").json()
    assert board["earnings"] == expected_earnings
    assert board["paid_orders"] == len(paid)
    assert board["orders_by_status"] == {"completed": 1, "in_progress": 2, "pending_payment": 1}
    assert board["pending_escrow"] == sum(o.seller_amount for o in paid if o.status != "completed")
    assert {b["bucket"]: [b["orders"], b["amount"]] for b in board["series"]} == expected_buckets
    assert late.astimezone(riyadh).date().isoformat() in expected_buckets

    overview = api(alpha, alpha.secret_key).get("/api/v1/dashboards/overview?market=services").json()
    with tenant_run(alpha.tenant):
        market_paid = [o for o in Order.objects.filter(kind="service") if o.paid_at]
    assert overview["revenue"] == sum(o.total for o in market_paid)
    assert overview["commission"] == sum(o.commission for o in market_paid)
    buyer_board = orders[0][0].get("/api/v1/dashboards/buyer").json()
    assert buyer_board["spent"] == orders[0][1]["total"] and buyer_board["paid_orders"] == 1


def test_dashboard_access_and_bad_windows(api, alpha):
    seller = user(api, alpha, seller=True)
    assert_error(seller.get("/api/v1/dashboards/overview"), 403)
    assert_error(api(alpha, alpha.secret_key).get("/api/v1/dashboards/seller"), 403)
    for bad in ("period=hour", "from=yesterday", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                "market=food", "colour=red"):
        assert_error(seller.get(f"/api/v1/dashboards/seller?{bad}"), 400)


# --- the pre-aggregated overview equals the direct computation ---------------------------------------

MARKET_KIND = {"products": "product", "services": "service", "projects": "contract"}
STATUSES = {"product": ["pending_payment", "completed", "cancelled"],
            "service": ["pending_payment", "in_progress", "delivered", "completed", "cancelled"],
            "contract": ["in_progress", "completed", "cancelled"]}


@dataclass
class Fact:
    at: datetime
    order: Order
    orders: int
    total: int
    commission: int
    seller_amount: int


def _facts(orders, milestones) -> list[Fact]:
    """The payments, as docs/dashboards.md defines them: a paid order (its money, none for a contract)
    at paid_at; a funded milestone (its money, no order) at funded_at."""
    by_id = {o.pk: o for o in orders}
    facts = [Fact(o.paid_at, o, 1, *((0, 0, 0) if o.kind == "contract" else (o.total, o.commission, o.seller_amount)))
             for o in orders if o.paid_at]
    facts += [Fact(m.funded_at, by_id[m.order_id], 0, m.amount, m.commission, m.seller_amount)
              for m in milestones if m.funded_at]
    return facts


def _bucket(at: datetime, tz: ZoneInfo, period: str) -> str:
    day = at.astimezone(tz).date()
    day = {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}[period]
    return day.isoformat()


def _expected(facts, orders, *, start, end, tz, period, market, amount="total") -> dict:
    kind = MARKET_KIND.get(market)
    facts = [f for f in facts if start <= f.at < end and kind in (None, f.order.kind)]
    created = [o for o in orders if start <= o.created_at < end and kind in (None, o.kind)]
    series, top = {}, {}
    for f in facts:
        money = getattr(f, amount)
        row = series.setdefault(_bucket(f.at, tz, period), [0, 0])
        row[0], row[1] = row[0] + f.orders, row[1] + money
        row = top.setdefault(str(f.order.listing_id), [0, 0])
        row[0], row[1] = row[0] + f.orders, row[1] + money
    by_status = {}
    for o in created:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    converted = sum(f.orders for f in facts if f.order.created_at >= start)
    return {
        "revenue": sum(f.total for f in facts), "commission": sum(f.commission for f in facts),
        "paid_orders": sum(f.orders for f in facts), "created_orders": len(created),
        "conversion": round(converted / len(created), 4) if created else None,
        "orders_by_status": by_status,
        "series": [{"bucket": b, "orders": n, "amount": a} for b, (n, a) in sorted(series.items())],
        "top_listings": sorted(((a, n, listing) for listing, (n, a) in top.items()), reverse=True),
    }


def _same_top(expected: list[tuple], got: list[dict]) -> bool:
    """The five best (amount, orders) in order; listings tied on both may come in any order, and of
    those tied at the cut-off any may be in."""
    got_keys = [(r["amount"], r["orders"]) for r in got]
    if got_keys != [(a, n) for a, n, _ in expected[:5]]:
        return False
    return all(r["listing_id"] in {listing for a, n, listing in expected if (a, n) == (r["amount"], r["orders"])}
               for r in got)


def _windows(now: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime, str]]:
    midnight = datetime.combine((now - timedelta(days=40)).astimezone(tz).date(), time(0), tz)
    return [
        (now - timedelta(days=30), now, "day"),
        (now - timedelta(weeks=26), now, "week"),
        (now - timedelta(days=365), now, "month"),
        # mid-day ends, across months; from one local midnight to another; inside one day
        (now - timedelta(days=200, hours=7, minutes=37), now - timedelta(days=20, hours=3, minutes=5), "week"),
        (midnight, midnight + timedelta(days=9), "day"),
        (midnight - timedelta(days=61), midnight + timedelta(hours=5), "month"),
        (now - timedelta(days=3, hours=5), now - timedelta(days=3, hours=1), "day"),
    ]


def _random_orders(rng: random.Random, *, sellers, buyers, listings, now: datetime, zones, n: int = 320):
    """n orders over the last 14 months (many within seconds of a local midnight in one of `zones`),
    with contracts' milestones: every kind and status, paid and cancelled after payment (refunded)."""
    orders, milestones = [], []
    weights = [0.7 ** i for i in range(len(listings))]  # a few listings sell most
    for i in range(n):
        listing = rng.choices(listings, weights)[0]
        kind = {"products": "product", "services": "service", "projects": "contract"}[listing.market]
        created = now - timedelta(seconds=rng.uniform(60, 420 * 86400))
        if rng.random() < 0.4:  # around a local midnight
            local = created.astimezone(rng.choice(zones))
            created = datetime.combine(local.date(), time(0), local.tzinfo) + timedelta(seconds=rng.uniform(-90, 90))
        status = rng.choice(STATUSES[kind])
        subtotal = rng.randrange(1000, 90000)
        commission = (subtotal * 1000 + 5000) // 10000
        paid = status not in ("pending_payment",) and (status != "cancelled" or rng.random() < 0.5)
        paid_at = created + timedelta(seconds=rng.choice([30, 3600, 20 * 3600, 3 * 86400]) * rng.random())
        seller = rng.choice(sellers)
        buyer = rng.choice([b for b in buyers if b.pk != seller.pk] if kind != "contract" else [listing.owner])
        order = Order(number=900000 + i, kind=kind, status=status, buyer=buyer, seller=seller, listing=listing,
                      title=listing.title, currency="SAR", subtotal=subtotal, commission_bps=1000,
                      commission=commission, total=subtotal, seller_amount=subtotal - commission,
                      paid_at=min(paid_at, now) if paid and kind != "contract" else None)
        orders.append((order, created))
        if kind == "contract":
            funded_at, parts = created, rng.randint(1, 3)
            for position in range(1, parts + 1):
                amount = subtotal // parts if position < parts else subtotal - subtotal // parts * (parts - 1)
                cut = (amount * 1000 + 5000) // 10000
                funded = None
                if status != "cancelled" or rng.random() < 0.5:
                    funded_at = funded_at + timedelta(seconds=rng.uniform(10, 9 * 86400))
                    funded = funded_at if funded_at < now and rng.random() < 0.8 else None
                milestones.append(Milestone(order=order, position=position, title=f"m{position}", amount=amount,
                                            commission=cut, seller_amount=amount - cut, funded_at=funded,
                                            status="funded" if funded else "pending_funding"))
    made = Order.objects.bulk_create([o for o, _ in orders])
    for order, created in orders:  # created_at is auto_now_add: set after
        Order.objects.filter(pk=order.pk).update(created_at=created)
    Milestone.objects.bulk_create(milestones)
    for order in made:  # a contract is paid when its first milestone is funded
        first = min((m.funded_at for m in milestones if m.order_id == order.pk and m.funded_at), default=None)
        if order.kind == "contract" and first:
            Order.objects.filter(pk=order.pk).update(paid_at=first)


def _mutate(rng: random.Random, now: datetime) -> None:
    """What the services do to orders over time, as bulk and single-row updates: payments, deliveries,
    completions, cancellations after payment (refunds), milestones funded, an order deleted."""
    pending = list(Order.objects.filter(status="pending_payment", number__gte=900000))
    for order in rng.sample(pending, min(20, len(pending))):
        order.status = "completed" if order.kind == "product" else "in_progress"
        order.paid_at = now - timedelta(seconds=rng.uniform(0, 10 * 86400))
        order.save(update_fields=["status", "paid_at"])
    paid = list(Order.objects.filter(status="in_progress", kind="service", number__gte=900000)
                .values_list("pk", flat=True))
    Order.objects.filter(pk__in=paid[: len(paid) // 3]).update(status="cancelled", cancelled_at=now)  # refunded
    Order.objects.filter(pk__in=paid[len(paid) // 3:]).update(status="delivered", delivered_at=now)
    Order.objects.filter(status="delivered", number__gte=900000, number__lt=900100).update(status="completed")
    for milestone in Milestone.objects.filter(funded_at__isnull=True, order__number__gte=900000)[:6]:
        milestone.funded_at = now - timedelta(seconds=rng.uniform(0, 5 * 86400))
        milestone.status = "funded"
        milestone.save(update_fields=["funded_at", "status"])
        Order.objects.filter(pk=milestone.order_id, paid_at__isnull=True).update(paid_at=milestone.funded_at)
    Order.objects.filter(number__gte=900000).order_by("number").first().delete()


@pytest.mark.parametrize("top_k", [25, 6])
def test_the_overview_from_pre_aggregates_equals_the_orders_on_random_data(api, alpha, monkeypatch, top_k):
    """Random orders (many at local midnights), then: read (the day tables are built on first use);
    changed by updates (read with the log not folded yet); folded; the marketplace's time zone changed
    (rebuilt): every figure equals the direct computation, for every window and market. (With 6 best
    listings a month read instead of 25, the top listings are found by pruning or, when the bound
    does not decide, by summing every listing: both ways are checked.)"""
    monkeypatch.setattr(selectors, "TOP_K", top_k)
    rng = random.Random(20261127 + top_k)
    operator = api(alpha, alpha.secret_key)
    sellers = [user(api, alpha, seller=True) for _ in range(3)]
    poster = user(api, alpha)
    made = [product(sellers[i % 3], alpha, title=f"Pack {i}", price=1000) for i in range(6)]
    made += [service(sellers[i % 3], alpha, title=f"Logo {i}") for i in range(5)]
    made += [project(poster, alpha, title=f"Store {i}") for i in range(5)]
    buyers = [user(api, alpha) for _ in range(3)]
    now = datetime.now(UTC)
    riyadh, st_johns = ZoneInfo("Asia/Riyadh"), ZoneInfo("America/St_Johns")  # +03:00; -03:30/-02:30 (DST)
    with tenant_run(alpha.tenant):
        users = {str(u.pk): u for u in User.objects.all()}
        _random_orders(rng, sellers=[users[s.user_id] for s in sellers], buyers=[users[b.user_id] for b in buyers],
                       listings=list(Listing.objects.filter(pk__in=[m["id"] for m in made])), now=now,
                       zones=[riyadh, st_johns], n=480)

    seen: list[int] = []

    def check(tz: ZoneInfo, stage: str) -> None:
        with tenant_run(alpha.tenant):
            orders = list(Order.objects.all())
            facts = _facts(orders, list(Milestone.objects.all()))
        for start, end, period in _windows(now, tz):
            for market in (None, "products", "services", "projects"):
                query = urlencode({"from": start.isoformat(), "to": end.isoformat(), "period": period,
                                   **({"market": market} if market else {})})
                got = operator.get(f"/api/v1/dashboards/overview?{query}").json()
                expected = _expected(facts, orders, start=start, end=end, tz=tz, period=period, market=market)
                seen.append(len(expected["top_listings"]))
                where = f"{stage}: {start} .. {end} {period} {market}"
                assert {k: got[k] for k in expected if k != "top_listings"} == {
                    k: v for k, v in expected.items() if k != "top_listings"}, where
                assert _same_top(expected["top_listings"], got["top_listings"]), (where, got["top_listings"])

    with tenant_run(alpha.tenant):
        assert Order.objects.filter(number__gte=900000).count() == 480
        assert Milestone.objects.filter(funded_at__isnull=False).count() > 10
    check(riyadh, "built on first use")
    with tenant_run(alpha.tenant):
        _mutate(rng, now)
        assert OrderLog.objects.exists()
    check(riyadh, "log not folded")
    with tenant_run(alpha.tenant):
        assert services.dashboards_fold(tz_name="Asia/Riyadh") > 0
        assert not OrderLog.objects.exists()
    check(riyadh, "folded")
    tenant = Tenant.objects.get(pk=alpha.tenant.pk)
    tenant.timezone = "America/St_Johns"
    tenant.save(update_fields=["timezone"])  # as the platform API does (and forgets the cached host)
    check(st_johns, "time zone changed")
    assert sum(n >= 5 for n in seen) > len(seen) / 3  # most windows have a full top five to rank


def test_seller_and_buyer_dashboards_equal_the_orders_on_random_data(api, alpha):
    rng = random.Random(7)
    sellers = [user(api, alpha, seller=True) for _ in range(2)]
    poster = user(api, alpha)
    made = [product(sellers[0], alpha, title="Font pack", price=1000), service(sellers[1], alpha, title="Logo"),
            service(sellers[0], alpha, title="Translation"), project(poster, alpha, title="Store")]
    buyers = [user(api, alpha) for _ in range(2)]
    now = datetime.now(UTC)
    riyadh = ZoneInfo("Asia/Riyadh")
    with tenant_run(alpha.tenant):
        users = {str(u.pk): u for u in User.objects.all()}
        _random_orders(rng, sellers=[users[s.user_id] for s in sellers], buyers=[users[b.user_id] for b in buyers],
                       listings=list(Listing.objects.filter(pk__in=[m["id"] for m in made])), now=now,
                       zones=[riyadh], n=200)
        orders = list(Order.objects.all())
        facts = _facts(orders, list(Milestone.objects.all()))
    for start, end, period in _windows(now, riyadh):
        for market in (None, "services", "projects"):
            query = urlencode({"from": start.isoformat(), "to": end.isoformat(), "period": period,
                               **({"market": market} if market else {})})
            for client, role in ((sellers[0], "seller"), (sellers[1], "seller"), (poster, "buyer"), (buyers[0], "buyer")):
                got = client.get(f"/api/v1/dashboards/{role}?{query}").json()
                who = users[client.user_id]
                mine = [o for o in orders if (o.seller_id if role == "seller" else o.buyer_id) == who.pk]
                mine_ids = {o.pk for o in mine}
                expected = _expected([f for f in facts if f.order.pk in mine_ids], mine, start=start, end=end,
                                     tz=riyadh, period=period, market=market,
                                     amount="seller_amount" if role == "seller" else "total")
                where = f"{role} {who.pk}: {start} .. {end} {period} {market}"
                assert got["earnings" if role == "seller" else "spent"] == sum(
                    row["amount"] for row in expected["series"]), where
                assert got["paid_orders"] == expected["paid_orders"], where
                assert got["orders_by_status"] == expected["orders_by_status"], where
                assert got["series"] == expected["series"], where
                if role == "seller":
                    assert got["gross_sales"] == expected["revenue"], where
                    assert _same_top(expected["top_listings"], got["top_listings"]), where


def test_contract_revenue_counts_each_milestone_when_funded(api, alpha):
    """A contract is paid when its first milestone is funded (paid_at); its revenue is each milestone's
    amount as it is funded, not the whole contract up front. A refund leaves the gross figures."""
    poster, seller = user(api, alpha), user(api, alpha, seller=True)
    operator = api(alpha, alpha.secret_key)
    job, contract = markets.contract(poster, seller, alpha, milestones=[10000, 20000])
    one, two = (m["id"] for m in contract["milestones"])
    board = operator.get("/api/v1/dashboards/overview?market=projects").json()
    assert (board["revenue"], board["paid_orders"], board["created_orders"]) == (0, 0, 1)

    payment = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/payment").json()
    _pay(alpha, payment["id"])
    with tenant_run(alpha.tenant):
        order = Order.objects.get(pk=contract["id"])
        assert order.paid_at == Milestone.objects.get(pk=one).funded_at
    board = operator.get("/api/v1/dashboards/overview?market=projects").json()
    assert (board["revenue"], board["commission"], board["paid_orders"], board["conversion"]) == (10000, 1000, 1, 1.0)
    assert board["top_listings"] == [{"listing_id": job["id"], "title": job["title"], "orders": 1, "amount": 10000}]
    assert seller.get("/api/v1/dashboards/seller").json()["earnings"] == 9000
    assert poster.get("/api/v1/dashboards/buyer?market=projects").json()["spent"] == 10000

    second = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{two}/payment").json()
    _pay(alpha, second["id"])
    board = operator.get("/api/v1/dashboards/overview").json()
    assert (board["revenue"], board["commission"], board["paid_orders"]) == (30000, 3000, 1)
    assert board["series"][-1]["amount"] == 30000 and board["pending_escrow"] == 30000
    seller_board = seller.get("/api/v1/dashboards/seller").json()
    assert (seller_board["earnings"], seller_board["gross_sales"], seller_board["paid_orders"]) == (27000, 30000, 1)

    _refunded(alpha, second["id"], 20000)  # the gateway refunded the second milestone
    board = operator.get("/api/v1/dashboards/overview").json()
    assert (board["revenue"], board["paid_orders"], board["pending_escrow"]) == (30000, 1, 10000)

    with tenant_run(alpha.tenant), connection.cursor() as cursor:  # no trigger sees the rows go: rebuilt
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # (the test's transaction has deferred checks)
        cursor.execute("TRUNCATE orders_milestone CASCADE")
    board = operator.get("/api/v1/dashboards/overview").json()
    assert (board["revenue"], board["paid_orders"]) == (0, 1)


def test_a_new_marketplace_has_the_dashboard_tables_and_triggers(api, alpha):
    """Cloned from the template: an order written in a fresh marketplace reaches the dashboards."""
    with tenant_run(alpha.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid IN ('orders_order'::regclass, "
                       "'orders_milestone'::regclass) AND NOT tgisinternal ORDER BY 1")
        assert [r[0] for r in cursor.fetchall()] == [
            "analytics_milestone_delete", "analytics_milestone_insert", "analytics_milestone_truncate",
            "analytics_milestone_update", "analytics_order_delete", "analytics_order_insert",
            "analytics_order_truncate", "analytics_order_update"]
    seller = user(api, alpha, seller=True)
    _, _buyer, order = _service_order(api, alpha, seller=seller)
    with tenant_run(alpha.tenant):
        assert list(OrderLog.objects.values_list("sign", "status", "paid_at")) == [(1, "pending_payment", None)]
    _pay(alpha, order["payment"]["id"])
    board = api(alpha, alpha.secret_key).get("/api/v1/dashboards/overview").json()
    assert (board["revenue"], board["paid_orders"], board["orders_by_status"]) == (20000, 1, {"in_progress": 1})


def test_the_beat_job_folds_every_marketplace_log(api, alpha, beta):
    for market in (alpha, beta):
        _service_order(api, market)
    assert tasks.fold() >= 2  # (the first fold of a marketplace builds its day tables from its orders)
    for market in (alpha, beta):
        _service_order(api, market)
    assert tasks.fold() == 2
    with tenant_run(beta.tenant):
        assert not OrderLog.objects.exists()
        assert DashboardState.objects.get().timezone == beta.tenant.timezone

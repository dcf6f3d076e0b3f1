"""The figures the dashboards draw, bucketed by day, week or month in the marketplace's time zone.

- overview (operator): revenue, commission, orders by status, conversion, average rating, pending
  escrow, top listings, and a time series of orders and revenue;
- seller: earnings, sales by status, pending escrow, rating, top listings, series;
- buyer: spending, purchases by status, active orders, series.

Revenue counts money when it arrives: an order's total when it is paid (`paid_at`), a contract's
milestones each when funded (`funded_at`); a paid order is counted once, at its `paid_at` (a
contract's is its first milestone's funding). Refunds do not change these (gross) figures.

Definitions (what tests/test_dashboards.py computes directly from the rows):
- paid facts in [start, end): orders with paid_at in it (1 order; total, commission, seller_amount,
  none for a contract) and funded milestones with funded_at in it (0 orders; their amounts);
- created orders: orders with created_at in [start, end), by current status;
- conversion: orders paid in the window and created at or after its start / created orders.

A seller's or a buyer's figures are read from the orders through indexes (a few thousand rows at
most). The operator's overview over a whole marketplace reads the per-day tables (osdm.analytics.models)
for the whole local days inside the window, plus the order log not folded yet, and the orders
themselves for the partial days at the window's two ends: all in one statement per figure, so
each figure is the exact sum as of one moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from osdm.catalog.models import Listing
from osdm.escrow.models import Escrow, EscrowStatus
from osdm.orders.models import Order

from . import services

MARKET_KIND = {"products": "product", "services": "service", "projects": "contract"}
TOP = 5
TOP_K = 25  # best listings per month read to bound the others (overview top listings)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    period: str
    tz: ZoneInfo


def window(*, tz_name: str, period: str = "day", start: datetime | None = None, end: datetime | None = None) -> Window:
    tz = ZoneInfo(tz_name)
    end = end or timezone.now()
    default_span = {"day": timedelta(days=30), "week": timedelta(weeks=26), "month": timedelta(days=365)}[period]
    return Window(start=start or end - default_span, end=end, period=period, tz=tz)


def _paid_facts(order_where: str, at_where: str) -> str:
    """SQL of the paid facts (see the module) of the orders matching `order_where` (on `o`), whose
    instant matches `at_where` (`{at}` stands for it): columns at, created_at, kind, listing_id,
    orders, total, commission, seller_amount."""
    on_order, on_milestone = at_where.replace("{at}", "o.paid_at"), at_where.replace("{at}", "m.funded_at")
    return f"""
        SELECT o.paid_at AS at, o.created_at, o.kind, o.listing_id, 1 AS orders,
               CASE WHEN o.kind = 'contract' THEN 0 ELSE o.total END AS total,
               CASE WHEN o.kind = 'contract' THEN 0 ELSE o.commission END AS commission,
               CASE WHEN o.kind = 'contract' THEN 0 ELSE o.seller_amount END AS seller_amount
        FROM orders_order o WHERE o.paid_at IS NOT NULL AND ({on_order}) AND {order_where}
        UNION ALL
        SELECT m.funded_at, o.created_at, o.kind, o.listing_id, 0, m.amount, m.commission, m.seller_amount
        FROM orders_milestone m JOIN orders_order o ON o.id = m.order_id
        WHERE m.funded_at IS NOT NULL AND ({on_milestone}) AND o.kind = 'contract' AND {order_where}"""


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _series(rows: list[tuple]) -> list[dict]:
    return [{"bucket": bucket.isoformat(), "orders": int(orders), "amount": int(amount)}
            for bucket, orders, amount, *_ in rows]


def _titled(rows: list[tuple]) -> list[dict]:
    """(listing_id, orders, amount) rows, best first, with the listings' titles."""
    titles = dict(Listing.objects.filter(pk__in=[r[0] for r in rows]).order_by().values_list("pk", "title"))
    return [{"listing_id": str(listing_id), "title": titles[listing_id], "orders": int(orders), "amount": int(amount)}
            for listing_id, orders, amount in rows]


def _by_status(rows: list[tuple]) -> dict[str, int]:
    return {status: int(n) for status, n in rows}


def _user_facts(*, column: str, user, win: Window, market: str | None, amount: str,
                top: bool = False) -> tuple[dict, list, list]:
    """A seller's or buyer's paid facts in the window: (totals, series rows, top listings if asked)."""
    kind = MARKET_KIND[market] if market else None
    order_where = f"o.{column} = %(user)s" + (" AND o.kind = %(kind)s" if kind else "")
    facts = _paid_facts(order_where, "{at} >= %(start)s AND {at} < %(end)s")
    params = {"user": user.pk, "kind": kind, "start": win.start, "end": win.end, "tz": win.tz.key,
              "trunc": win.period}
    series = _rows(f"""
        SELECT date_trunc(%(trunc)s, at AT TIME ZONE %(tz)s)::date, sum(orders), sum({amount}), sum(total)
        FROM ({facts}) f GROUP BY 1 ORDER BY 1""", params)
    totals = {"orders": sum(r[1] for r in series), "amount": sum(r[2] for r in series),
              "total": sum(r[3] for r in series)}
    best = _rows(f"""
        SELECT listing_id, sum(orders) AS n, sum({amount}) AS amount FROM ({facts}) f
        GROUP BY listing_id ORDER BY amount DESC, n DESC LIMIT {TOP}""", params) if top and series else []
    return totals, series, best


def _created_by_status(*, column: str, user, win: Window, market: str | None) -> dict[str, int]:
    qs = _user_orders(column, user, market).filter(created_at__gte=win.start, created_at__lt=win.end)
    return {r["status"]: r["n"] for r in qs.values("status").annotate(n=Count("*")).order_by()}


def _user_orders(column: str, user, market: str | None):
    qs = Order.objects.filter(**{column: user.pk})
    return qs.filter(kind=MARKET_KIND[market]) if market else qs


def seller(*, user, win: Window, market: str | None = None) -> dict:
    totals, series, top = _user_facts(column="seller_id", user=user, win=win, market=market, amount="seller_amount",
                                      top=True)
    sales = _user_orders("seller_id", user, market)
    escrow = Escrow.objects.filter(seller=user, status__in=[EscrowStatus.HELD, EscrowStatus.DISPUTED])
    profile = getattr(user, "seller_profile", None)
    return {
        "earnings": totals["amount"], "gross_sales": totals["total"], "paid_orders": totals["orders"],
        "orders_by_status": _created_by_status(column="seller_id", user=user, win=win, market=market),
        "open_orders": sales.filter(status__in=["in_progress", "delivered"]).count(),
        "late_orders": sales.filter(status="in_progress", due_at__lt=timezone.now()).count(),
        "pending_escrow": escrow.aggregate(total=Sum("seller_amount"))["total"] or 0,
        "average_rating": round(profile.rating_sum / profile.rating_count, 2) if profile and profile.rating_count
        else None,
        "top_listings": _titled(top),
        "series": _series(series),
    }


def buyer(*, user, win: Window, market: str | None = None) -> dict:
    totals, series, _ = _user_facts(column="buyer_id", user=user, win=win, market=market, amount="total")
    purchases = _user_orders("buyer_id", user, market)
    return {
        "spent": totals["total"], "paid_orders": totals["orders"],
        "orders_by_status": _created_by_status(column="buyer_id", user=user, win=win, market=market),
        "active_orders": purchases.filter(status__in=["pending_payment", "in_progress", "delivered"]).count(),
        "awaiting_your_acceptance": purchases.filter(status="delivered").count(),
        "series": _series(series),
    }


# --- the operator's overview ---------------------------------------------------------------------


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local day (a midnight skipped by a DST change: the instant of the change)."""
    return datetime.combine(day, time(0), tz)


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _split(win: Window, market: str | None) -> dict:
    """The window cut into its whole local days [d0, d1) = instants [day0, day1), read from the day
    tables (and the log), and the partial days [start, day0) and [day1, end), read from the orders."""
    start_local, end_local = win.start.astimezone(win.tz), win.end.astimezone(win.tz)
    d0 = start_local.date() if start_local.time() == time(0) else start_local.date() + timedelta(days=1)
    d1 = end_local.date()
    if d1 <= d0:  # no whole day inside: all of it from the orders
        d0 = d1 = start_local.date()
        day0 = day1 = win.end
    else:
        day0, day1 = _day_start(d0, win.tz), _day_start(d1, win.tz)
    return {"start": win.start, "end": win.end, "d0": d0, "d1": d1, "day0": day0, "day1": day1,
            "tz": win.tz.key, "trunc": win.period, "kind": MARKET_KIND[market] if market else None,
            "first_day": start_local.date(), "last_day": end_local.date()}


EDGES = "(({at} >= %(start)s AND {at} < %(day0)s) OR ({at} >= %(day1)s AND {at} < %(end)s))"
WHOLE_DAYS = "day >= %(d0)s AND day < %(d1)s"
LOGGED = "{at} >= %(day0)s AND {at} < %(day1)s"


def overview(*, win: Window, market: str | None = None) -> dict:
    services.dashboards_ready(tz_name=win.tz.key)
    p = _split(win, market)
    kind = " AND kind = %(kind)s" if p["kind"] else ""
    o_kind = " AND o.kind = %(kind)s" if p["kind"] else ""
    edge_facts = _paid_facts("TRUE" + o_kind, EDGES)
    # Per bucket: paid orders, revenue, commission, and the paid orders created at or after the
    # window's start (the conversion): paid on a whole day and created on one (day tables, log),
    # created in the partial first day and paid on a whole day, or paid on a partial day (orders).
    series = _rows(f"""
        SELECT date_trunc(%(trunc)s, d)::date, sum(orders), sum(total), sum(commission), sum(converted) FROM (
            SELECT day::timestamp AS d, orders, total, commission,
                   CASE WHEN created_day >= %(d0)s THEN orders ELSE 0 END AS converted
            FROM analytics_paidday WHERE {WHOLE_DAYS}{kind}
            UNION ALL
            SELECT paid_at AT TIME ZONE %(tz)s, sign * orders, sign * total, sign * commission,
                   CASE WHEN created_at >= %(day0)s THEN sign * orders ELSE 0 END
            FROM analytics_orderlog WHERE paid_at IS NOT NULL AND {LOGGED.replace("{at}", "paid_at")}{kind}
            UNION ALL
            SELECT paid_at AT TIME ZONE %(tz)s, 0, 0, 0, 1 FROM orders_order
            WHERE created_at >= %(start)s AND created_at < %(day0)s AND paid_at >= %(day0)s AND paid_at < %(day1)s{kind}
            UNION ALL
            SELECT at AT TIME ZONE %(tz)s, orders, total, commission,
                   CASE WHEN created_at >= %(start)s THEN orders ELSE 0 END FROM ({edge_facts}) f) t
        GROUP BY 1 HAVING sum(orders) > 0 OR sum(total) > 0 ORDER BY 1""", p)
    by_status = _by_status(_rows(f"""
        SELECT status, sum(n) FROM (
            SELECT status, orders AS n FROM analytics_createdday WHERE {WHOLE_DAYS}{kind}
            UNION ALL
            SELECT status, sign FROM analytics_orderlog WHERE status IS NOT NULL
                AND {LOGGED.replace("{at}", "created_at")}{kind}
            UNION ALL
            SELECT status, 1 FROM orders_order WHERE {EDGES.replace("{at}", "created_at")}{kind}) t
        GROUP BY status HAVING sum(n) > 0 ORDER BY status""", p))
    created = sum(by_status.values())
    converted = sum(int(r[4]) for r in series)
    listings = _rows(f"""
        SELECT count(*), avg(rating_sum * 1.0 / rating_count) FILTER (WHERE rating_count > 0) FROM catalog_listing
        WHERE status = 'published' AND NOT hidden{" AND market = %(market)s" if market else ""}""",
                     {"market": market})[0]
    pending = _rows(f"""
        SELECT coalesce(sum(amount), 0) FROM escrow_escrow
        WHERE status IN ('held', 'disputed'){" AND order_kind = %(kind)s" if market else ""}""", p)[0][0]
    return {
        "revenue": sum(int(r[2]) for r in series), "commission": sum(int(r[3]) for r in series),
        "paid_orders": sum(int(r[1]) for r in series), "created_orders": created,
        "conversion": round(converted / created, 4) if created else None,
        "orders_by_status": by_status,
        "average_rating": round(float(listings[1]), 2) if listings[1] is not None else None,
        "published_listings": listings[0],
        "pending_escrow": int(pending),
        "top_listings": _titled(_top_listings(p, edge_facts)),
        "series": _series(series),
    }


def _top_listings(p: dict, edge_facts: str) -> list[tuple]:
    """The listings with the most revenue in the window, exactly, without summing every listing.

    Every payment of the window lies in a local month from its first day's to its last day's. The
    TOP_K best listings of each month (an index of ListingMonth) are the candidates, and the K-th's
    revenue that month bounds any other listing's; with the log's additions not folded yet, U bounds
    what any non-candidate made in the window. The candidates' revenue in the window is summed
    exactly (whole months, whole days, log, partial days); when the fifth is above U no other
    listing can be in the top five. Otherwise (flat sales) every listing of the window is summed."""
    kind = " AND kind = %(kind)s" if p["kind"] else ""
    months, month = [], _month(p["first_day"])
    while month <= p["last_day"]:
        months.append(month)
        month = _next_month(month)
    best = _rows(f"""
        SELECT mm.month, t.listing_id, t.total FROM unnest(%(months)s::date[]) AS mm(month)
        CROSS JOIN LATERAL (SELECT listing_id, total FROM analytics_listingmonth
                            WHERE month = mm.month{kind} ORDER BY total DESC LIMIT %(k)s) t""",
                 p | {"months": months, "k": TOP_K})
    per_month: dict[date, list[int]] = {}
    for month, _, total in best:
        per_month.setdefault(month, []).append(total)
    unfolded = _rows(f"SELECT coalesce(sum(total), 0) FROM analytics_orderlog WHERE sign > 0 AND paid_at IS NOT NULL"
                     f"{kind}", p)[0][0]
    bound = sum(min(totals) for totals in per_month.values() if len(totals) == TOP_K) + int(unfolded)
    d0, d1 = p["d0"], p["d1"]
    m0, m1 = (d0 if d0.day == 1 else _next_month(d0)), _month(d1)  # whole months [m0, m1) in [d0, d1)
    if m1 < m0:
        m0 = m1 = d0
    sources = f"""
        SELECT listing_id, orders, total FROM analytics_listingmonth WHERE month >= %(m0)s AND month < %(m1)s{kind}
            {{only}}
        UNION ALL
        SELECT listing_id, orders, total FROM analytics_listingday
        WHERE ((day >= %(d0)s AND day < %(m0)s) OR (day >= %(m1)s AND day < %(d1)s)){kind} {{only}}
        UNION ALL
        SELECT listing_id, sign * orders, sign * total FROM analytics_orderlog
        WHERE paid_at IS NOT NULL AND {LOGGED.replace("{at}", "paid_at")}{kind} {{only}}
        UNION ALL
        SELECT listing_id, orders, total FROM ({edge_facts}) f WHERE TRUE {{only}}"""
    top = f"""
        SELECT listing_id, sum(orders) AS n, sum(total) AS amount FROM ({sources}) t GROUP BY listing_id
        HAVING sum(orders) > 0 OR sum(total) > 0 ORDER BY amount DESC, n DESC LIMIT {TOP}"""
    params = p | {"m0": m0, "m1": m1, "candidates": list({row[1] for row in best})}
    rows = _rows(top.format(only="AND listing_id = ANY(%(candidates)s)"), params)
    if bound == 0 or (len(rows) == TOP and rows[-1][2] > bound):
        return rows
    return _rows(top.format(only=""), params)

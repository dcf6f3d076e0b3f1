"""The figures the dashboards draw, computed with aggregate queries (a handful per dashboard, none per
row), bucketed by day, week or month in the marketplace's time zone.

- overview (operator): revenue, commission, orders by status, conversion, average rating, pending
  escrow, top listings, and a time series of orders and revenue;
- seller: earnings, sales by status, pending escrow, rating, top listings, series;
- buyer: spending, purchases by status, active orders, series.
Revenue counts orders whose payment arrived (paid_at set), at the time it arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from osdm.catalog.models import Listing
from osdm.escrow.models import Escrow, EscrowStatus
from osdm.orders.models import Order

TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
MARKET_KIND = {"products": "product", "services": "service", "projects": "contract"}


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


def _orders(market: str | None) -> QuerySet[Order]:
    qs = Order.objects.all()
    return qs.filter(kind=MARKET_KIND[market]) if market else qs


def _series(paid: QuerySet[Order], win: Window, amount_field: str) -> list[dict]:
    trunc = TRUNC[win.period]("paid_at", tzinfo=win.tz)
    rows = (paid.annotate(bucket=trunc).values("bucket")
            .annotate(orders=Count("id"), amount=Sum(amount_field)).order_by("bucket"))
    return [{"bucket": row["bucket"].astimezone(win.tz).date().isoformat(), "orders": row["orders"],
             "amount": row["amount"] or 0} for row in rows]


def _by_status(qs: QuerySet[Order]) -> dict[str, int]:
    return {row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("id")).order_by()}


def _top_listings(paid: QuerySet[Order], amount_field: str, limit: int = 5) -> list[dict]:
    rows = (paid.values("listing_id", "listing__title").annotate(orders=Count("id"), amount=Sum(amount_field))
            .order_by("-amount", "-orders")[:limit])
    return [{"listing_id": str(r["listing_id"]), "title": r["listing__title"], "orders": r["orders"],
             "amount": r["amount"] or 0} for r in rows]


def overview(*, win: Window, market: str | None = None) -> dict:
    created = _orders(market).filter(created_at__gte=win.start, created_at__lt=win.end)
    paid = _orders(market).filter(paid_at__gte=win.start, paid_at__lt=win.end)
    totals = paid.aggregate(revenue=Sum("total"), commission=Sum("commission"), orders=Count("id"))
    created_count = created.count()
    listings = Listing.objects.filter(status=Listing.Status.PUBLISHED, hidden=False)
    if market:
        listings = listings.filter(market=market)
    rating = listings.filter(rating_count__gt=0).aggregate(avg=Avg(F("rating_sum") * 1.0 / F("rating_count")))
    escrow = Escrow.objects.filter(status__in=[EscrowStatus.HELD, EscrowStatus.DISPUTED])
    if market:
        escrow = escrow.filter(order__kind=MARKET_KIND[market])
    return {
        "revenue": totals["revenue"] or 0, "commission": totals["commission"] or 0,
        "paid_orders": totals["orders"], "created_orders": created_count,
        "conversion": round(paid.filter(created_at__gte=win.start).count() / created_count, 4) if created_count else None,
        "orders_by_status": _by_status(created),
        "average_rating": round(rating["avg"], 2) if rating["avg"] is not None else None,
        "published_listings": listings.count(),
        "pending_escrow": escrow.aggregate(total=Sum("amount"))["total"] or 0,
        "top_listings": _top_listings(paid, "total"),
        "series": _series(paid, win, "total"),
    }


def seller(*, user, win: Window, market: str | None = None) -> dict:
    sales = _orders(market).filter(seller=user)
    paid = sales.filter(paid_at__gte=win.start, paid_at__lt=win.end)
    totals = paid.aggregate(earnings=Sum("seller_amount"), gross=Sum("total"), orders=Count("id"))
    escrow = Escrow.objects.filter(seller=user, status__in=[EscrowStatus.HELD, EscrowStatus.DISPUTED])
    profile = getattr(user, "seller_profile", None)
    return {
        "earnings": totals["earnings"] or 0, "gross_sales": totals["gross"] or 0, "paid_orders": totals["orders"],
        "orders_by_status": _by_status(sales.filter(created_at__gte=win.start, created_at__lt=win.end)),
        "open_orders": sales.filter(status__in=["in_progress", "delivered"]).count(),
        "late_orders": sales.filter(status="in_progress", due_at__lt=timezone.now()).count(),
        "pending_escrow": escrow.aggregate(total=Sum("seller_amount"))["total"] or 0,
        "average_rating": round(profile.rating_sum / profile.rating_count, 2) if profile and profile.rating_count
        else None,
        "top_listings": _top_listings(paid, "seller_amount"),
        "series": _series(paid, win, "seller_amount"),
    }


def buyer(*, user, win: Window, market: str | None = None) -> dict:
    purchases = _orders(market).filter(buyer=user)
    paid = purchases.filter(paid_at__gte=win.start, paid_at__lt=win.end)
    return {
        "spent": paid.aggregate(total=Sum("total"))["total"] or 0, "paid_orders": paid.count(),
        "orders_by_status": _by_status(purchases.filter(created_at__gte=win.start, created_at__lt=win.end)),
        "active_orders": purchases.filter(Q(status__in=["pending_payment", "in_progress", "delivered"])).count(),
        "awaiting_your_acceptance": purchases.filter(status="delivered").count(),
        "series": _series(paid, win, "total"),
    }

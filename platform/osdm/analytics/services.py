"""Keeping the dashboards' per-day tables: folding the order log into them, rebuilding them.

Both run under one advisory lock per marketplace schema, so folds never interleave. A fold moves
the log rows committed so far (DELETE .. RETURNING sees exactly those) into the day tables in one
statement: a reader's statement sees the log rows either still in the log or already in the
tables, never both or neither. A rebuild (first use, or the marketplace changed its time zone)
locks the log against writers for its duration, so the orders it reads and the log it empties are
the same moment; it takes seconds on a million orders, and blocks order writes meanwhile.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from .models import DashboardState

# The facts of the orders and milestones as they are now (as the triggers of migration 0002 log them).
CURRENT_FACTS = """
    SELECT 1 AS sign, kind, status, listing_id, created_at, paid_at, 1 AS orders,
           CASE WHEN kind = 'contract' THEN 0 ELSE total END AS total,
           CASE WHEN kind = 'contract' THEN 0 ELSE commission END AS commission
    FROM orders_order
    UNION ALL
    SELECT 1, o.kind, NULL, o.listing_id, o.created_at, m.funded_at, 0, m.amount, m.commission
    FROM orders_milestone m JOIN orders_order o ON o.id = m.order_id WHERE m.funded_at IS NOT NULL"""
LOGGED_FACTS = """
    DELETE FROM analytics_orderlog
    RETURNING sign, kind, status, listing_id, created_at, paid_at, orders, total, commission"""

# Adds signed facts (the `moved` rows) to the day tables, in the time zone %(tz)s.
FOLD = """
WITH moved AS MATERIALIZED ({source}),
created AS (
    INSERT INTO analytics_createdday AS t (day, kind, status, orders)
    SELECT (created_at AT TIME ZONE %(tz)s)::date, kind, status, sum(sign) FROM moved
    WHERE status IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT (day, kind, status) DO UPDATE SET orders = t.orders + excluded.orders),
paid AS (
    INSERT INTO analytics_paidday AS t (day, created_day, kind, orders, total, commission)
    SELECT (paid_at AT TIME ZONE %(tz)s)::date, (created_at AT TIME ZONE %(tz)s)::date, kind, sum(sign * orders),
           sum(sign * total), sum(sign * commission)
    FROM moved WHERE paid_at IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT (day, created_day, kind) DO UPDATE SET orders = t.orders + excluded.orders,
        total = t.total + excluded.total, commission = t.commission + excluded.commission),
listing_day AS (
    INSERT INTO analytics_listingday AS t (day, kind, listing_id, orders, total)
    SELECT (paid_at AT TIME ZONE %(tz)s)::date, kind, listing_id, sum(sign * orders), sum(sign * total)
    FROM moved WHERE paid_at IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT (day, kind, listing_id) DO UPDATE SET orders = t.orders + excluded.orders,
        total = t.total + excluded.total),
listing_month AS (
    INSERT INTO analytics_listingmonth AS t (month, kind, listing_id, orders, total)
    SELECT date_trunc('month', paid_at AT TIME ZONE %(tz)s)::date, kind, listing_id, sum(sign * orders),
           sum(sign * total)
    FROM moved WHERE paid_at IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT (month, kind, listing_id) DO UPDATE SET orders = t.orders + excluded.orders,
        total = t.total + excluded.total)
SELECT count(*) FROM moved"""
DAY_TABLES = ("analytics_createdday", "analytics_paidday", "analytics_listingday", "analytics_listingmonth")


def _lock(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('osdm.analytics:' || current_schema(), 0))")


def dashboards_fold(*, tz_name: str) -> int:
    """Move the committed log into the day tables (rebuilding them first if they are missing or in
    another time zone). Returns the number of log rows folded (facts counted, on a rebuild)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        state = DashboardState.objects.filter(pk=1).first()
        if state is None or state.timezone != tz_name:
            return _rebuild(cursor, tz_name)
        cursor.execute(FOLD.format(source=LOGGED_FACTS), {"tz": tz_name})
        folded = cursor.fetchone()[0]
        if folded:
            cursor.execute("DELETE FROM analytics_createdday WHERE orders = 0")
        DashboardState.objects.filter(pk=1).update(folded_at=timezone.now())
        return folded


def dashboards_ready(*, tz_name: str) -> None:
    """Make sure the day tables are in `tz_name` before they are read (a marketplace that just
    changed its time zone pays the rebuild on the first dashboard asked for, if beat was not first)."""
    state = DashboardState.objects.filter(pk=1).values_list("timezone", flat=True).first()
    if state != tz_name:
        dashboards_fold(tz_name=tz_name)


def _rebuild(cursor, tz_name: str) -> int:
    # ACCESS EXCLUSIVE: waits for the transactions that wrote log rows to end, and keeps others from
    # writing any (or changing an order, whose triggers write here) until this commits.
    cursor.execute("LOCK TABLE analytics_orderlog IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"TRUNCATE analytics_orderlog, {', '.join(DAY_TABLES)}")
    cursor.execute(FOLD.format(source=CURRENT_FACTS), {"tz": tz_name})
    facts = cursor.fetchone()[0]
    now = timezone.now()
    DashboardState.objects.update_or_create(pk=1, defaults={"timezone": tz_name, "built_at": now, "folded_at": now})
    return facts

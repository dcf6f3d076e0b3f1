"""Per-day pre-aggregates of the orders, for the operator's dashboard, kept exact by the database.

The dashboards count two kinds of facts (osdm.analytics.selectors):
- an order *created* (its current kind and status, at created_at);
- a *payment*: an order paid (one paid order, and the money: the order's total and commission, at
  paid_at), or a contract's milestone funded (no order, the milestone's money, at funded_at; a
  contract's own fact carries no money, its `paid_at` being its first milestone's funding).

Every change to orders_order and orders_milestone that touches a fact is written to OrderLog by
statement triggers (migration 0002), in the changing statement's transaction: a -1 row for the
fact as it was and a +1 row for the fact as it is. No code path (service, bulk update, data
migration) can change an order without its log rows, and inserting log rows never waits for
another transaction (no hot counter row to lock under concurrent checkouts).

`services.dashboards_fold()` (beat, every minute) moves the log into the per-day tables, in the
marketplace's time zone, in one transaction: the day tables plus the log are, at every moment, the
exact sums over the orders. A day table with another time zone than the marketplace's is rebuilt
from the orders before it is read (`DashboardState`).
"""

from __future__ import annotations

from django.db import models


class OrderLog(models.Model):
    """A signed fact: +1 when it appears (or changes to this), -1 when it goes (or changes from this)."""

    id = models.BigAutoField(primary_key=True)
    sign = models.SmallIntegerField()
    kind = models.CharField(max_length=16)
    # NULL for a milestone's payment (no order counted): written by SQL only, never through a form.
    status = models.CharField(max_length=20, null=True)  # noqa: DJ001
    listing_id = models.UUIDField()
    created_at = models.DateTimeField()  # the order's
    paid_at = models.DateTimeField(null=True)  # the payment's: the order's paid_at, or the milestone's funded_at
    orders = models.SmallIntegerField()  # 1 for an order, 0 for a milestone
    total = models.BigIntegerField()
    commission = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.sign:+d} {self.kind} {self.status or 'payment'}"


class CreatedDay(models.Model):
    """Orders created on a (local) day, by kind and current status."""

    pk = models.CompositePrimaryKey("day", "kind", "status")
    day = models.DateField()
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=20)
    orders = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.status}: {self.orders}"


class PaidDay(models.Model):
    """Payments on a (local) day, by the day their order was created (for the conversion) and kind."""

    pk = models.CompositePrimaryKey("day", "created_day", "kind")
    day = models.DateField()
    created_day = models.DateField()
    kind = models.CharField(max_length=16)
    orders = models.IntegerField()
    total = models.BigIntegerField()
    commission = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.orders}, {self.total}"


class ListingPayments(models.Model):
    """Payments per listing over a period (ListingDay, ListingMonth)."""

    kind = models.CharField(max_length=16)
    listing_id = models.UUIDField()
    orders = models.IntegerField()
    total = models.BigIntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.listing_id} {self.kind}: {self.orders}, {self.total}"


class ListingDay(ListingPayments):
    """Payments on a (local) day per listing: the top listings' exact figures."""

    pk = models.CompositePrimaryKey("day", "kind", "listing_id")
    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["listing_id", "day"], include=["kind", "orders", "total"],
                                name="analytics_listingday_listing")]


class ListingMonth(ListingPayments):
    """Payments in a (local) month per listing: each month's best sellers, read from an index, bound
    what any other listing can have made, so that the top listings of a window need not sum them all."""

    pk = models.CompositePrimaryKey("month", "kind", "listing_id")
    month = models.DateField()  # its first day

    class Meta:
        indexes = [
            models.Index(fields=["month", "-total"], include=["listing_id"], name="analytics_listingmonth_top"),
            models.Index(fields=["month", "kind", "-total"], include=["listing_id"],
                         name="analytics_listingmonth_ktop"),
            models.Index(fields=["listing_id", "month"], include=["kind", "orders", "total"],
                         name="analytics_listingmonth_lst"),
        ]


class DashboardState(models.Model):
    """One row: the time zone the day tables are in (none yet: they are built on first use)."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    timezone = models.CharField(max_length=64)
    built_at = models.DateTimeField()
    folded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"day tables in {self.timezone}"

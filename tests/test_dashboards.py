"""Dashboards: their figures equal a direct computation on the same data, in the marketplace's
time zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from osdm.orders.models import Order
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import user
from .test_money import _pay, _service_order

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

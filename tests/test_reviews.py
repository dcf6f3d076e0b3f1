"""Reviews: only after completion, once each, blind until both wrote or 14 days passed, exact
aggregates, one reply, operator hiding."""

from datetime import timedelta

import pytest
from django.utils import timezone

from osdm.orders.models import Order
from osdm.reviews.services import reviews_unblind
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import user
from .test_money import _pay, _service_order

pytestmark = pytest.mark.django_db


def _completed(api, market, seller=None):
    seller, buyer, order = _service_order(api, market, seller=seller)
    _pay(market, order["payment"]["id"])
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    buyer.post(f"/api/v1/orders/{order['id']}/complete")
    return seller, buyer, order


def test_reviews_wait_for_completion_and_for_both_sides(api, alpha):
    seller, buyer, order = _service_order(api, alpha)
    path = f"/api/v1/orders/{order['id']}/reviews"
    assert_error(buyer.post(path, {"rating": 5}), 409, "order_not_completed")
    _pay(alpha, order["payment"]["id"])
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    buyer.post(f"/api/v1/orders/{order['id']}/complete")
    first = buyer.post(path, {"rating": 4, "text": "عمل ممتاز وسريع"})
    assert first.status_code == 201 and first.json()["status"] == "blind"
    assert_error(buyer.post(path, {"rating": 5}), 409, "already_reviewed")
    # blind: the seller cannot read it yet; the public neither
    assert api(alpha).get(f"/api/v1/reviews/?order={order['id']}").json()["results"] == []
    assert seller.get(f"/api/v1/reviews/?order={order['id']}").json()["results"] == []
    second = seller.post(path, {"rating": 5, "text": "Great buyer"})
    assert second.json()["status"] == "published"
    public = api(alpha).get(f"/api/v1/reviews/?order={order['id']}").json()["results"]
    assert {r["role"]: r["rating"] for r in public} == {"buyer": 4, "seller": 5}
    listing = api(alpha).get(f"/api/v1/listings/{order['listing_id']}/").json()
    assert (listing["rating"], listing["rating_count"]) == (4.0, 1)
    profile = seller.get("/api/v1/me").json()["seller_profile"]
    assert (profile["rating"], profile["rating_count"]) == (4.0, 1)
    assert_error(user(api, alpha).post(path, {"rating": 3}), 404)
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "five"}, {"text": "no rating"}, {"rating": 3, "x": 1}):
        assert_error(buyer.post(path, bad), 400)


def test_a_lone_review_is_published_after_the_blind_window(api, alpha):
    _, buyer, order = _completed(api, alpha)
    buyer.post(f"/api/v1/orders/{order['id']}/reviews", {"rating": 2, "text": "late"})
    with tenant_run(alpha.tenant):
        assert reviews_unblind() == 0
        Order.objects.filter(pk=order["id"]).update(completed_at=timezone.now() - timedelta(days=15))
        assert reviews_unblind() == 1
    assert [r["rating"] for r in api(alpha).get(f"/api/v1/reviews/?order={order['id']}").json()["results"]] == [2]


def test_aggregates_stay_exact_through_reply_and_hiding(api, alpha):
    seller = user(api, alpha, seller=True)
    ratings = []
    for rating in (5, 3, 4):
        _, buyer, order = _completed(api, alpha, seller=seller)
        buyer.post(f"/api/v1/orders/{order['id']}/reviews", {"rating": rating})
        seller.post(f"/api/v1/orders/{order['id']}/reviews", {"rating": 5})
        ratings.append(rating)
    profile = seller.get("/api/v1/me").json()["seller_profile"]
    assert (profile["rating_count"], profile["rating"]) == (3, 4.0)
    review = api(alpha).get(f"/api/v1/reviews/?user={seller.user_id}&role=buyer").json()["results"][0]
    assert_error(user(api, alpha).post(f"/api/v1/reviews/{review['id']}/reply", {"text": "x"}), 403)
    assert seller.post(f"/api/v1/reviews/{review['id']}/reply", {"text": "شكرًا لك"}).json()["reply"] == "شكرًا لك"
    assert_error(seller.post(f"/api/v1/reviews/{review['id']}/reply", {"text": "again"}), 409, "already_replied")
    operator = api(alpha, alpha.secret_key)
    assert_error(operator.post(f"/api/v1/reviews/{review['id']}/hide", {}), 400)
    operator.post(f"/api/v1/reviews/{review['id']}/hide", {"reason": "Personal data"})
    profile = seller.get("/api/v1/me").json()["seller_profile"]
    remaining = list(ratings)
    remaining.remove(review["rating"])
    assert profile["rating_count"] == 2
    assert profile["rating"] == round(sum(remaining) / 2, 2)
    assert_error(seller.post(f"/api/v1/reviews/{review['id']}/hide", {"reason": "x"}), 403)


def test_the_rating_filter_and_its_cached_facets_follow_new_reviews(api, alpha):
    seller, buyer, order = _completed(api, alpha)
    query = f"/api/v1/listings/?seller={seller.user_id}&rating=4"
    assert api(alpha).get(query).json()["facets"]["total"] == 0  # unrated yet, and now cached
    buyer.post(f"/api/v1/orders/{order['id']}/reviews", {"rating": 5})
    seller.post(f"/api/v1/orders/{order['id']}/reviews", {"rating": 5})  # both wrote: published
    page = api(alpha).get(query).json()
    assert [r["id"] for r in page["results"]] == [order["listing_id"]] and page["facets"]["total"] == 1

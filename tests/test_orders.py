"""Order lifecycles of the three markets: every allowed move, every forbidden one (409), who may
make each move (403 / 404), amounts, history, and the buyer and seller views."""

import pytest
from django.db import IntegrityError, connection, transaction

from osdm.audit.services import Actor
from osdm.orders import services
from osdm.orders.models import ORDER_TRANSITIONS, Milestone, Order, StatusChange
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import product, project, service, upload, user

pytestmark = pytest.mark.django_db
PAYMENTS = Actor("system", "payments")


def _pay(market, order_id):
    with tenant_run(market.tenant):
        return services.order_mark_paid(actor=PAYMENTS, order=Order.objects.get(pk=order_id))


def _fund(market, milestone_id):
    with tenant_run(market.tenant):
        return services.milestone_mark_funded(actor=PAYMENTS, milestone=Milestone.objects.get(pk=milestone_id))


def _history(market, order_id) -> list[tuple[str, str]]:
    with tenant_run(market.tenant):
        return list(StatusChange.objects.filter(order_id=order_id, milestone__isnull=True)
                    .values_list("from_status", "to_status"))


def test_a_product_purchase_completes_when_paid_and_unlocks_its_files(api, alpha):
    seller = user(api, alpha, seller=True)
    item = product(seller, alpha, price=4999)
    buyer = user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": item["id"]}).json()
    assert order["kind"] == "product" and order["status"] == "pending_payment"
    # 10 % commission of 49.99 rounds half up to 5.00
    assert (order["subtotal"], order["commission"], order["seller_amount"], order["total"]) == (4999, 500, 4499, 4999)
    file_id = item["files"][0]["id"]
    assert_error(buyer.get(f"/api/v1/files/{file_id}/download"), 404)  # not paid yet
    assert buyer.get("/api/v1/me/library/").json()["results"] == []
    _pay(alpha, order["id"])
    paid = buyer.get(f"/api/v1/orders/{order['id']}/").json()
    assert paid["status"] == "completed" and paid["paid_at"] and paid["completed_at"]
    download = buyer.get(f"/api/v1/files/{file_id}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert [o["id"] for o in buyer.get("/api/v1/me/library/").json()["results"]] == [order["id"]]
    assert api(alpha).get(f"/api/v1/listings/{item['id']}/").json()["sales_count"] == 1
    assert _history(alpha, order["id"]) == [("", "pending_payment"), ("pending_payment", "completed")]
    stranger = user(api, alpha)
    assert_error(stranger.get(f"/api/v1/files/{file_id}/download"), 404)
    assert_error(stranger.get(f"/api/v1/orders/{order['id']}/"), 404, "order_not_found")
    # a completed product order cannot move again
    assert_error(buyer.post(f"/api/v1/orders/{order['id']}/cancel"), 409, "invalid_transition")
    with pytest.raises(Exception, match="cannot become"):
        _pay(alpha, order["id"])


def test_a_service_order_goes_through_delivery_revision_and_acceptance(api, alpha):
    seller = user(api, alpha, seller=True)
    gig = service(seller, alpha)
    buyer = user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "نخيل"}]}).json()
    assert order["status"] == "pending_payment" and order["revisions_included"] == 1
    path = f"/api/v1/orders/{order['id']}"
    assert_error(seller.post(f"{path}/deliver", {"message": "early"}), 409, "invalid_transition")
    assert_error(buyer.post(f"{path}/complete"), 409, "invalid_transition")
    _pay(alpha, order["id"])
    started = buyer.get(f"{path}/").json()
    assert started["status"] == "in_progress" and started["due_at"] and started["is_late"] is False
    attachment = upload(seller, "draft.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, purpose="delivery")
    assert_error(buyer.post(f"{path}/deliver", {"message": "x"}), 403, "not_the_seller")
    delivered = seller.post(f"{path}/deliver", {"message": "Here it is", "file_ids": [attachment]})
    assert delivered.status_code == 201, delivered.content
    assert buyer.get(f"/api/v1/files/{attachment}/download").status_code == 200  # the buyer can read it
    assert_error(user(api, alpha).get(f"/api/v1/files/{attachment}/download"), 404)  # a stranger cannot
    assert_error(seller.post(f"{path}/complete"), 403, "not_the_buyer")  # a seller cannot accept their own work
    revised = buyer.post(f"{path}/revision", {"message": "Bigger, please"}).json()
    assert revised["status"] == "in_progress" and revised["revisions_used"] == 1
    seller.post(f"{path}/deliver", {"message": "Bigger"})
    assert_error(buyer.post(f"{path}/revision", {"message": "Again"}), 409, "no_revisions_left")
    done = buyer.post(f"{path}/complete").json()
    assert done["status"] == "completed"
    assert [h["to_status"] for h in done["history"]] == [
        "pending_payment", "in_progress", "delivered", "in_progress", "delivered", "completed"]
    assert {h["actor_id"] for h in done["history"][2:]} == {buyer.user_id, seller.user_id}
    assert len(done["deliveries"]) == 2
    assert_error(buyer.post(f"{path}/complete"), 409, "invalid_transition")
    assert_error(seller.post(f"{path}/deliver", {"message": "late"}), 409, "invalid_transition")


def test_late_delivery_is_visible(api, alpha):
    from datetime import timedelta

    from django.utils import timezone

    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": service(seller, alpha)["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    _pay(alpha, order["id"])
    with tenant_run(alpha.tenant):
        Order.objects.filter(pk=order["id"]).update(due_at=timezone.now() - timedelta(hours=1))
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["is_late"] is True


@pytest.mark.parametrize(("body", "code"), [
    ({"package": "gold"}, "validation_error"),
    ({"package": "standard"}, "unknown_package"),
    ({}, "validation_error"),
    ({"package": "basic", "requirements": []}, "requirements_missing"),
    ({"package": "basic", "requirements": [{"question": "Brand name?", "answer": "  "}]}, "requirements_missing"),
    ({"package": "basic", "requirements": [{"question": "Shoe size?", "answer": "9"}]}, "validation_error"),
])
def test_bad_service_orders_are_refused_and_write_nothing(api, alpha, body, code):
    seller = user(api, alpha, seller=True)
    gig = service(seller, alpha)
    buyer = user(api, alpha)
    assert_error(buyer.post("/api/v1/orders/", {"listing_id": gig["id"], **body}), 400, code)
    with tenant_run(alpha.tenant):
        assert not Order.objects.filter(listing_id=gig["id"]).exists()


def test_ordering_what_cannot_be_ordered(api, alpha):
    seller = user(api, alpha, seller=True)
    gig = service(seller, alpha)
    assert_error(seller.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic"}), 409, "own_listing")
    buyer = user(api, alpha)
    draft = service(seller, alpha, publish=False)
    assert_error(buyer.post("/api/v1/orders/", {"listing_id": draft["id"], "package": "basic"}), 404)
    posted = project(user(api, alpha), alpha)
    assert_error(buyer.post("/api/v1/orders/", {"listing_id": posted["id"]}), 400, "not_orderable")
    assert_error(buyer.post("/api/v1/orders/", {"listing_id": "not-a-uuid"}), 400)
    item = product(seller, alpha)
    assert_error(buyer.post("/api/v1/orders/", {"listing_id": item["id"], "package": "basic"}), 400, "not_applicable")
    assert_error(api(alpha, alpha.secret_key).post("/api/v1/orders/", {"listing_id": item["id"]}), 403)


def test_cancellation_rules(api, alpha):
    seller = user(api, alpha, seller=True)
    gig = service(seller, alpha)
    buyer = user(api, alpha)
    body = {"listing_id": gig["id"], "package": "basic", "requirements": [{"question": "Brand name?", "answer": "x"}]}
    first = buyer.post("/api/v1/orders/", body).json()
    assert_error(seller.post(f"/api/v1/orders/{first['id']}/cancel"), 403, "not_the_buyer")
    assert buyer.post(f"/api/v1/orders/{first['id']}/cancel", {"reason": "changed my mind"}).json()["status"] == "cancelled"
    second = buyer.post("/api/v1/orders/", body).json()
    _pay(alpha, second["id"])
    assert_error(buyer.post(f"/api/v1/orders/{second['id']}/cancel"), 403, "not_allowed")
    operator = api(alpha, alpha.secret_key)
    assert operator.post(f"/api/v1/orders/{second['id']}/cancel", {"reason": "fraud"}).json()["status"] == "cancelled"


def test_every_forbidden_transition_is_refused_by_the_guard(api, alpha):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    item = product(seller, alpha)
    with tenant_run(alpha.tenant):
        order = services.order_place(actor=PAYMENTS, buyer=_user(buyer), listing_id=item["id"])
        for kind, table in ORDER_TRANSITIONS.items():
            everything = set().union(*table.values()) | set(table)
            for source, allowed in table.items():
                for target in everything - allowed:
                    order.kind, order.status = kind, source
                    with pytest.raises(Exception, match="cannot become") as raised:
                        services._transition(order, target, actor=PAYMENTS)
                    assert raised.value.code == "invalid_transition" and raised.value.status_code == 409


def _user(client):
    from osdm.accounts.models import User

    return User.objects.get(pk=client.user_id)


def test_the_database_refuses_a_state_outside_the_machine(api, alpha):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, alpha)["id"]}).json()
    with tenant_run(alpha.tenant):
        for status in ("in_progress", "teleported"):  # in_progress is not a product state
            with pytest.raises(IntegrityError), transaction.atomic():
                Order.objects.filter(pk=order["id"]).update(status=status)
        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.filter(pk=order["id"]).update(commission=1)  # amounts must balance


def test_proposals_become_a_contract_paid_milestone_by_milestone(api, alpha):
    poster = user(api, alpha)
    job = project(poster, alpha, budget_max=900000)
    first, second = user(api, alpha, seller=True), user(api, alpha, seller=True)
    milestones = [{"title": "تصميم الواجهات", "amount": 300001, "due_days": 10},
                  {"title": "البرمجة", "amount": 499999, "due_days": 30}]
    proposal = first.post(f"/api/v1/listings/{job['id']}/proposals/", {
        "cover_letter": "لدي خبرة خمس سنوات", "amount": 800000, "duration_days": 40, "milestones": milestones})
    assert proposal.status_code == 201, proposal.content
    other = second.post(f"/api/v1/listings/{job['id']}/proposals/", {
        "cover_letter": "I can do it", "amount": 700000, "duration_days": 30}).json()
    # the poster sees both, each seller only their own
    assert len(poster.get(f"/api/v1/listings/{job['id']}/proposals/").json()["results"]) == 2
    assert [p["id"] for p in second.get(f"/api/v1/listings/{job['id']}/proposals/").json()["results"]] == [other["id"]]
    assert_error(first.post(f"/api/v1/proposals/{proposal.json()['id']}/accept"), 403, "not_the_buyer")
    contract = poster.post(f"/api/v1/proposals/{proposal.json()['id']}/accept")
    assert contract.status_code == 201, contract.content
    contract = contract.json()
    assert contract["kind"] == "contract" and contract["status"] == "in_progress"
    assert contract["seller_id"] == first.user_id and contract["buyer_id"] == poster.user_id
    assert [m["amount"] for m in contract["milestones"]] == [300001, 499999]
    assert sum(m["commission"] for m in contract["milestones"]) == contract["commission"] == 80000
    assert all(m["status"] == "pending_funding" for m in contract["milestones"])
    # the others are declined, the project closed, and nobody can accept twice
    assert second.get("/api/v1/proposals/?role=seller").json()["results"][0]["status"] == "declined"
    assert api(alpha).get(f"/api/v1/listings/{job['id']}/").status_code == 404  # closed: out of the market
    assert poster.get(f"/api/v1/listings/{job['id']}/").json()["status"] == "closed"
    assert_error(poster.post(f"/api/v1/proposals/{proposal.json()['id']}/accept"), 409)
    assert_error(poster.post(f"/api/v1/proposals/{other['id']}/accept"), 409)
    # milestone by milestone
    path = f"/api/v1/orders/{contract['id']}"
    one, two = (m["id"] for m in contract["milestones"])
    assert_error(first.post(f"{path}/deliver", {"message": "x", "milestone_id": one}), 409, "invalid_transition")
    _fund(alpha, one)
    assert_error(first.post(f"{path}/deliver", {"message": "x"}), 400)  # which milestone?
    first.post(f"{path}/deliver", {"message": "Designs", "milestone_id": one})
    assert poster.post(f"{path}/milestones/{one}/revision", {"message": "Greener"}).json()["status"] == "funded"
    first.post(f"{path}/deliver", {"message": "Greener designs", "milestone_id": one})
    assert_error(first.post(f"{path}/milestones/{one}/accept"), 403, "not_the_buyer")
    assert poster.post(f"{path}/milestones/{one}/accept").json()["status"] == "accepted"
    assert poster.get(f"{path}/").json()["status"] == "in_progress"
    _fund(alpha, two)
    first.post(f"{path}/deliver", {"message": "App", "milestone_id": two})
    poster.post(f"{path}/milestones/{two}/accept")
    assert poster.get(f"{path}/").json()["status"] == "completed"
    assert_error(poster.post(f"{path}/milestones/{two}/accept"), 409, "invalid_transition")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"cover_letter": "x", "amount": 100, "duration_days": 5,
      "milestones": [{"title": "a", "amount": 60}, {"title": "b", "amount": 50}]}, 400, "milestones_mismatch"),
    ({"cover_letter": "x", "amount": -100, "duration_days": 5}, 400, "validation_error"),
    ({"cover_letter": "x", "amount": 100, "duration_days": 0}, 400, "validation_error"),
    ({"cover_letter": "x", "amount": 10**15, "duration_days": 5}, 400, "validation_error"),
])
def test_bad_proposals(api, alpha, body, status, code):
    job = project(user(api, alpha), alpha)
    assert_error(user(api, alpha, seller=True).post(f"/api/v1/listings/{job['id']}/proposals/", body), status, code)


def test_proposal_rules(api, alpha):
    poster = user(api, alpha)
    job = project(poster, alpha)
    body = {"cover_letter": "x", "amount": 1000, "duration_days": 5}
    poster_as_seller = poster.put("/api/v1/me/seller-profile", {"display_name": "P", "country": "SA"})
    assert poster_as_seller.status_code == 200
    assert_error(poster.post(f"/api/v1/listings/{job['id']}/proposals/", body), 409, "own_listing")
    assert_error(user(api, alpha).post(f"/api/v1/listings/{job['id']}/proposals/", body), 403,
                 "seller_profile_required")
    seller = user(api, alpha, seller=True)
    sent = seller.post(f"/api/v1/listings/{job['id']}/proposals/", body).json()
    assert_error(seller.post(f"/api/v1/listings/{job['id']}/proposals/", body), 409, "proposal_exists")
    assert seller.post(f"/api/v1/proposals/{sent['id']}/withdraw").json()["status"] == "withdrawn"
    again = seller.post(f"/api/v1/listings/{job['id']}/proposals/", body)  # a new one after withdrawing
    assert again.status_code == 201
    assert poster.post(f"/api/v1/proposals/{again.json()['id']}/decline").json()["status"] == "declined"
    assert_error(user(api, alpha).post(f"/api/v1/proposals/{again.json()['id']}/accept"), 404, "proposal_not_found")
    gig = service(seller, alpha)
    assert_error(user(api, alpha, seller=True).post(f"/api/v1/listings/{gig['id']}/proposals/", body), 404)


def test_buyer_and_seller_views_filter_and_paginate(api, alpha):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    item, gig = product(seller, alpha), service(seller, alpha)
    bought = buyer.post("/api/v1/orders/", {"listing_id": item["id"]}).json()
    ordered = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "premium",
                                             "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    _pay(alpha, bought["id"])
    as_buyer = [o["id"] for o in buyer.get("/api/v1/orders/?role=buyer").json()["results"]]
    assert set(as_buyer) == {bought["id"], ordered["id"]}
    assert buyer.get("/api/v1/orders/?role=seller").json()["results"] == []
    sales = seller.get("/api/v1/orders/?role=seller&market=services&status=pending_payment").json()["results"]
    assert [o["id"] for o in sales] == [ordered["id"]]
    assert [o["id"] for o in seller.get("/api/v1/orders/?role=seller&market=products").json()["results"]] == [bought["id"]]
    page = seller.get("/api/v1/orders/?role=seller&limit=1").json()
    assert len(page["results"]) == 1 and page["next"]
    inventory = seller.get("/api/v1/me/listings/?market=services").json()["results"]
    assert [i["id"] for i in inventory] == [gig["id"]]
    for bad in ("role=admin", "market=food", "status=lost"):
        assert_error(buyer.get(f"/api/v1/orders/?{bad}"), 400)
    operator = api(alpha, alpha.secret_key)
    assert {bought["id"], ordered["id"]} <= {o["id"] for o in operator.get("/api/v1/orders/?limit=100").json()["results"]}


def test_orders_and_proposals_never_cross_tenants(api, alpha, beta):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, alpha)["id"]}).json()
    job = project(buyer, alpha)
    proposal = seller.post(f"/api/v1/listings/{job['id']}/proposals/",
                           {"cover_letter": "x", "amount": 100, "duration_days": 1}).json()
    outsider = user(api, beta, seller=True)
    assert_error(outsider.get(f"/api/v1/orders/{order['id']}/"), 404)
    assert_error(outsider.post(f"/api/v1/proposals/{proposal['id']}/accept"), 404)
    assert_error(outsider.post(f"/api/v1/listings/{job['id']}/proposals/",
                               {"cover_letter": "x", "amount": 100, "duration_days": 1}), 404)
    assert outsider.get("/api/v1/orders/").json()["results"] == []
    assert_error(api(beta, beta.secret_key).get(f"/api/v1/orders/{order['id']}/"), 404)


def test_order_lists_run_a_constant_number_of_queries(api, alpha):
    from django.test.utils import CaptureQueriesContext

    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    gig = service(seller, alpha)
    for _ in range(4):
        buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                       "requirements": [{"question": "Brand name?", "answer": "x"}]})
    counts = []
    for limit in (1, 4):
        with CaptureQueriesContext(connection) as ctx:
            assert buyer.get(f"/api/v1/orders/?limit={limit}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_order_events_are_published(api, alpha):
    from webhooks.models import Event

    with tenant_run(alpha.tenant):
        start = Event.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    gig = service(seller, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    _pay(alpha, order["id"])
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    buyer.post(f"/api/v1/orders/{order['id']}/complete")
    with tenant_run(alpha.tenant):
        types = [t for t in Event.objects.filter(sequence__gt=start).values_list("type", flat=True)
                 if t.startswith("order.")]
    assert types == ["order.created", "order.paid", "order.delivered", "order.completed"]


def test_a_placed_orders_response_is_what_reading_it_back_returns(api, alpha):
    """The create response is built from the objects just written, without reading them back: it
    must say exactly what a GET says."""
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    for listing, extra in ((product(seller, alpha, price=4200), {}),
                           (service(seller, alpha), {"package": "basic",
                                                     "requirements": [{"question": "Brand name?", "answer": "x"}]})):
        created = buyer.post("/api/v1/orders/", {"listing_id": listing["id"], **extra})
        assert created.status_code == 201, created.content
        assert created.json() == buyer.get(f"/api/v1/orders/{created.json()['id']}/").json()

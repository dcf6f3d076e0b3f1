"""Orders, proposals, payments and the gateway configuration against the live server, paid for
through the sandbox gateway simulator: a product purchase and its library, a service order with its
delivery, revision, completion and reviews, a contract's milestones, refunds."""

from __future__ import annotations

import io
import uuid

import pytest

from osdm_client import (
    AsyncPaginator,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    SyncPage,
)
from osdm_client.types import (
    GatewayConfig,
    MethodRoute,
    Milestone,
    Order,
    OrderDelivery,
    OrderDetail,
    Payment,
    Refund,
    Review,
)
from sdk_helpers import become_seller, category_id, pay


@pytest.fixture(scope="module")
def people(market, sandbox_gateway):
    market.operator.categories.load_default()
    _, seller = market.register()
    _, buyer = market.register()
    return become_seller(seller), buyer


def _product(seller, *, price: int = 5000):
    file_id = seller.files.upload(io.BytesIO(b"%PDF-1.4\n% the book\n"), purpose="product", filename="book.pdf").id
    return seller.listings.create(market="products", category_id=category_id(seller, "products", "tech-ebooks"),
                                  title=f"E-book {uuid.uuid4().hex[:6]}", description="A book.", price=price,
                                  file_ids=[file_id], publish=True)


def test_gateways_and_methods(market, sandbox_gateway):
    gateways = market.operator.payment_gateways.list()
    assert all(isinstance(g, GatewayConfig) for g in gateways)
    sandbox = next(g for g in gateways if g.gateway == "sandbox")
    assert sandbox.enabled and sandbox.mode == "test" and set(sandbox.credentials_set) >= {"secret_key"}
    routes = {r.method: r for r in market.operator.payment_methods.list()}
    assert all(isinstance(r, MethodRoute) for r in routes.values()) and routes["mada"].gateway == "sandbox"
    assert market.operator.payment_methods.route("paypal", gateway="sandbox", fallback_gateway="").gateway == "sandbox"
    with pytest.raises(NotFoundError):
        market.operator.payment_methods.route("cash", gateway="sandbox")


def test_buying_a_product(market, people):
    seller, buyer = people
    listing = _product(seller, price=5000)
    order = buyer.orders.create(listing_id=listing.id)
    assert isinstance(order, OrderDetail)
    assert (order.kind, order.status, order.total, order.currency) == ("product", "pending_payment", 5000, "SAR")
    assert order.payment is not None and order.payment.amount == 5000

    payment = pay(buyer, order.payment.id)
    assert isinstance(payment, Payment) and (payment.gateway, payment.method) == ("sandbox", "mada")
    paid = buyer.orders.retrieve(order.id)
    assert paid.status in ("completed", "delivered", "in_progress") and paid.paid_at is not None
    assert [o.id for o in buyer.me.library.list()] == [order.id]
    assert all(isinstance(o, Order) for o in buyer.me.library.list())
    out = io.BytesIO()
    assert buyer.files.download(listing.files[0].id, out) == listing.files[0].size
    assert order.id in {o.id for o in buyer.orders.list(role="buyer", market="products")}
    assert order.id in {o.id for o in seller.orders.list(role="seller", status=paid.status)}
    assert [p.id for p in buyer.payments.list(order=order.id)] == [payment.id]
    assert buyer.payments.sync(payment.id).status == "succeeded"

    # The operator refunds part of it.
    refund = market.operator.payments.refunds.create(payment.id, amount=1000, reason="goodwill")
    assert isinstance(refund, Refund) and refund.amount == 1000
    assert [r.id for r in market.operator.payments.refunds.list(payment.id)] == [refund.id]
    with pytest.raises(PermissionDeniedError):
        buyer.payments.refunds.create(payment.id, amount=1)


def test_an_unpaid_order_is_cancelled(market, people):
    seller, buyer = people
    order = buyer.orders.create(listing_id=_product(seller).id)
    cancelled = buyer.orders.cancel(order.id, reason="changed my mind")
    assert cancelled.status == "cancelled" and cancelled.history[-1].to_status == "cancelled"
    with pytest.raises((ConflictError, BadRequestError)):
        buyer.orders.cancel(order.id)
    with pytest.raises(NotFoundError):
        buyer.orders.retrieve(str(uuid.uuid4()))


def test_a_service_order_delivered_revised_completed_and_reviewed(market, people):
    seller, buyer = people
    service = seller.listings.create(
        market="services", category_id=category_id(seller, "services", "logo-design"), title="Logo design",
        description="I design logos.", publish=True,
        packages=[{"tier": "basic", "title": "Basic", "price": 10000, "delivery_days": 3, "revisions": 1}],
        requirements=[{"question": "Brand name?", "required": True}])
    order = buyer.orders.create(listing_id=service.id, package="basic",
                                requirements=[{"question": "Brand name?", "answer": "Acme"}])
    assert (order.kind, order.package, order.total) == ("service", "basic", 10000)
    pay(buyer, order.payment.id, method="visa")
    assert buyer.orders.retrieve(order.id).status == "in_progress"

    attachment = seller.files.upload(io.BytesIO(b"logo v1"), purpose="delivery", filename="logo.svg")
    delivery = seller.orders.deliver(order.id, message="Here it is", file_ids=[attachment.id])
    assert isinstance(delivery, OrderDelivery) and delivery.files[0].id == attachment.id
    revised = buyer.orders.request_revision(order.id, message="Bigger, please")
    assert (revised.status, revised.revisions_used) == ("in_progress", 1)
    seller.orders.deliver(order.id, message="Bigger")
    with pytest.raises(PermissionDeniedError):
        seller.orders.complete(order.id)
    done = buyer.orders.complete(order.id)
    assert done.status == "completed" and len(done.deliveries) == 2
    assert [h.to_status for h in done.history][-1] == "completed"

    review = buyer.orders.reviews.create(order.id, rating=5, text="Great logo")
    assert isinstance(review, Review) and (review.role, review.rating) == ("buyer", 5)
    assert seller.orders.reviews.create(order.id, rating=4).role == "seller"


def test_a_contract_with_milestones(market, people):
    seller, _ = people
    _, client = market.register()
    project = client.listings.create(market="projects", category_id=category_id(client, "projects", "booking-apps"),
                                     title="Booking app", description="A booking app for a clinic.",
                                     budget_min=100000, budget_max=500000, publish=True)
    milestones = [{"title": "Design", "amount": 100000, "due_days": 10},
                  {"title": "Build", "amount": 200000, "due_days": 30}]
    first = seller.listings.proposals.create(project.id, cover_letter="Me", amount=300000, duration_days=30,
                                             milestones=milestones)
    assert seller.proposals.withdraw(first.id).status == "withdrawn"
    _, rival = market.register()
    become_seller(rival)
    declined = rival.listings.proposals.create(project.id, cover_letter="Me too", amount=300000, duration_days=30,
                                               milestones=milestones)
    assert client.proposals.decline(declined.id).status == "declined"
    proposal = seller.listings.proposals.create(project.id, cover_letter="Again", amount=300000, duration_days=30,
                                                milestones=milestones)
    assert [p.id for p in seller.proposals.list(role="seller", status="pending")] == [proposal.id]
    assert isinstance(client.proposals.list(role="buyer"), SyncPage)

    contract = client.proposals.accept(proposal.id)
    assert (contract.kind, contract.total, len(contract.milestones)) == ("contract", 300000, 2)
    design, build = contract.milestones
    funding = client.orders.milestones.payment(contract.id, design.id)
    assert isinstance(funding, Payment) and funding.amount == 100000
    pay(client, funding.id)
    seller.orders.deliver(contract.id, message="Designs", milestone_id=design.id)
    reworked = client.orders.milestones.revision(contract.id, design.id, message="More colour")
    assert isinstance(reworked, Milestone) and reworked.status == "funded"
    seller.orders.deliver(contract.id, message="Designs, colourful", milestone_id=design.id)
    assert client.orders.milestones.accept(contract.id, design.id).status == "accepted"
    assert client.orders.milestones.cancel(contract.id, build.id, reason="Scope dropped").status == "cancelled"


@pytest.mark.anyio
async def test_the_async_orders(market, people):
    seller, _ = people
    email, _ = market.register()
    async with market.async_operator() as operator:
        buyer = await operator.with_options(api_key=None).login(email=email, password="correct-horse-battery-staple")
        order = await buyer.orders.create(listing_id=_product(seller, price=1234).id)
        assert order.total == 1234
        listed = buyer.orders.list(status="pending_payment")
        assert isinstance(listed, AsyncPaginator)
        assert [o.id async for o in listed] == [order.id]
        assert (await buyer.payments.retrieve(order.payment.id)).status == "pending"
        assert [g.gateway for g in await operator.payment_gateways.list()]
        assert (await buyer.orders.cancel(order.id)).status == "cancelled"

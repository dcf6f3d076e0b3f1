"""Random sequences of money operations, with the ledger's invariants checked after every step.

Hypothesis drives purchases and service orders, payments (captured at the sandbox gateway's simulator),
deliveries, acceptances, auto-releases, partial refunds through the gateway, disputes with every
outcome, and contracts funded and accepted milestone by milestone. After each step:
each transfer balances and the balances sum to zero, no guarded account is negative, the cached
counters equal the recomputation, escrow held equals the sum of pending transfers, and no pending
transfer is resolved twice (a unique constraint, checked by verify()).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from osdm.accounts.models import SellerProfile, User
from osdm.audit.services import Actor
from osdm.catalog import services as catalog
from osdm.catalog.models import Category
from osdm.core.errors import ApplicationError
from osdm.disputes import services as disputes
from osdm.escrow import services as escrow_services
from osdm.escrow.models import Escrow
from osdm.files.services import file_upload
from osdm.ledger.models import Transfer
from osdm.ledger.services import verify
from osdm.orders import services as orders
from osdm.orders.models import Milestone, Order
from osdm.payments import services as payments
from osdm.payments.gateways.base import Method, PaymentRequest
from osdm.payments.models import Payment
from tenants.services import tenant_run

SYSTEM = Actor.system("hypothesis")
pytestmark = pytest.mark.django_db


def _user(seller=False) -> User:
    person = User.objects.create_user(f"h-{uuid.uuid4().hex[:10]}@example.com", "x" * 12, full_name="H")
    if seller:
        SellerProfile.objects.create(user=person, display_name="H shop", country="SA")
    return User.objects.select_related("seller_profile").get(pk=person.pk)


class Books(RuleBasedStateMachine):
    market = None
    sim = None

    @initialize()
    def setup(self):
        self.seller, self.buyer = _user(seller=True), _user()
        self.orders: list[str] = []
        self.contracts: list[str] = []

    # --- making business ---
    @rule(price=st.integers(100, 400000))
    def buy_product(self, price):
        category = Category.objects.filter(market="products").first()
        stored = file_upload(actor=SYSTEM, owner=self.seller, purpose="product",
                             upload=SimpleUploadedFile("f.txt", b"content"))
        listing = catalog.listing_create(actor=SYSTEM, owner=self.seller, market="products", currency="SAR",
                                         category_id=category.pk, title="P", description="d", price=price,
                                         file_ids=[stored.pk], publish=True)
        self.orders.append(str(orders.order_place(actor=SYSTEM, buyer=self.buyer, listing_id=listing.pk).pk))

    @rule(price=st.integers(100, 400000), revisions=st.integers(0, 2))
    def order_service(self, price, revisions):
        category = Category.objects.filter(market="services").first()
        listing = catalog.listing_create(
            actor=SYSTEM, owner=self.seller, market="services", currency="SAR", category_id=category.pk, title="S",
            description="d", publish=True,
            packages=[{"tier": "basic", "title": "B", "price": price, "delivery_days": 2, "revisions": revisions}])
        self.orders.append(str(orders.order_place(actor=SYSTEM, buyer=self.buyer, listing_id=listing.pk,
                                                  package_tier="basic").pk))

    @rule(first=st.integers(100, 200000), second=st.integers(100, 200000))
    def hire(self, first, second):
        category = Category.objects.filter(market="projects").first()
        project = catalog.listing_create(actor=SYSTEM, owner=self.buyer, market="projects", currency="SAR",
                                         category_id=category.pk, title="J", description="d",
                                         budget_max=first + second, publish=True)
        proposal = orders.proposal_create(actor=SYSTEM, seller=self.seller, listing_id=project.pk, cover_letter="c",
                                          amount=first + second, duration_days=5,
                                          milestones=[{"title": "a", "amount": first}, {"title": "b", "amount": second}])
        self.contracts.append(str(orders.proposal_accept(actor=SYSTEM, proposal=proposal, principal=self.buyer).pk))

    # --- money moving ---
    def _capture(self, payment: Payment) -> None:
        gateway = payments.gateway_for("sandbox")
        created = gateway.create_payment(PaymentRequest(
            payment_id=str(payment.pk), amount=payment.amount, currency="SAR", method=Method.VISA, description="h",
            return_url="https://x.example/r", callback_url="https://x.example/cb", idempotency_key=str(uuid.uuid4())))
        self.sim.complete(created.gateway_payment_id, "paid")
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            locked.gateway, locked.gateway_payment_id = "sandbox", created.gateway_payment_id
            locked.save(update_fields=["gateway", "gateway_payment_id"])
            payments._apply(locked, gateway.fetch_payment(created.gateway_payment_id), source="hypothesis")

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def pay(self, data):
        order_id = data.draw(st.sampled_from(self.orders))
        payment = Payment.objects.filter(order_id=order_id, milestone__isnull=True, status="pending").first()
        if payment:
            self._capture(payment)

    @precondition(lambda self: self.contracts)
    @rule(data=st.data())
    def fund_milestone(self, data):
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.contracts)))
        milestone = order.milestones.filter(status="pending_funding").first()
        if milestone is None or order.status != "in_progress":
            return
        self._capture(payments.payment_for_milestone(actor=SYSTEM, order=order, milestone_id=milestone.pk,
                                                     principal=self.buyer))

    @precondition(lambda self: self.orders or self.contracts)
    @rule(data=st.data())
    def deliver(self, data):
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.orders + self.contracts)))
        milestone = order.milestones.filter(status="funded").first()
        with contextlib.suppress(ApplicationError):  # not deliverable now: the guard said so, nothing moved
            orders.order_deliver(actor=SYSTEM, order=order, principal=self.seller, message="m",
                                 milestone_id=milestone.pk if milestone else None)

    @precondition(lambda self: self.orders or self.contracts)
    @rule(data=st.data())
    def accept(self, data):
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.orders + self.contracts)))
        try:
            milestone = order.milestones.filter(status="delivered").first()
            if milestone:
                orders.milestone_accept(actor=SYSTEM, order=order, milestone_id=milestone.pk, principal=self.buyer)
            else:
                orders.order_complete(actor=SYSTEM, order=order, principal=self.buyer)
        except ApplicationError:
            pass

    @rule(days=st.integers(0, 10))
    def auto_release(self, days):
        escrow_services.escrows_auto_release(now=timezone.now() + timedelta(days=days))

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), share=st.floats(0.05, 1.0))
    def refund(self, data, share):
        payment = Payment.objects.filter(order_id=data.draw(st.sampled_from(self.orders)),
                                         status__in=["succeeded", "partially_refunded"]).first()
        if payment is None or payment.refundable <= 0:
            return
        amount = max(1, int(payment.refundable * share))
        with contextlib.suppress(ApplicationError):  # e.g. the seller spent what a clawback would take
            payments.refund_create(actor=SYSTEM, payment=payment, amount=amount, reason="h")

    @precondition(lambda self: self.orders or self.contracts)
    @rule(data=st.data(), outcome=st.sampled_from(["release", "refund", "split"]), share=st.floats(0.01, 0.99))
    def dispute(self, data, outcome, share):
        escrow = Escrow.objects.filter(order_id=data.draw(st.sampled_from(self.orders + self.contracts)),
                                       status="held").first()
        if escrow is None:
            return
        try:
            opened = disputes.dispute_open(actor=SYSTEM, escrow=escrow, principal=self.buyer, reason="quality",
                                           description="h")
        except ApplicationError:
            return  # outside the window
        amount = max(1, min(escrow.amount - 1, int(escrow.amount * share))) if escrow.amount > 1 else None
        if outcome == "split" and amount is None:
            outcome = "release"
        disputes.dispute_resolve(actor=SYSTEM, dispute=opened, outcome=outcome,
                                 refund_amount=amount if outcome == "split" else None)

    # --- the invariants ---
    @invariant()
    def books_balance(self):
        assert verify() == []
        held = sum(Escrow.objects.filter(status__in=["held", "disputed"]).values_list("amount", flat=True))
        pending = sum(Transfer.objects.filter(kind="pending", resolution__isnull=True, code="escrow.hold")
                      .values_list("amount", flat=True))
        assert held == pending
        for milestone in Milestone.objects.filter(status="accepted"):
            assert milestone.escrow.status in ("released", "refunded")


def test_random_money_histories_keep_the_books(alpha, sandbox):
    from tests.payments.conftest import SANDBOX_KEY, SANDBOX_WEBHOOK_SECRET

    with tenant_run(alpha.tenant):
        payments.gateway_configure(actor=SYSTEM, slug="sandbox", enabled=True, mode="test",
                                   credentials={"secret_key": SANDBOX_KEY, "webhook_secret": SANDBOX_WEBHOOK_SECRET},
                                   base_url=sandbox.url)
        Books.sim = sandbox
        machine = settings(max_examples=15, stateful_step_count=20, deadline=None,
                           suppress_health_check=list(HealthCheck))(Books)
        machine.TestCase().runTest()

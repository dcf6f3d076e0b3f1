"""Random sequences of money operations, with the ledger's invariants checked after every step.

Hypothesis drives purchases and service orders, payments (captured at the sandbox gateway's simulator),
deliveries, acceptances, auto-releases, partial refunds through the gateway, disputes with every
outcome, contracts funded and accepted milestone by milestone, and withdrawals (requested,
approved or rejected, paid out through the Moyasar payout simulator, failed by the bank, or paid
and then returned; refunds after a withdrawal book the seller's debt). After each step:
each transfer balances and the balances sum to zero, no guarded account is negative, the cached
counters equal the recomputation, escrow held equals the sum of pending transfers, and no pending
transfer is resolved twice (a unique constraint, checked by verify()), and the money in transit to
the bank equals the open withdrawals.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
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
from osdm.escrow.services import escrows_verify
from osdm.files.services import file_upload
from osdm.ledger.models import Account, Transfer
from osdm.ledger.services import verify
from osdm.orders import services as orders
from osdm.orders.models import Milestone, Order
from osdm.payments import services as payments
from osdm.payments.gateways.base import Method, PaymentRequest
from osdm.payments.models import Payment
from osdm.payouts import services as payouts
from osdm.payouts.models import Withdrawal
from tenants.services import tenant_run

SYSTEM = Actor.system("hypothesis")
pytestmark = pytest.mark.django_db


def _user(seller=False) -> User:
    person = User.objects.create_user(f"h-{uuid.uuid4().hex[:10]}@example.com", "x" * 12, full_name="H")
    if seller:
        SellerProfile.objects.create(user=person, display_name="H shop", country="SA")
    return User.objects.select_related("seller_profile").get(pk=person.pk)


IBAN = "SA0380000000608010167519"  # Al Rajhi, the registry's example
FAILING_IBAN = "SA4380000000608010170000"  # the payout simulator fails accounts ending 0000


class Books(RuleBasedStateMachine):
    market = None
    sim = None
    payout_sim = None

    @initialize(first_sale=st.integers(100, 400000))
    def setup(self, first_sale):
        self.seller, self.buyer = _user(seller=True), _user()
        self.orders: list[str] = []
        self.contracts: list[str] = []
        self.withdrawals: list[str] = []
        self.destinations = {ok: payouts.destination_add(actor=SYSTEM, seller=self.seller, iban=iban,
                                                         holder_name="Sara Alqahtani")
                             for ok, iban in ((True, IBAN), (False, FAILING_IBAN))}
        # One product sold and paid (released at payment): the seller starts with money to withdraw,
        # so withdrawals, and refunds after them, happen early in a run.
        self.buy_product(first_sale)
        self._capture(Payment.objects.get(order_id=self.orders[-1]))

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

    # --- withdrawals ---
    @rule(share=st.floats(0.05, 1.0), good_account=st.booleans(),
          then=st.sampled_from(["wait", "approve", "approve, the bank answers", "reject"]))
    def withdraw(self, share, good_account, then):
        wallet = Account.objects.filter(kind="wallet", owner=self.seller).first()
        if wallet is None or wallet.available <= 0:
            return
        withdrawal = payouts.withdrawal_request(actor=SYSTEM, seller=self.seller,
                                                amount=max(1, int(wallet.available * share)),
                                                destination_id=self.destinations[good_account].pk)
        self.withdrawals.append(str(withdrawal.pk))
        self._decide(withdrawal, then)

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), then=st.sampled_from(["approve", "approve, the bank answers", "reject"]))
    def decide_withdrawal(self, data, then):
        self._decide(Withdrawal.objects.get(pk=data.draw(st.sampled_from(self.withdrawals))), then)

    def _decide(self, withdrawal: Withdrawal, then: str) -> None:
        if withdrawal.status != "requested" or then == "wait":
            return
        if then == "reject":
            payouts.withdrawal_reject(actor=SYSTEM, withdrawal=withdrawal, reason="h")
            return
        payouts.withdrawal_approve(actor=SYSTEM, withdrawal=withdrawal)
        if then == "approve, the bank answers":  # paid, or failed for the account ending 0000
            self.bank_settles()

    @rule()
    def bank_settles(self):
        self.payout_sim.settle_payouts()
        payouts.withdrawals_sync()

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data())
    def bank_returns(self, data):
        withdrawal = Withdrawal.objects.get(pk=data.draw(st.sampled_from(self.withdrawals)))
        if withdrawal.status != "paid":
            return
        self.payout_sim.return_payout(withdrawal.gateway_payout_id)
        # Beat looks at a paid withdrawal again only RETURN_CHECK_EVERY after its last check: a sync
        # "now" would not see the return, and the next draw of this rule would return it twice.
        payouts.withdrawals_sync(now=timezone.now() + payouts.RETURN_CHECK_EVERY)
        assert Withdrawal.objects.get(pk=withdrawal.pk).status == "returned"

    def teardown(self):
        # What the run reached, for --hypothesis-show-statistics.
        for status in Withdrawal.objects.filter(pk__in=self.withdrawals).values_list("status", flat=True):
            event(f"withdrawal {status}")
        if Account.objects.filter(kind="seller_debt", owner=self.seller, debits_posted__gt=0).exists():
            event("seller debt")

    # --- the invariants ---
    @invariant()
    def books_balance(self):
        assert verify() == []
        assert escrows_verify() == []
        held = sum(Escrow.objects.filter(status__in=["held", "disputed"]).values_list("amount", flat=True))
        pending = sum(Transfer.objects.filter(kind="pending", resolution__isnull=True, code="escrow.hold")
                      .values_list("amount", flat=True))
        assert held == pending
        for milestone in Milestone.objects.filter(status="accepted"):
            assert milestone.escrow.status in ("released", "refunded")
        in_transit = sum(a.balance_posted for a in Account.objects.filter(kind=Account.Kind.PAYOUTS_IN_TRANSIT))
        assert in_transit == sum(Withdrawal.objects.filter(status__in=["requested", "approved"])
                                 .values_list("amount", flat=True))


def test_random_money_histories_keep_the_books(alpha, sandbox, moyasar):
    from tests.payments.conftest import SANDBOX_KEY, SANDBOX_WEBHOOK_SECRET
    from tests.test_payouts import MOYASAR_KEY, MOYASAR_WEBHOOK_SECRET, SOURCE_IBAN

    with tenant_run(alpha.tenant):
        payments.gateway_configure(actor=SYSTEM, slug="sandbox", enabled=True, mode="test",
                                   credentials={"secret_key": SANDBOX_KEY, "webhook_secret": SANDBOX_WEBHOOK_SECRET},
                                   base_url=sandbox.url)
        account = moyasar.add_payout_account(MOYASAR_KEY.removeprefix("sk_test_"), SOURCE_IBAN)["id"]
        payments.gateway_configure(actor=SYSTEM, slug="moyasar", enabled=True, mode="test",
                                   credentials={"secret_key": MOYASAR_KEY, "webhook_secret": MOYASAR_WEBHOOK_SECRET,
                                                "payout_account_id": account}, base_url=moyasar.url)
        payouts.policy_update(actor=SYSTEM, gateway="moyasar", minimum_amount=1)
        Books.sim, Books.payout_sim = sandbox, moyasar
        machine = settings(max_examples=20, stateful_step_count=25, deadline=None,
                           suppress_health_check=list(HealthCheck))(Books)
        machine.TestCase().runTest()

"""The edges of the money flows that a review found broken, each pinned by what a user sees: refunds
after the seller withdrew, money arriving for a cancelled order, revisions and the auto-release
clock, cancelling funded milestones, products held by policy, and the wallet statement."""

from datetime import timedelta

import pytest
from django.utils import timezone

from osdm.escrow import services as escrow_services
from osdm.escrow.models import Escrow
from osdm.ledger.models import Account, Transfer, transfer_id
from osdm.ledger.services import (
    BALANCING_CREDIT,
    BALANCING_DEBIT,
    LedgerConflict,
    Move,
    account_get,
    transfers_apply,
)
from osdm.payments.models import Payment
from osdm.payments.simulators.sandbox import SandboxSimulator
from tenants.models import Tenant
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import product, project, service, user
from .payments.conftest import configure_sandbox, deliver
from .test_money import _books, _pay, _refunded, _service_order, _wallet
from .test_payouts import destination, withdraw

pytestmark = pytest.mark.django_db
LATER = timedelta(days=8)  # past the default 7 auto-release days


@pytest.fixture
def sandbox(api, alpha):
    sim = SandboxSimulator(secret_key="sk_sandbox_test", webhook_secret="whsec_sandbox_test").start()
    sim.deliver_callbacks = False
    configure_sandbox(api, alpha, sim)
    yield sim
    sim.stop()


def _pay_through(api, market, sim, client, payment_id) -> str:
    processed = client.post(f"/api/v1/payments/{payment_id}/process",
                            {"method": "visa", "return_url": "https://shop.example.com/r"}).json()
    sim.complete(processed["gateway_payment_id"], "paid")
    deliver(api, market, sim)
    return processed["gateway_payment_id"]


def _sold(api, market, seller, price):
    buyer = user(api, market)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, market, price=price)["id"]}).json()
    _pay(market, order["payment"]["id"])
    return order


# --- refunds after the seller withdrew ---------------------------------------------------------


def test_a_refund_after_the_seller_withdrew_is_booked_as_debt_and_repaid_from_the_next_sale(api, alpha):
    seller, order = _sold_and_withdrawn(api, alpha, 10000, 6000)
    assert _wallet(seller)["available"] == 3000

    _refunded(alpha, order["payment"]["id"], 10000)  # the gateway refunded the buyer in full

    with tenant_run(alpha.tenant):
        payment = Payment.objects.get(pk=order["payment"]["id"])
        assert (payment.status, payment.refunded_amount) == ("refunded", 10000)
    # 9000 to take back: the 3000 still in the wallet, and 6000 owed.
    assert _wallet(seller) == {"currency": "SAR", "available": 0, "pending": 0, "paid_out": 6000, "owed": 6000}
    _books(alpha)

    _sold(api, alpha, seller, 20000)  # 18000 earned: the debt is repaid from it first
    assert _wallet(seller) == {"currency": "SAR", "available": 12000, "pending": 0, "paid_out": 6000, "owed": 0}
    lines = seller.get("/api/v1/wallet/transactions/").json()["results"]
    assert ("debt.repay", "out", 6000) in {(t["code"], t["direction"], t["amount"]) for t in lines}
    assert ("refund.clawback", "out", 3000) in {(t["code"], t["direction"], t["amount"]) for t in lines}
    _books(alpha)


def _sold_and_withdrawn(api, market, price, withdrawn):
    seller = user(api, market, seller=True)
    order = _sold(api, market, seller, price)
    assert withdraw(seller, withdrawn, destination(seller)["id"]).status_code == 201
    return seller, order


def test_a_debt_larger_than_the_next_sale_is_repaid_in_part_and_never_overpaid(api, alpha):
    seller, order = _sold_and_withdrawn(api, alpha, 50000, 45000)
    _refunded(alpha, order["payment"]["id"], 50000)
    assert _wallet(seller)["owed"] == 45000
    _sold(api, alpha, seller, 10000)
    assert (_wallet(seller)["available"], _wallet(seller)["owed"]) == (0, 36000)
    for _ in range(5):
        _sold(api, alpha, seller, 10000)
    assert (_wallet(seller)["available"], _wallet(seller)["owed"]) == (9000, 0)
    _books(alpha)


def test_a_refund_replayed_after_the_debt_moves_nothing_more(api, alpha):
    seller, order = _sold_and_withdrawn(api, alpha, 10000, 9000)
    _refunded(alpha, order["payment"]["id"], 4000)
    _refunded(alpha, order["payment"]["id"], 4000)  # the same callback twice
    assert _wallet(seller)["owed"] == 3600
    _books(alpha)


# --- money arriving for a cancelled order ------------------------------------------------------


def test_a_capture_after_cancellation_is_on_the_books_and_refundable(api, alpha, sandbox):
    seller, buyer, order = _service_order(api, alpha)
    processed = buyer.post(f"/api/v1/payments/{order['payment']['id']}/process",
                           {"method": "visa", "return_url": "https://shop.example.com/r"}).json()
    assert buyer.post(f"/api/v1/orders/{order['id']}/cancel").json()["status"] == "cancelled"
    sandbox.complete(processed["gateway_payment_id"], "paid")  # the payer finished anyway
    deliver(api, alpha, sandbox)
    with tenant_run(alpha.tenant):
        assert Transfer.objects.filter(id=transfer_id("payment.captured", order["payment"]["id"]),
                                       amount=20000).exists()
        assert Escrow.objects.get(order_id=order["id"]).status == "cancelled"  # reserved for no one
        assert account_get(kind="buyer", currency="SAR", owner_id=buyer.user_id).available == 20000
    _books(alpha)
    refund = api(alpha, alpha.secret_key).post(f"/api/v1/payments/{order['payment']['id']}/refunds", {})
    assert refund.status_code == 201, refund.content
    assert sandbox.payments[processed["gateway_payment_id"]]["refunded"] == 20000
    with tenant_run(alpha.tenant):
        assert account_get(kind="buyer", currency="SAR", owner_id=buyer.user_id).available == 0
    assert _wallet(seller)["pending"] == 0
    _books(alpha)


# --- revisions and the auto-release clock ------------------------------------------------------


def test_a_revision_stops_the_auto_release_clock_until_the_next_delivery(api, alpha):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    gig = service(seller, alpha, packages=[{"tier": "basic", "title": "B", "price": 20000, "delivery_days": 3,
                                            "revisions": 1}])
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    _pay(alpha, order["payment"]["id"])
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "v1"})
    assert buyer.get("/api/v1/escrows/").json()["results"][0]["release_after"] is not None
    assert buyer.post(f"/api/v1/orders/{order['id']}/revision", {"message": "again"}).status_code == 200
    assert buyer.get("/api/v1/escrows/").json()["results"][0]["release_after"] is None
    with tenant_run(alpha.tenant):
        assert escrow_services.escrows_auto_release(now=timezone.now() + LATER) == 0
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "in_progress"
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "v2"})
    with tenant_run(alpha.tenant):
        assert escrow_services.escrows_auto_release(now=timezone.now() + LATER) == 1
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "completed"
    _books(alpha)


def _contract(api, market, amounts=(10000, 20000)):
    poster, seller = user(api, market), user(api, market, seller=True)
    job = project(poster, market)
    proposal = seller.post(f"/api/v1/listings/{job['id']}/proposals/", {
        "cover_letter": "x", "amount": sum(amounts), "duration_days": 10,
        "milestones": [{"title": f"m{i}", "amount": a} for i, a in enumerate(amounts)]}).json()
    contract = poster.post(f"/api/v1/proposals/{proposal['id']}/accept").json()
    return poster, seller, contract, [m["id"] for m in contract["milestones"]]


def test_a_milestone_revision_stops_the_clock_and_the_job_never_errors_on_it(api, alpha):
    poster, seller, contract, (one, _two) = _contract(api, alpha)
    _pay(alpha, poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/payment").json()["id"])
    seller.post(f"/api/v1/orders/{contract['id']}/deliver", {"message": "m1", "milestone_id": one})
    revised = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/revision", {"message": "fix"})
    assert revised.status_code == 200 and revised.json()["status"] == "funded"
    with tenant_run(alpha.tenant):
        assert Escrow.objects.get(milestone_id=one).release_after is None
        assert escrow_services.escrows_auto_release(now=timezone.now() + LATER) == 0
        assert Escrow.objects.get(milestone_id=one).status == "held"
    _books(alpha)


# --- cancelling funded milestones --------------------------------------------------------------


def test_a_funded_milestone_is_cancelled_by_the_seller_with_a_refund_never_by_the_buyer(api, alpha, sandbox):
    poster, seller, contract, (one, two) = _contract(api, alpha)
    payment = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/payment").json()
    gateway_id = _pay_through(api, alpha, sandbox, poster, payment["id"])
    assert _wallet(seller)["pending"] == 9000

    assert_error(poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/cancel"), 403, "not_allowed")
    cancelled = seller.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/cancel", {"reason": "can't"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.content
    assert sandbox.payments[gateway_id]["refunded"] == 10000
    with tenant_run(alpha.tenant):
        assert Escrow.objects.get(milestone_id=one).status == "refunded"
    assert _wallet(seller)["pending"] == 0
    # An unfunded one: either party, nothing to refund.
    assert poster.post(f"/api/v1/orders/{contract['id']}/milestones/{two}/cancel").json()["status"] == "cancelled"
    assert poster.get(f"/api/v1/orders/{contract['id']}/").json()["status"] == "cancelled"
    _books(alpha)


def test_a_disputed_milestone_is_left_to_its_dispute(api, alpha, sandbox):
    poster, seller, contract, (one, _two) = _contract(api, alpha)
    payment = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/payment").json()
    _pay_through(api, alpha, sandbox, poster, payment["id"])
    escrow_id = poster.get("/api/v1/escrows/?status=held").json()["results"][0]["id"]
    opened = poster.post(f"/api/v1/escrows/{escrow_id}/dispute", {"reason": "quality", "description": "late"})
    assert opened.status_code == 201, opened.content
    assert_error(seller.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/cancel"), 409, "escrow_disputed")
    assert_error(api(alpha, alpha.secret_key).post(f"/api/v1/orders/{contract['id']}/milestones/{one}/cancel"),
                 409, "escrow_disputed")
    with tenant_run(alpha.tenant):
        assert Escrow.objects.get(pk=escrow_id).status == "disputed"
    assert poster.get(f"/api/v1/orders/{contract['id']}/").json()["milestones"][0]["status"] == "funded"
    _books(alpha)


# --- products held by policy -------------------------------------------------------------------


@pytest.fixture
def hold_products(alpha):
    Tenant.objects.filter(pk=alpha.tenant.pk).update(escrow_release_products_on_payment=False)
    yield
    Tenant.objects.filter(pk=alpha.tenant.pk).update(escrow_release_products_on_payment=True)


def test_a_product_held_by_policy_is_auto_released_after_the_tenants_days(api, alpha, hold_products):
    seller = user(api, alpha, seller=True)
    _sold(api, alpha, seller, 10000)
    escrow = seller.get("/api/v1/escrows/?role=seller").json()["results"][0]
    assert escrow["status"] == "held" and escrow["release_after"] is not None
    assert _wallet(seller)["pending"] == 9000
    with tenant_run(alpha.tenant):
        assert escrow_services.escrows_auto_release() == 0  # not yet
        assert escrow_services.escrows_auto_release(now=timezone.now() + LATER) == 1
    assert seller.get("/api/v1/escrows/?role=seller").json()["results"][0]["status"] == "released"
    assert _wallet(seller)["available"] == 9000
    _books(alpha)


def test_a_product_held_by_policy_cannot_be_disputed_after_the_window(api, alpha, hold_products):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, alpha, price=10000)["id"]}).json()
    _pay(alpha, order["payment"]["id"])
    escrow_id = buyer.get("/api/v1/escrows/").json()["results"][0]["id"]
    with tenant_run(alpha.tenant):
        from osdm.orders.models import Order
        assert Order.objects.get(pk=order["id"]).delivered_at is not None  # delivered at payment
        Order.objects.filter(pk=order["id"]).update(delivered_at=timezone.now() - LATER)
    assert_error(buyer.post(f"/api/v1/escrows/{escrow_id}/dispute", {"reason": "quality", "description": "x"}),
                 409, "dispute_window_closed")


# --- the wallet statement ----------------------------------------------------------------------


def test_the_statement_shows_a_voided_hold_as_voided_and_the_new_hold_as_pending(api, alpha):
    seller, _buyer, order = _service_order(api, alpha)
    _pay(alpha, order["payment"]["id"])
    _refunded(alpha, order["payment"]["id"], 5000)
    lines = seller.get("/api/v1/wallet/transactions/").json()["results"]
    assert sorted((t["code"], t["status"], t["amount"]) for t in lines) == [
        ("escrow.hold", "pending", 13500), ("escrow.hold", "voided", 18000)]
    assert {t["order_id"] for t in lines} == {order["id"]}
    assert _wallet(seller)["pending"] == 13500


# --- the ledger's balancing transfers ----------------------------------------------------------


def test_balancing_transfers_move_at_most_what_the_accounts_allow(alpha):
    with tenant_run(alpha.tenant):
        clearing = account_get(kind="gateway_clearing", currency="SAR", scope="t-balancing")
        wallet = account_get(kind="wallet", currency="SAR", owner_id=None, scope="t-balancing-w")
        debt = account_get(kind="seller_debt", currency="SAR", scope="t-balancing-d")
        buyer = account_get(kind="buyer", currency="SAR", scope="t-balancing-b")
        transfers_apply([Move(id=transfer_id("b", 1), kind="posted", code="t", amount=700, debit=clearing,
                              credit=wallet)])
        first = Move(id=transfer_id("b", 2), kind="posted", code="t", amount=1000, debit=wallet, credit=buyer,
                     balancing=BALANCING_DEBIT)
        rest = Move(id=transfer_id("b", 3), kind="posted", code="t.debt", debit=debt, credit=buyer,
                    shortfall_of=first.id)
        moved = transfers_apply([first, rest])
        assert [t.amount for t in moved] == [700, 300]
        assert transfers_apply([first, rest])[1].amount == 300  # a replay returns what was done
        transfers_apply([Move(id=transfer_id("b", 4), kind="posted", code="t", amount=5000, debit=clearing,
                              credit=wallet)])
        repay = Move(id=transfer_id("b", 5), kind="posted", code="t", amount=5000, debit=wallet, credit=debt,
                     balancing=BALANCING_DEBIT | BALANCING_CREDIT)
        assert transfers_apply([repay])[0].amount == 300  # only what is owed
        for account in (wallet, debt):
            account.refresh_from_db()
        assert (wallet.available, debt.debits_posted - debt.credits_posted) == (4700, 0)
        with pytest.raises(LedgerConflict):  # the same id with another reference is another transfer
            transfers_apply([Move(id=transfer_id("b", 4), kind="posted", code="t", amount=5000, debit=clearing,
                                  credit=wallet, reference="elsewhere")])
        with pytest.raises(LedgerConflict):
            transfers_apply([Move(id=transfer_id("b", 6), kind="posted", code="t", debit=clearing, credit=wallet)])
        assert Account.objects.get(pk=debt.pk).credits_posted == 300


def test_the_ledgers_prepared_statements_follow_the_tenant_on_one_connection(alpha, beta):
    """The ledger's statements are prepared once per connection; switching marketplaces on that
    connection must write to the new schema's tables, never the first one's."""
    made = {}
    for market in (alpha, beta, alpha, beta):
        with tenant_run(market.tenant):
            clearing = account_get(kind="gateway_clearing", currency="SAR", scope="t-prepared")
            buyer = account_get(kind="buyer", currency="SAR", scope="t-prepared-b")
            count = made.get(market.tenant.slug, 0) + 1
            made[market.tenant.slug] = count
            transfers_apply([Move(id=transfer_id("prepared", market.tenant.slug, count), kind="posted", code="t",
                                  amount=100, debit=clearing, credit=buyer)])
    for market in (alpha, beta):
        with tenant_run(market.tenant):
            assert Account.objects.get(code="buyer:t-prepared-b:SAR").credits_posted == 200
            assert set(Transfer.objects.filter(code="t", reference="").values_list("id", flat=True)) >= {
                transfer_id("prepared", market.tenant.slug, n) for n in (1, 2)}
            assert not Transfer.objects.filter(id__in=[transfer_id("prepared", other.tenant.slug, n) for n in (1, 2)
                                                       for other in (alpha, beta) if other is not market]).exists()


def test_transfers_in_a_last_writes_block_apply_together_at_its_end_and_resolve_their_own_pendings(alpha):
    from osdm.core.last_writes import last_writes

    with tenant_run(alpha.tenant):
        clearing = account_get(kind="gateway_clearing", currency="SAR", scope="t-staged")
        buyer = account_get(kind="buyer", currency="SAR", scope="t-staged-b")
        wallet = account_get(kind="wallet", currency="SAR", scope="t-staged-w")
        hold = Move(id=transfer_id("staged", 2), kind="pending", code="t", amount=600, debit=buyer, credit=wallet)
        with last_writes():
            assert transfers_apply([Move(id=transfer_id("staged", 1), kind="posted", code="t", amount=1000,
                                         debit=clearing, credit=buyer)]) == []
            transfers_apply([hold])
            transfers_apply([Move(id=transfer_id("staged", 3), kind="post_pending", code="t", amount=600,
                                  pending_id=hold.id)])
            assert not Transfer.objects.filter(code="t", id__in=[transfer_id("staged", n) for n in (1, 2, 3)]).exists()
        assert Transfer.objects.filter(id__in=[transfer_id("staged", n) for n in (1, 2, 3)]).count() == 3
        wallet.refresh_from_db()
        assert (wallet.credits_posted, wallet.credits_pending) == (600, 0)

        def failing_change():
            with last_writes():
                transfers_apply([Move(id=transfer_id("staged", 4), kind="posted", code="t", amount=5,
                                      debit=clearing, credit=buyer)])
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):  # an error in the block: nothing applied
            failing_change()
        assert not Transfer.objects.filter(id=transfer_id("staged", 4)).exists()


def test_cancelling_a_funded_milestone_survives_retries_bad_input_and_strangers(api, alpha, beta, sandbox):
    poster, seller, contract, (one, _two) = _contract(api, alpha)
    payment = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/payment").json()
    gateway_id = _pay_through(api, alpha, sandbox, poster, payment["id"])
    path = f"/api/v1/orders/{contract['id']}/milestones/{one}/cancel"
    # Bad input changes nothing: an unknown field, a reason too long.
    assert_error(seller.post(path, {"reason": "x", "refund": "all"}), 400)
    assert_error(seller.post(path, {"reason": "x" * 1001}), 400)
    # A stranger, in this marketplace or another one with the same ids, sees no such order.
    assert_error(user(api, alpha, seller=True).post(path, {"reason": "mine?"}), 404)
    assert_error(user(api, beta, seller=True).post(path, {"reason": "mine?"}), 404)
    with tenant_run(alpha.tenant):
        assert Escrow.objects.get(milestone_id=one).status == "held"
    assert sandbox.payments[gateway_id]["refunded"] == 0
    # The seller cancels, in Arabic; the client retries with the same key: one refund, the same answer.
    body = {"reason": "لا أستطيع إكمال هذه المرحلة"}
    first = seller.post(path, body, headers={"Idempotency-Key": "cancel-m1"})
    again = seller.post(path, body, headers={"Idempotency-Key": "cancel-m1"})
    assert first.status_code == 200 and first.content == again.content, first.content
    assert sandbox.payments[gateway_id]["refunded"] == 10000
    # Without the key, a second cancel is refused: nothing is refunded twice.
    assert_error(seller.post(path, body), 409, "invalid_transition")
    with tenant_run(alpha.tenant):
        assert Escrow.objects.get(milestone_id=one).status == "refunded"
        assert Transfer.objects.filter(code="refund.paid", reference=contract["id"]).count() == 1
        from osdm.orders.models import StatusChange
        assert StatusChange.objects.filter(milestone_id=one, to_status="cancelled").get().note == body["reason"]
    _books(alpha)

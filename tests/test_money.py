"""The ledger and escrow: every halala accounted for through purchases, releases, refunds and
milestones, with the invariants checked after each step."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from osdm.audit.services import Actor
from osdm.escrow import services as escrow_services
from osdm.escrow.models import Escrow
from osdm.ledger.models import Account, Transfer, transfer_id
from osdm.ledger.services import InsufficientFunds, LedgerConflict, Move, account_get, transfers_apply, verify
from osdm.orders.models import Order
from osdm.payments import services as payments
from osdm.payments.gateways.base import GatewayPayment, GatewayStatus
from osdm.payments.models import Payment
from tenants.services import tenant_run

from . import markets
from .conftest import assert_error
from .markets import product, service, service_order, user

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _pay(market, payment_id, gateway="sandbox"):
    """The gateway reports the payment captured (what a verified callback does)."""
    with tenant_run(market.tenant), transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        payment.gateway = gateway
        payment.save(update_fields=["gateway"])
        payments._apply(payment, GatewayPayment(gateway_payment_id="gw", status=GatewayStatus.SUCCEEDED,
                                                amount=payment.amount, currency=payment.currency), source="test")


def _refunded(market, payment_id, total):
    """The gateway reports `total` refunded so far."""
    with tenant_run(market.tenant), transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        payments._apply(payment, GatewayPayment(gateway_payment_id="gw", status=GatewayStatus.PARTIALLY_REFUNDED
                                                if total < payment.amount else GatewayStatus.REFUNDED,
                                                amount=payment.amount, currency=payment.currency,
                                                refunded_amount=total), source="test")


def _books(market):
    with tenant_run(market.tenant):
        assert verify() == []
        assert escrow_services.escrows_verify() == []
        held = sum(Escrow.objects.filter(status__in=["held", "disputed"]).values_list("amount", flat=True))
        pending = sum(Transfer.objects.filter(kind="pending", resolution__isnull=True, code="escrow.hold")
                      .values_list("amount", flat=True))
        assert held == pending


def _wallet(client):
    balances = client.get("/api/v1/wallet/").json()["balances"]
    return balances[0] if balances else {"available": 0, "pending": 0, "paid_out": 0, "owed": 0}


def _service_order(api, market, seller=None, buyer=None):
    seller = seller or user(api, market, seller=True)
    buyer = buyer or user(api, market)
    gig = service(seller, market, packages=[{"tier": "basic", "title": "Basic", "price": 20000, "delivery_days": 3}])
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    return seller, buyer, order


def test_a_product_sale_is_released_at_payment(api, alpha):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, alpha, price=10000)["id"]}).json()
    escrows = buyer.get("/api/v1/escrows/?role=buyer").json()["results"]
    assert [(e["order_id"], e["status"]) for e in escrows] == [(order["id"], "pending")]
    _pay(alpha, order["payment"]["id"])
    escrow = seller.get("/api/v1/escrows/?role=seller").json()["results"][0]
    assert escrow["status"] == "released" and escrow["seller_amount"] == 9000 and escrow["commission"] == 1000
    assert _wallet(seller) == {"currency": "SAR", "available": 9000, "pending": 0, "paid_out": 0, "owed": 0}
    lines = seller.get("/api/v1/wallet/transactions/").json()["results"]
    assert {(t["code"], t["direction"], t["status"], t["amount"], t["order_id"]) for t in lines} == {
        ("escrow.hold", "in", "released", 9000, order["id"]), ("escrow.release", "in", "posted", 9000, order["id"])}
    with tenant_run(alpha.tenant):
        commission = Account.objects.get(code="commission:marketplace:SAR")
        assert commission.credits_posted >= 1000
    _books(alpha)


def test_a_service_is_held_until_accepted(api, alpha):
    seller, buyer, order = _service_order(api, alpha)
    _pay(alpha, order["payment"]["id"])
    assert _wallet(seller)["pending"] == 18000 and _wallet(seller)["available"] == 0
    escrow = buyer.get("/api/v1/escrows/?role=buyer&market=services").json()["results"][0]
    assert escrow["status"] == "held" and escrow["release_after"] is None
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    assert buyer.get(f"/api/v1/escrows/{escrow['id']}/").json()["release_after"] is not None
    assert_error(seller.post(f"/api/v1/escrows/{escrow['id']}/release"), 403, "not_the_buyer")
    assert_error(user(api, alpha).post(f"/api/v1/escrows/{escrow['id']}/release"), 404, "escrow_not_found")
    released = buyer.post(f"/api/v1/escrows/{escrow['id']}/release")
    assert released.json()["status"] == "released", released.content
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "completed"  # release = acceptance
    assert _wallet(seller) == {"currency": "SAR", "available": 18000, "pending": 0, "paid_out": 0, "owed": 0}
    assert_error(buyer.post(f"/api/v1/escrows/{escrow['id']}/release"), 409, "invalid_transition")
    _books(alpha)


def test_auto_release_runs_once_however_often_it_runs(api, alpha):
    from datetime import timedelta

    from django.utils import timezone

    seller, _buyer, order = _service_order(api, alpha)
    _pay(alpha, order["payment"]["id"])
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    with tenant_run(alpha.tenant):
        assert escrow_services.escrows_auto_release() == 0  # not due yet
        later = timezone.now() + timedelta(days=8)
        assert escrow_services.escrows_auto_release(now=later) == 1
        assert escrow_services.escrows_auto_release(now=later) == 0  # a rerun releases nothing twice
        assert Order.objects.get(pk=order["id"]).status == "completed"
        assert Transfer.objects.filter(code="escrow.release", reference=str(Escrow.objects.get(
            order_id=order["id"]).pk)).count() == 2
    assert _wallet(seller)["available"] == 18000
    _books(alpha)


def _three_delivered(api, market):
    """Three paid service orders, delivered; and a time past their auto-release."""
    from datetime import timedelta

    from django.utils import timezone

    orders = [_service_order(api, market) for _ in range(3)]
    for seller, _buyer, order in orders:
        _pay(market, order["payment"]["id"])
        seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    return orders, timezone.now() + timedelta(days=8)


def test_an_auto_release_failing_on_one_escrow_releases_the_others_and_that_one_next_run(api, alpha, monkeypatch):
    orders, later = _three_delivered(api, alpha)
    real = escrow_services.escrow_release
    calls = {"n": 0}

    def crashing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(escrow_services, "escrow_release", crashing)
    monkeypatch.setattr("osdm.escrow.services.escrow_release", crashing)
    with tenant_run(alpha.tenant):
        assert escrow_services.escrows_auto_release(now=later) == 2  # the second one failed, rolled back, logged
        assert sorted(Escrow.objects.filter(order_id__in=[o["id"] for _, _, o in orders])
                      .values_list("status", flat=True)) == ["held", "released", "released"]
        monkeypatch.setattr("osdm.escrow.services.escrow_release", real)
        assert escrow_services.escrows_auto_release(now=later) == 1
        assert set(Escrow.objects.filter(order_id__in=[o["id"] for _, _, o in orders])
                   .values_list("status", flat=True)) == {"released"}
    _books(alpha)


def test_an_auto_release_crashed_halfway_releases_each_escrow_once_on_the_next_run(api, alpha, monkeypatch):
    orders, later = _three_delivered(api, alpha)
    real = escrow_services.escrow_release
    calls = {"n": 0}

    def killed(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # not an error the job may swallow: the run ends here
        return real(**kwargs)

    monkeypatch.setattr("osdm.escrow.services.escrow_release", killed)
    with tenant_run(alpha.tenant):
        with pytest.raises(SystemExit):
            escrow_services.escrows_auto_release(now=later)
        monkeypatch.setattr("osdm.escrow.services.escrow_release", real)
        assert escrow_services.escrows_auto_release(now=later) == 2
        assert escrow_services.escrows_auto_release(now=later) == 0
        assert set(Escrow.objects.filter(order_id__in=[o["id"] for _, _, o in orders])
                   .values_list("status", flat=True)) == {"released"}
        assert Transfer.objects.filter(code="escrow.release",
                                       reference__in=[str(e.pk) for e in Escrow.objects.filter(
                                           order_id__in=[o["id"] for _, _, o in orders])]).count() == 6
    _books(alpha)


def test_cancelling_a_paid_order_refunds_it_through_the_ledger(api, alpha):
    from osdm.payments.simulators.sandbox import SandboxSimulator
    from tests.payments.conftest import configure_sandbox

    sim = SandboxSimulator(secret_key="sk_sandbox_test", webhook_secret="whsec_sandbox_test").start()
    try:
        sim.deliver_callbacks = False
        configure_sandbox(api, alpha, sim)
        seller, buyer, order = _service_order(api, alpha)
        processed = buyer.post(f"/api/v1/payments/{order['payment']['id']}/process",
                               {"method": "visa", "return_url": "https://shop.example.com/r"}).json()
        sim.complete(processed["gateway_payment_id"], "paid")
        from tests.payments.conftest import deliver

        deliver(api, alpha, sim)
        assert _wallet(seller)["pending"] == 18000
        cancelled = seller.post(f"/api/v1/orders/{order['id']}/cancel", {"reason": "cannot do it"})
        assert cancelled.json()["status"] == "cancelled", cancelled.content
        assert sim.payments[processed["gateway_payment_id"]]["refunded"] == 20000  # the gateway refunded
        assert _wallet(seller) == {"currency": "SAR", "available": 0, "pending": 0, "paid_out": 0, "owed": 0}
        escrow = buyer.get("/api/v1/escrows/?role=buyer").json()["results"][0]
        assert escrow["status"] == "refunded"
        _books(alpha)
    finally:
        sim.stop()


def test_a_partial_refund_while_held_holds_the_rest(api, alpha):
    seller, buyer, order = _service_order(api, alpha)
    _pay(alpha, order["payment"]["id"])
    _refunded(alpha, order["payment"]["id"], 5000)
    escrow = buyer.get("/api/v1/escrows/").json()["results"][0]
    assert escrow["status"] == "held" and escrow["amount"] == 15000 and escrow["commission"] == 1500
    assert _wallet(seller)["pending"] == 13500
    _books(alpha)
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "done"})
    buyer.post(f"/api/v1/orders/{order['id']}/complete")
    assert _wallet(seller)["available"] == 13500
    _books(alpha)


def test_a_refund_after_release_takes_the_money_back_from_the_seller(api, alpha):
    seller, buyer = user(api, alpha, seller=True), user(api, alpha)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, alpha, price=10001)["id"]}).json()
    _pay(alpha, order["payment"]["id"])
    assert _wallet(seller)["available"] == 9001  # 10.01 SAR, commission rounded half up to 1.00
    _refunded(alpha, order["payment"]["id"], 3333)
    _refunded(alpha, order["payment"]["id"], 10001)
    assert _wallet(seller)["available"] == 0
    _books(alpha)


def test_milestones_are_held_and_released_one_by_one(api, alpha):
    poster, seller = user(api, alpha), user(api, alpha, seller=True)
    _, contract = markets.contract(poster, seller, alpha, milestones=[10000, 20000])
    one, two = (m["id"] for m in contract["milestones"])
    for milestone_id in (one, two):
        payment = poster.post(f"/api/v1/orders/{contract['id']}/milestones/{milestone_id}/payment").json()
        _pay(alpha, payment["id"])
    assert _wallet(seller)["pending"] == 27000
    seller.post(f"/api/v1/orders/{contract['id']}/deliver", {"message": "m1", "milestone_id": one})
    poster.post(f"/api/v1/orders/{contract['id']}/milestones/{one}/accept")
    assert (_wallet(seller)["available"], _wallet(seller)["pending"]) == (9000, 18000)
    assert [e["status"] for e in poster.get("/api/v1/escrows/?market=projects").json()["results"]] in (
        ["held", "released"], ["released", "held"])
    _books(alpha)


def test_wallets_are_private(api, alpha, beta):
    seller = user(api, alpha, seller=True)
    _service_order(api, alpha, seller=seller)
    assert_error(api(alpha, alpha.secret_key).get("/api/v1/wallet/"), 403)
    assert user(api, alpha).get("/api/v1/wallet/").json()["balances"] == []
    assert user(api, beta).get("/api/v1/escrows/").json()["results"] == []
    for bad in ("role=admin", "status=lost", "market=food"):
        assert_error(seller.get(f"/api/v1/escrows/?{bad}"), 400)


# --- the ledger itself ---------------------------------------------------------------------------


@pytest.fixture
def accounts(alpha):
    with tenant_run(alpha.tenant):
        owner = uuid.uuid4()
        from osdm.accounts.models import User

        person = User.objects.create_user(f"{owner}@example.com", "x" * 12, full_name="Ledger")
        yield {"clearing": account_get(kind="gateway_clearing", currency="SAR", scope=f"t-{owner}"),
               "buyer": account_get(kind="buyer", currency="SAR", owner_id=person.pk),
               "wallet": account_get(kind="wallet", currency="SAR", owner_id=person.pk)}


def test_reconciliation_reports_an_escrow_whose_state_disagrees_with_its_holds(api, alpha):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    order = service_order(buyer, seller, alpha)
    _pay(alpha, order["payment"]["id"])
    _books(alpha)  # held, and its holds open for exactly its amount
    with tenant_run(alpha.tenant):
        escrow = Escrow.objects.get(order_id=order["id"])
        Escrow.objects.filter(pk=escrow.pk).update(status="released")  # as a bug that skipped the ledger would
        (problem,) = escrow_services.escrows_verify()
        assert str(escrow.pk) in problem and "reserve 15000, expected 0" in problem
        from osdm.ledger.reconciliation import reconcile

        assert problem in reconcile(check_gateways=False)["ledger"]


def test_transfers_replay_as_no_ops_and_refuse_other_content(accounts):
    move = Move(id=transfer_id("t", 1), kind="posted", code="test", amount=500, debit=accounts["clearing"],
                credit=accounts["buyer"])
    transfers_apply([move])
    transfers_apply([move])
    accounts["buyer"].refresh_from_db()
    assert accounts["buyer"].credits_posted == 500
    with pytest.raises(LedgerConflict):
        transfers_apply([Move(id=move.id, kind="posted", code="test", amount=501, debit=accounts["clearing"],
                              credit=accounts["buyer"])])


def test_guarded_accounts_never_go_negative_and_pendings_resolve_once(accounts):
    transfers_apply([Move(id=transfer_id("t", 2), kind="posted", code="test", amount=1000,
                          debit=accounts["clearing"], credit=accounts["buyer"])])
    hold = Move(id=transfer_id("t", 3), kind="pending", code="test", amount=800, debit=accounts["buyer"],
                credit=accounts["wallet"])
    transfers_apply([hold])
    with pytest.raises(InsufficientFunds), transaction.atomic():
        transfers_apply([Move(id=transfer_id("t", 4), kind="posted", code="test", amount=300,
                              debit=accounts["buyer"], credit=accounts["clearing"])])
    transfers_apply([Move(id=transfer_id("t", 5), kind="post_pending", code="test", amount=600, pending_id=hold.id)])
    with pytest.raises(LedgerConflict), transaction.atomic():
        transfers_apply([Move(id=transfer_id("t", 6), kind="void_pending", code="test", pending_id=hold.id)])
    for account in accounts.values():
        account.refresh_from_db()
    assert (accounts["buyer"].available, accounts["wallet"].available) == (400, 600)  # 200 released back
    assert verify() == []


def test_transfers_are_immutable_and_verify_catches_tampered_balances(accounts):
    transfers_apply([Move(id=transfer_id("t", 7), kind="posted", code="test", amount=100,
                          debit=accounts["clearing"], credit=accounts["buyer"])])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_transfer SET amount = 1 WHERE id = %s", [transfer_id("t", 7)])
    Account.objects.filter(pk=accounts["clearing"].pk).update(debits_posted=99)
    assert any("debits_posted" in problem for problem in verify())

"""Races on money with real threads and connections (committed data, the gamma marketplace)."""

import threading
import uuid

from django.db import connection, transaction

from osdm.audit.services import Actor
from osdm.core.errors import ApplicationError
from osdm.escrow.models import Escrow
from osdm.escrow.services import escrow_release
from osdm.ledger.models import Transfer
from osdm.ledger.services import verify
from osdm.payments import services as payments
from osdm.payments.gateways.base import GatewayPayment, GatewayStatus
from osdm.payments.models import Payment
from tenants.services import tenant_run

from .markets import service, user


def test_twenty_simultaneous_releases_release_once(api, gamma, committed):
    seller, buyer = user(api, gamma, seller=True), user(api, gamma)
    gig = service(seller, gamma, packages=[{"tier": "basic", "title": "B", "price": 50000, "delivery_days": 2}])
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    with tenant_run(gamma.tenant), transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=order["payment"]["id"])
        payments._apply(payment, GatewayPayment(gateway_payment_id="gw-race", status=GatewayStatus.SUCCEEDED,
                                                amount=payment.amount, currency="SAR"), source="test")
    with tenant_run(gamma.tenant):
        escrow_id = Escrow.objects.get(order_id=order["id"]).pk

    barrier = threading.Barrier(20)
    results: list[str] = []

    def release():
        try:
            with tenant_run(gamma.tenant):
                escrow = Escrow.objects.get(pk=escrow_id)
                barrier.wait()
                escrow_release(escrow=escrow, actor=Actor.system("race"))
                results.append("ok")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=release) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 20
    with tenant_run(gamma.tenant):
        assert Escrow.objects.get(pk=escrow_id).status == "released"
        assert Transfer.objects.filter(code="escrow.release", reference=str(escrow_id)).count() == 2  # two legs, once
        assert verify() == []
    assert seller.get("/api/v1/wallet/").json()["balances"][0]["available"] == 45000


def test_a_release_racing_a_dispute_ends_in_exactly_one(api, gamma, committed):
    from osdm.accounts.models import User
    from osdm.disputes.services import dispute_open
    from osdm.escrow.services import escrow_release_by

    seller, buyer = user(api, gamma, seller=True), user(api, gamma)
    gig = service(seller, gamma, packages=[{"tier": "basic", "title": "B", "price": 30000, "delivery_days": 2}])
    outcomes = []
    for _ in range(3):  # a few rounds, so either side gets to win sometimes
        order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                               "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
        with tenant_run(gamma.tenant), transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=order["payment"]["id"])
            payments._apply(payment, GatewayPayment(gateway_payment_id=f"gw-{payment.pk}",
                                                    status=GatewayStatus.SUCCEEDED, amount=payment.amount,
                                                    currency="SAR"), source="test")
        with tenant_run(gamma.tenant):
            escrow_id = Escrow.objects.get(order_id=order["id"]).pk
        barrier = threading.Barrier(2)
        results = {}

        def act(kind, escrow_id=escrow_id, barrier=barrier, results=results):
            try:
                with tenant_run(gamma.tenant):
                    escrow = Escrow.objects.get(pk=escrow_id)
                    principal = User.objects.get(pk=buyer.user_id)
                    barrier.wait()
                    if kind == "release":
                        escrow_release_by(escrow=escrow, principal=principal, actor=Actor.for_user(principal))
                    else:
                        dispute_open(actor=Actor.for_user(principal), escrow=escrow, principal=principal,
                                     reason="quality", description="race")
                    results[kind] = "ok"
            except ApplicationError as exc:
                results[kind] = exc.code
            finally:
                connection.close()

        threads = [threading.Thread(target=act, args=(kind,)) for kind in ("release", "dispute")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results.values()).count("ok") == 1, results
        with tenant_run(gamma.tenant):
            status = Escrow.objects.get(pk=escrow_id).status
        assert status == ("released" if results["release"] == "ok" else "disputed")
        outcomes.append(status)
    with tenant_run(gamma.tenant):
        assert verify() == []


def _race(count: int, work) -> list[str]:
    """Run work(i) in `count` threads released together; each result is "ok" or the error's name."""
    barrier = threading.Barrier(count)
    results: list[str] = []

    def run(i):
        try:
            barrier.wait()
            work(i)
            results.append("ok")
        except Exception as exc:
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _report(market, payment_id, status, refunded=0):
    with tenant_run(market.tenant), transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        payments._apply(payment, GatewayPayment(gateway_payment_id=f"gw-{payment_id}", status=status,
                                                amount=payment.amount, currency="SAR", refunded_amount=refunded),
                        source="test")


def test_refunds_and_captures_for_one_buyer_and_seller_never_deadlock(api, gamma, committed):
    """A refund voids, re-holds and pays out; a capture pays in and holds: both touch the buyer's,
    the seller's and the commission accounts. One ledger call per event keeps one lock order."""
    seller, buyer = user(api, gamma, seller=True), user(api, gamma)
    gig = service(seller, gamma, packages=[{"tier": "basic", "title": "B", "price": 10000, "delivery_days": 2}])
    payment_ids = [buyer.post("/api/v1/orders/", {
        "listing_id": gig["id"], "package": "basic",
        "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()["payment"]["id"] for _ in range(8)]
    held, fresh = payment_ids[:4], payment_ids[4:]
    for payment_id in held:
        _report(gamma, payment_id, GatewayStatus.SUCCEEDED)

    def work(i):
        if i < 4:
            _report(gamma, fresh[i], GatewayStatus.SUCCEEDED)
        else:
            _report(gamma, held[i - 4], GatewayStatus.PARTIALLY_REFUNDED, refunded=2500)

    assert _race(8, work) == ["ok"] * 8
    with tenant_run(gamma.tenant):
        assert verify() == []
    assert seller.get("/api/v1/wallet/").json()["balances"][0]["pending"] == 4 * 9000 + 4 * 6750


def test_the_same_new_transfer_applied_by_ten_writers_at_once_is_made_once(gamma, committed):
    from osdm.ledger.models import transfer_id
    from osdm.ledger.services import Move, account_get, transfers_apply

    tag = uuid.uuid4().hex[:8]
    with tenant_run(gamma.tenant):
        clearing = account_get(kind="gateway_clearing", currency="SAR", scope=f"race-{tag}")
        buyer = account_get(kind="buyer", currency="SAR", scope=f"race-b-{tag}")
    move = Move(id=transfer_id("race", tag), kind="posted", code="test", amount=700, debit=clearing, credit=buyer)

    def work(_i):
        with tenant_run(gamma.tenant):
            transfers_apply([move])

    assert _race(10, work) == ["ok"] * 10
    with tenant_run(gamma.tenant):
        assert Transfer.objects.filter(id=move.id).count() == 1
        buyer.refresh_from_db()
        assert buyer.credits_posted == 700
        assert verify() == []

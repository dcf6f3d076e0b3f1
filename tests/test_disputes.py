"""Disputes: who may open them and when, evidence and messages, the three resolutions through the
ledger (and the gateway), the unanswered-dispute rule, and a release racing a dispute."""

from datetime import timedelta

import pytest
from django.utils import timezone

from osdm.disputes.services import disputes_unanswered
from osdm.orders.models import Order
from tenants.services import tenant_run

from .conftest import assert_error
from .markets import upload, user
from .payments.conftest import configure_sandbox, deliver
from .test_money import _books, _service_order, _wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_service(api, alpha, sandbox):
    """A service order paid through the sandbox gateway, delivered, escrow held."""
    configure_sandbox(api, alpha, sandbox)
    seller, buyer, order = _service_order(api, alpha)
    processed = buyer.post(f"/api/v1/payments/{order['payment']['id']}/process",
                           {"method": "visa", "return_url": "https://shop.example.com/r"}).json()
    sandbox.complete(processed["gateway_payment_id"], "paid")
    deliver(api, alpha, sandbox)
    seller.post(f"/api/v1/orders/{order['id']}/deliver", {"message": "here"})
    escrow = buyer.get("/api/v1/escrows/?role=buyer").json()["results"][0]
    assert escrow["status"] == "held"
    return seller, buyer, order, escrow, processed["gateway_payment_id"]


def _open(buyer, escrow, **extra):
    return buyer.post(f"/api/v1/escrows/{escrow['id']}/dispute",
                      {"reason": "not_as_described", "description": "الشعار لا يطابق الوصف", **extra})


def test_only_the_buyer_opens_within_the_window(api, alpha, paid_service):
    seller, buyer, order, escrow, _ = paid_service
    assert_error(seller.post(f"/api/v1/escrows/{escrow['id']}/dispute",
                             {"reason": "other", "description": "x"}), 403, "not_the_buyer")
    assert_error(user(api, alpha).post(f"/api/v1/escrows/{escrow['id']}/dispute",
                                       {"reason": "other", "description": "x"}), 404)
    with tenant_run(alpha.tenant):
        Order.objects.filter(pk=order["id"]).update(delivered_at=timezone.now() - timedelta(days=8))
    assert_error(_open(buyer, escrow), 409, "dispute_window_closed")
    with tenant_run(alpha.tenant):
        Order.objects.filter(pk=order["id"]).update(delivered_at=timezone.now())
    evidence = upload(buyer, "photo.png", b"\x89PNG\r\n\x1a\n" + b"1" * 32, purpose="delivery")
    opened = _open(buyer, escrow, file_ids=[evidence])
    assert opened.status_code == 201, opened.content
    dispute = opened.json()
    assert dispute["status"] == "open" and dispute["messages"][0]["files"][0]["id"] == evidence
    assert buyer.get(f"/api/v1/escrows/{escrow['id']}/").json()["status"] == "disputed"
    assert_error(_open(buyer, escrow), 409, "not_disputable")
    # frozen: neither the buyer's release nor the auto-release moves it
    assert_error(buyer.post(f"/api/v1/escrows/{escrow['id']}/release"), 409, "invalid_transition")
    from osdm.escrow.services import escrows_auto_release

    with tenant_run(alpha.tenant):
        assert escrows_auto_release(now=timezone.now() + timedelta(days=30)) == 0


def test_messages_and_a_split_resolution(api, alpha, paid_service, sandbox):
    seller, buyer, order, escrow, gateway_id = paid_service
    dispute = _open(buyer, escrow).json()
    path = f"/api/v1/disputes/{dispute['id']}"
    answer = seller.post(f"{path}/messages", {"body": "It matches the brief."})
    assert answer.status_code == 201
    assert seller.get(f"{path}/").json()["status"] == "under_review"
    assert_error(user(api, alpha).post(f"{path}/messages", {"body": "hi"}), 404)
    assert_error(buyer.post(f"{path}/resolve", {"outcome": "refund"}), 403)
    operator = api(alpha, alpha.secret_key)
    assert_error(operator.post(f"{path}/resolve", {"outcome": "split", "refund_amount": 20000}), 400, "invalid_split")
    resolved = operator.post(f"{path}/resolve", {"outcome": "split", "refund_amount": 5000, "note": "half done"})
    assert resolved.status_code == 200, resolved.content
    body = resolved.json()
    assert (body["status"], body["outcome"], body["refund_amount"], body["release_amount"]) == (
        "resolved", "split", 5000, 15000)
    assert sandbox.payments[gateway_id]["refunded"] == 5000  # the refund part went through the gateway
    assert _wallet(seller) == {"currency": "SAR", "available": 13500, "pending": 0, "paid_out": 0, "owed": 0}
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "completed"
    assert_error(operator.post(f"{path}/resolve", {"outcome": "release"}), 409)
    _books(alpha)


@pytest.mark.parametrize(("outcome", "wallet", "order_status", "refunded"), [
    ("release", 18000, "completed", 0), ("refund", 0, "cancelled", 20000)])
def test_release_and_refund_resolutions(api, alpha, paid_service, sandbox, outcome, wallet, order_status, refunded):
    seller, buyer, order, escrow, gateway_id = paid_service
    dispute = _open(buyer, escrow).json()
    api(alpha, alpha.secret_key).post(f"/api/v1/disputes/{dispute['id']}/resolve", {"outcome": outcome})
    assert _wallet(seller)["available"] == wallet
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == order_status
    assert sandbox.payments[gateway_id]["refunded"] == refunded
    _books(alpha)


def test_an_unanswered_dispute_resolves_by_the_marketplace_rule(api, alpha, paid_service, sandbox):
    _seller, buyer, _order, escrow, gateway_id = paid_service
    dispute = _open(buyer, escrow).json()
    with tenant_run(alpha.tenant):
        assert disputes_unanswered() == 0  # not yet
        assert disputes_unanswered(now=timezone.now() + timedelta(days=4)) == 1
    resolved = buyer.get(f"/api/v1/disputes/{dispute['id']}/").json()
    assert resolved["outcome"] == "refund" and resolved["refund_amount"] == 20000
    assert sandbox.payments[gateway_id]["refunded"] == 20000
    _books(alpha)


def test_disputes_are_private(api, alpha, beta, paid_service):
    _, buyer, _, escrow, _ = paid_service
    dispute = _open(buyer, escrow).json()
    assert_error(user(api, alpha).get(f"/api/v1/disputes/{dispute['id']}/"), 404, "dispute_not_found")
    assert_error(api(beta, beta.secret_key).get(f"/api/v1/disputes/{dispute['id']}/"), 404)
    assert api(alpha, alpha.secret_key).get("/api/v1/disputes/?status=open").json()["results"]
    assert_error(buyer.get("/api/v1/disputes/?status=maybe"), 400)
    assert_error(_open(buyer, escrow, reason="boredom"), 400)


def test_reconciliation_compares_the_books_with_the_gateway(api, alpha, paid_service, sandbox):
    from django.core.management import call_command

    _, _, _, _, gateway_id = paid_service
    operator = api(alpha, alpha.secret_key)
    report = operator.get("/api/v1/reconciliation").json()
    assert report["ok"] is True and report["checked_payments"] >= 1 and report["ledger"] == []
    sandbox.payments[gateway_id]["refunded"] = 100  # the gateway says something we never recorded
    sandbox.payments[gateway_id]["status"] = "partially_refunded"
    mismatch = operator.get("/api/v1/reconciliation").json()
    assert mismatch["ok"] is False
    assert any("refunded 100 at the gateway" in g["problem"] for g in mismatch["gateways"])
    assert_error(user(api, alpha).get("/api/v1/reconciliation"), 403)
    with pytest.raises(SystemExit):
        call_command("ledger_verify", "--tenant", alpha.tenant.slug)

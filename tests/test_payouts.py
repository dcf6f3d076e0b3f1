"""Withdrawals: Saudi IBAN destinations, requests against the wallet, approval (by the operator or the
auto-approval rule), payouts through the Moyasar adapter and its simulator (real HTTP), failures and
returns putting the money back, rejection, authorization, tenant isolation and idempotency, with the
ledger checked after the moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from osdm.audit.models import AuditRecord
from osdm.ledger.models import Account, Transfer, transfer_id
from osdm.ledger.services import verify
from osdm.payments import services as payments
from osdm.payments.gateways.base import GatewayPayment, GatewayStatus
from osdm.payments.models import Payment
from osdm.payouts import iban as ibans
from osdm.payouts.models import PayoutDestination, Withdrawal
from osdm.payouts.services import withdrawals_sync
from tenants.services import tenant_run
from webhooks import catalog
from webhooks.models import Event

from .conftest import assert_error
from .markets import product, user

pytestmark = pytest.mark.django_db

MOYASAR_KEY, MOYASAR_WEBHOOK_SECRET = "sk_test_osdm_payouts", "whsec_moyasar_payouts"
SOURCE_IBAN = "SA8430400108057386290038"  # the marketplace's own (ANB) account, Moyasar's quick-start example
IBAN = "SA0380000000608010167519"  # the Saudi IBAN registry's example: Al Rajhi Bank
FAILING_IBAN = "SA4380000000608010170000"  # the simulator fails payouts to accounts ending 0000
RIYAD_IBAN = "SA4420000001234567891234"


# --- fixtures and helpers ------------------------------------------------------------------------


def configure_moyasar(api, market, sim, *, payout_account: bool = True, key: str = MOYASAR_KEY) -> None:
    credentials = {"secret_key": key, "webhook_secret": MOYASAR_WEBHOOK_SECRET}
    if payout_account:
        credentials["payout_account_id"] = sim.add_payout_account(key.removeprefix("sk_test_"), SOURCE_IBAN)["id"]
    response = api(market, market.secret_key).put("/api/v1/payment-gateways/moyasar", {
        "enabled": True, "mode": "test", "base_url": sim.url, "credentials": credentials})
    assert response.status_code == 200, response.content


def pay(market, payment_id, gateway: str = "moyasar") -> None:
    """The gateway reports the order's payment captured (what a verified callback does)."""
    with tenant_run(market.tenant), transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        payment.gateway = gateway
        payment.save(update_fields=["gateway"])
        payments._apply(payment, GatewayPayment(gateway_payment_id=f"gw-{payment.pk}", status=GatewayStatus.SUCCEEDED,
                                                amount=payment.amount, currency=payment.currency), source="test")


def funded_seller(api, market, *, price: int = 100000):
    """A seller whose wallet holds price − 10 % commission, from one product sale (released at payment)."""
    seller, buyer = user(api, market, seller=True), user(api, market)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, market, price=price)["id"]}).json()
    pay(market, order["payment"]["id"])
    assert wallet(seller)["available"] == price - price // 10
    return seller


def wallet(client) -> dict:
    balances = client.get("/api/v1/wallet/").json()["balances"]
    return balances[0] if balances else {"currency": "SAR", "available": 0, "pending": 0, "paid_out": 0, "owed": 0}


def destination(client, iban: str = IBAN, **extra) -> dict:
    response = client.post("/api/v1/payout-destinations/", {"iban": iban, "holder_name": "Sara Alqahtani", **extra})
    assert response.status_code == 201, response.content
    return response.json()


def withdraw(client, amount: int, destination_id: str, **kw):
    return client.post("/api/v1/withdrawals/", {"amount": amount, "destination_id": destination_id}, **kw)


def requested(client, amount: int, iban: str = IBAN) -> dict:
    response = withdraw(client, amount, destination(client, iban)["id"])
    assert response.status_code == 201, response.content
    return response.json()


def books(market) -> None:
    with tenant_run(market.tenant):
        assert verify() == []
        # Every withdrawal still being paid out is in transit, and nothing else is.
        in_transit = sum(a.balance_posted for a in Account.objects.filter(kind=Account.Kind.PAYOUTS_IN_TRANSIT))
        open_amounts = sum(Withdrawal.objects.filter(status__in=["requested", "approved"])
                           .values_list("amount", flat=True))
        assert in_transit == open_amounts


def events(market, withdrawal_id: str) -> list[str]:
    with tenant_run(market.tenant):
        return list(Event.objects.filter(data__id=withdrawal_id).order_by("sequence").values_list("type", flat=True))


# --- IBANs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "bank_code", "bank_name"), [
    (IBAN, "80", "Al Rajhi Bank"),
    ("sa03 8000 0000 6080 1016 7519", "80", "Al Rajhi Bank"),  # print format, lower case
    (SOURCE_IBAN, "30", "Arab National Bank"),
    (RIYAD_IBAN, "20", "Riyad Bank"),
    ("SA05050000000000000A1B2C", "05", "Alinma Bank"),  # the account part may hold letters
    ("SA" + ibans.check_digits("SA", "99" + "0" * 12 + "123456") + "99" + "0" * 12 + "123456", "99", ""),
])
def test_valid_saudi_ibans(value, bank_code, bank_name):
    parsed = ibans.parse_saudi(value)
    assert (parsed.bank_code, parsed.bank_name) == (bank_code, bank_name)
    assert len(parsed.iban) == 24 and parsed.iban == parsed.iban.upper() and " " not in parsed.iban
    assert ibans.mod97(parsed.iban) == 1


@pytest.mark.parametrize(("value", "code"), [
    ("SA0380000000608010167518", "iban_invalid_checksum"),  # the last digit mistyped
    ("SA3080000000608010167519", "iban_invalid_checksum"),  # check digits swapped
    ("SA038000000060801016751", "iban_invalid_length"),
    ("SA03800000006080101675190", "iban_invalid_length"),
    ("GB82WEST12345698765432", "iban_not_saudi"),
    ("AE070331234567890123456", "iban_not_saudi"),
    ("SA03AB00000608010167519X", "iban_invalid_format"),  # letters in the bank code
    ("SA03-8000_0000", "iban_invalid_characters"),
    ("", "iban_invalid_characters"),
])
def test_invalid_ibans_are_refused_with_a_reason(value, code):
    with pytest.raises(ibans.InvalidIban) as refused:
        ibans.parse_saudi(value)
    assert refused.value.code == code
    assert not ibans.is_valid_saudi(value)


# --- destinations --------------------------------------------------------------------------------


def test_payout_destinations(api, alpha):
    seller, other = user(api, alpha, seller=True), user(api, alpha, seller=True)
    added = destination(seller, "sa03 8000 0000 6080 1016 7519", city="Riyadh")
    assert (added["iban"], added["bank_code"], added["bank_name"], added["holder_name"], added["city"]) == (
        IBAN, "80", "Al Rajhi Bank", "Sara Alqahtani", "Riyadh")
    assert added["verified_at"] is not None
    error = assert_error(seller.post("/api/v1/payout-destinations/", {"iban": "SA0380000000608010167518",
                                                                       "holder_name": "Sara"}), 400,
                         "iban_invalid_checksum")
    assert list(error["fields"]) == ["iban"]
    assert_error(seller.post("/api/v1/payout-destinations/", {"iban": IBAN, "holder_name": "S"}), 400)
    assert_error(seller.post("/api/v1/payout-destinations/", {"iban": IBAN, "holder_name": "Sara A", "bank": "x"}),
                 400, "validation_error")
    assert_error(seller.post("/api/v1/payout-destinations/", {"iban": IBAN.lower(), "holder_name": "Sara A"}), 409,
                 "destination_exists")
    assert_error(user(api, alpha).post("/api/v1/payout-destinations/", {"iban": IBAN, "holder_name": "Buyer B"}),
                 403, "not_a_seller")
    assert_error(api(alpha, alpha.secret_key).post("/api/v1/payout-destinations/",
                                                   {"iban": IBAN, "holder_name": "Op"}), 403)
    assert [d["id"] for d in seller.get("/api/v1/payout-destinations/").json()["results"]] == [added["id"]]
    assert other.get("/api/v1/payout-destinations/").json()["results"] == []
    assert_error(other.delete(f"/api/v1/payout-destinations/{added['id']}/"), 404, "destination_not_found")
    assert seller.delete(f"/api/v1/payout-destinations/{added['id']}/").status_code == 204
    assert seller.get("/api/v1/payout-destinations/").json()["results"] == []
    assert_error(seller.delete(f"/api/v1/payout-destinations/{added['id']}/"), 404)
    assert destination(seller)["id"] != added["id"]  # the same account may be added again once removed


# --- requesting ----------------------------------------------------------------------------------


def test_a_withdrawal_over_the_available_balance_is_refused_and_writes_nothing(api, alpha):
    seller = funded_seller(api, alpha)
    before = wallet(seller)
    target = destination(seller)["id"]
    with tenant_run(alpha.tenant):
        transfers_before = Transfer.objects.count()
    assert_error(withdraw(seller, before["available"] + 1, target), 409, "insufficient_funds")
    assert wallet(seller) == before
    assert seller.get("/api/v1/withdrawals/").json()["results"] == []
    with tenant_run(alpha.tenant):
        assert Withdrawal.objects.count() == 0
        assert Transfer.objects.count() == transfers_before
    stranger = user(api, alpha, seller=True)  # no wallet at all
    assert_error(withdraw(stranger, 5000, destination(stranger)["id"]), 409, "insufficient_funds")
    books(alpha)


def test_the_minimum_and_the_destination_are_checked(api, alpha):
    seller, other = funded_seller(api, alpha), user(api, alpha, seller=True)
    mine, theirs = destination(seller)["id"], destination(other)["id"]
    error = assert_error(withdraw(seller, 4999, mine), 400, "below_minimum")
    assert "amount" in error["fields"]
    assert_error(withdraw(seller, 5000, theirs), 400, "destination_not_found")  # a stranger's account
    assert_error(withdraw(seller, 5000, "0b5f3c1e-1c1e-4c1e-8c1e-1c1e1c1e1c1e"), 400, "destination_not_found")
    assert_error(seller.post("/api/v1/withdrawals/", {"amount": 5000}), 400, "validation_error")
    assert_error(seller.post("/api/v1/withdrawals/", {"amount": "lots", "destination_id": mine}), 400)
    assert_error(seller.post("/api/v1/withdrawals/", {"amount": -5, "destination_id": mine}), 400)
    seller.delete(f"/api/v1/payout-destinations/{mine}/")
    assert_error(withdraw(seller, 5000, mine), 400, "destination_not_found")  # removed
    operator = api(alpha, alpha.secret_key)
    assert operator.patch("/api/v1/payout-policy", {"minimum_amount": 1000}).json()["minimum_amount"] == 1000
    assert withdraw(seller, 4999, destination(seller, RIYAD_IBAN)["id"]).status_code == 201
    assert wallet(seller)["paid_out"] == 4999
    books(alpha)


# --- paying out ----------------------------------------------------------------------------------


def test_approval_pays_out_through_the_gateway(api, alpha, moyasar):
    configure_moyasar(api, alpha, moyasar)
    seller = funded_seller(api, alpha)
    operator = api(alpha, alpha.secret_key)
    withdrawal = requested(seller, 20000)
    assert (withdrawal["status"], withdrawal["amount"], withdrawal["currency"]) == ("requested", 20000, "SAR")
    assert (withdrawal["iban_last4"], withdrawal["bank_name"]) == ("7519", "Al Rajhi Bank")
    assert wallet(seller) == {"currency": "SAR", "available": 70000, "pending": 0, "paid_out": 20000, "owed": 0}
    assert moyasar.payouts == {}  # nothing is sent before approval
    books(alpha)

    approved = operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["status"], body["gateway"], body["gateway_status"]) == ("approved", "moyasar", "initiated")
    assert body["gateway_payout_id"] and body["submitted_at"]
    [sent] = moyasar.payouts.values()
    assert (sent["amount"], sent["destination"]["iban"], sent["destination"]["name"]) == (20000, IBAN,
                                                                                          "Sara Alqahtani")
    assert sent["metadata"] == {"withdrawal_id": withdrawal["id"]}
    assert_error(operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve"), 409, "invalid_transition")
    books(alpha)

    with tenant_run(alpha.tenant):
        assert withdrawals_sync() == 1  # the bank has not answered yet: still approved
    assert seller.get(f"/api/v1/withdrawals/{withdrawal['id']}/").json()["status"] == "approved"
    moyasar.settle_payouts()
    with tenant_run(alpha.tenant):
        withdrawals_sync()
    paid = seller.get(f"/api/v1/withdrawals/{withdrawal['id']}/").json()
    assert (paid["status"], paid["gateway_status"]) == ("paid", "paid") and paid["paid_at"]
    assert wallet(seller) == {"currency": "SAR", "available": 70000, "pending": 0, "paid_out": 20000, "owed": 0}
    with tenant_run(alpha.tenant):
        leg = Transfer.objects.get(id=transfer_id("payout.paid", withdrawal["id"]))
        assert (leg.debit_account.kind, leg.credit_account.code, leg.amount) == ("payouts_in_transit",
                                                                                "gateway_clearing:moyasar:SAR", 20000)
        actions = list(AuditRecord.objects.filter(object_id=withdrawal["id"]).values_list("action", flat=True))
        assert {"withdrawal.requested", "withdrawal.approved", "withdrawal.paid"} <= set(actions)
    assert events(alpha, withdrawal["id"]) == ["withdrawal.requested", "withdrawal.approved", "withdrawal.paid"]
    books(alpha)


def test_a_failing_payout_puts_the_money_back(api, alpha, moyasar):
    configure_moyasar(api, alpha, moyasar)
    seller = funded_seller(api, alpha)
    withdrawal = requested(seller, 30000, FAILING_IBAN)
    api(alpha, alpha.secret_key).post(f"/api/v1/withdrawals/{withdrawal['id']}/approve")
    assert wallet(seller)["available"] == 60000
    moyasar.settle_payouts()
    synced = api(alpha, alpha.secret_key).post(f"/api/v1/withdrawals/{withdrawal['id']}/sync").json()
    assert synced["status"] == "failed"
    assert synced["failure_reason"] == "Beneficiary account is invalid or closed" and synced["failure_code"]
    assert wallet(seller) == {"currency": "SAR", "available": 90000, "pending": 0, "paid_out": 0, "owed": 0}
    assert events(alpha, withdrawal["id"])[-1] == "withdrawal.failed"
    books(alpha)


def test_a_payout_the_gateway_refuses_fails_and_an_outage_waits(api, alpha, moyasar):
    configure_moyasar(api, alpha, moyasar)
    seller = funded_seller(api, alpha)
    operator = api(alpha, alpha.secret_key)
    withdrawal = requested(seller, 10000)
    moyasar.fail_next("500")
    waiting = operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve").json()
    assert waiting["status"] == "approved" and not waiting["gateway_payout_id"]  # nothing known: retried later
    assert "HTTP 500" in waiting["last_error"]
    with tenant_run(alpha.tenant):
        # An account Moyasar will not pay (its own IBAN check refuses it): a 400, so the payout fails.
        PayoutDestination.objects.filter(withdrawals__pk=withdrawal["id"]).update(iban="SA0380000000608010167518")
        withdrawals_sync()
    failed = operator.get(f"/api/v1/withdrawals/{withdrawal['id']}/").json()
    assert (failed["status"], failed["failure_code"]) == ("failed", "invalid_request_error")
    assert "destination.iban" in failed["failure_reason"]
    assert wallet(seller) == {"currency": "SAR", "available": 90000, "pending": 0, "paid_out": 0, "owed": 0}
    assert moyasar.payouts == {}
    books(alpha)


def test_an_unanswered_submission_is_retried_without_paying_twice(api, alpha, moyasar):
    configure_moyasar(api, alpha, moyasar)
    seller = funded_seller(api, alpha)
    operator = api(alpha, alpha.secret_key)
    first, second = requested(seller, 10000), requested(seller, 12000, RIYAD_IBAN)
    moyasar.fail_next("drop")
    unsent = operator.post(f"/api/v1/withdrawals/{first['id']}/approve").json()
    assert unsent["status"] == "approved" and unsent["gateway_payout_id"] == "" and unsent["last_error"]
    # The second one's request reaches Moyasar but its answer is lost: simulated by sending it with
    # the withdrawal's own idempotency key before approving, with our side recording nothing.
    with tenant_run(alpha.tenant):
        arrived = payments.gateway_for("moyasar").payout(
            amount=12000, currency="SAR", iban=RIYAD_IBAN, name="Sara Alqahtani", reference=second["id"],
            idempotency_key=f"withdrawal:{second['id']}")
        Withdrawal.objects.filter(pk=second["id"]).update(status="approved", gateway="moyasar", submit_attempts=1,
                                                          approved_at=timezone.now())
    with tenant_run(alpha.tenant):
        assert withdrawals_sync() == 2
        rows = {str(w.pk): w for w in Withdrawal.objects.filter(pk__in=[first["id"], second["id"]])}
    assert rows[second["id"]].gateway_payout_id == arrived.gateway_payout_id  # found, not sent again
    assert rows[first["id"]].gateway_payout_id and rows[first["id"]].last_error == ""
    assert len(moyasar.payouts) == 2
    assert all(p["status"] == "initiated" for p in moyasar.payouts.values())
    books(alpha)


def test_a_lookup_that_misses_the_first_payout_never_fails_the_withdrawal(api, alpha, moyasar, monkeypatch):
    from osdm.payments.gateways.moyasar import MoyasarGateway

    configure_moyasar(api, alpha, moyasar)
    seller = funded_seller(api, alpha)
    withdrawal = requested(seller, 10000)
    with tenant_run(alpha.tenant):
        arrived = payments.gateway_for("moyasar").payout(
            amount=10000, currency="SAR", iban=IBAN, name="Sara Alqahtani", reference=withdrawal["id"],
            idempotency_key=f"withdrawal:{withdrawal['id']}")
        Withdrawal.objects.filter(pk=withdrawal["id"]).update(status="approved", gateway="moyasar", submit_attempts=1,
                                                              approved_at=timezone.now())
    monkeypatch.setattr(MoyasarGateway, "find_payout", lambda self, *, idempotency_key: None)
    with tenant_run(alpha.tenant):
        withdrawals_sync()
        row = Withdrawal.objects.get(pk=withdrawal["id"])
    # Sent again, Moyasar refused the reused sequence number: the first payout exists, so no failure.
    assert (row.status, row.gateway_payout_id) == ("approved", "")
    assert "Sequence number is already used" in row.last_error
    assert wallet(seller)["available"] == 80000
    monkeypatch.undo()
    moyasar.settle_payouts()
    with tenant_run(alpha.tenant):
        withdrawals_sync()
        row = Withdrawal.objects.get(pk=withdrawal["id"])
    assert (row.status, row.gateway_payout_id) == ("paid", arrived.gateway_payout_id)
    assert wallet(seller) == {"currency": "SAR", "available": 80000, "pending": 0, "paid_out": 10000, "owed": 0}
    books(alpha)


def test_payouts_wait_for_a_configured_gateway(api, alpha, moyasar):
    seller = funded_seller(api, alpha)
    withdrawal = requested(seller, 10000)
    operator = api(alpha, alpha.secret_key)
    waiting = operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve").json()
    assert waiting["status"] == "approved" and "not enabled" in waiting["last_error"]
    assert seller.get(f"/api/v1/withdrawals/{withdrawal['id']}/").json()["last_error"] == ""  # operator only
    configure_moyasar(api, alpha, moyasar, payout_account=False)
    waiting = operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/sync").json()
    assert waiting["status"] == "approved" and waiting["last_error"].startswith("payouts_not_configured")
    configure_moyasar(api, alpha, moyasar)
    sent = operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/sync").json()
    assert sent["gateway_payout_id"] and sent["last_error"] == ""
    assert wallet(seller)["available"] == 80000
    books(alpha)


def test_rejection_puts_the_money_back(api, alpha):
    seller = funded_seller(api, alpha)
    operator = api(alpha, alpha.secret_key)
    withdrawal = requested(seller, 25000)
    assert_error(operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/reject", {}), 400, "validation_error")
    rejected = operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/reject", {"reason": "Unverified account"})
    assert rejected.status_code == 200, rejected.content
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == ("rejected", "Unverified account")
    assert wallet(seller) == {"currency": "SAR", "available": 90000, "pending": 0, "paid_out": 0, "owed": 0}
    assert_error(operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve"), 409, "invalid_transition")
    assert_error(operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/reject", {"reason": "again"}), 409)
    assert events(alpha, withdrawal["id"]) == ["withdrawal.requested", "withdrawal.rejected"]
    with tenant_run(alpha.tenant):
        assert Transfer.objects.filter(reference=withdrawal["id"], code="payout.return").count() == 1
    books(alpha)


def test_auto_approval_below_the_threshold(api, alpha, moyasar):
    configure_moyasar(api, alpha, moyasar)
    operator = api(alpha, alpha.secret_key)
    assert operator.patch("/api/v1/payout-policy", {"auto_approve_below": 10000}).status_code == 200
    seller = funded_seller(api, alpha)
    small = requested(seller, 9999)
    assert small["status"] == "approved" and small["gateway_payout_id"]
    assert requested(seller, 10000, RIYAD_IBAN)["status"] == "requested"  # not below: the operator decides
    assert len(moyasar.payouts) == 1
    with tenant_run(alpha.tenant):
        approval = AuditRecord.objects.get(object_id=small["id"], action="withdrawal.approved")
        assert (approval.actor_type, approval.actor_id) == ("system", "auto-approval")
    moyasar.settle_payouts()
    assert operator.post(f"/api/v1/withdrawals/{small['id']}/sync").json()["status"] == "paid"
    books(alpha)


def test_a_returned_payout_puts_the_money_back(api, alpha, moyasar):
    configure_moyasar(api, alpha, moyasar)
    seller = funded_seller(api, alpha)
    operator = api(alpha, alpha.secret_key)
    by_bank, by_operator = requested(seller, 10000), requested(seller, 20000, RIYAD_IBAN)
    for withdrawal in (by_bank, by_operator):
        operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve")
    moyasar.settle_payouts()
    with tenant_run(alpha.tenant):
        withdrawals_sync()
    assert wallet(seller) == {"currency": "SAR", "available": 60000, "pending": 0, "paid_out": 30000, "owed": 0}
    # Moyasar reports the first one returned; the periodic check of paid payouts finds it.
    moyasar.return_payout(operator.get(f"/api/v1/withdrawals/{by_bank['id']}/").json()["gateway_payout_id"])
    with tenant_run(alpha.tenant):
        assert withdrawals_sync() == 0  # paid ones are checked every few hours, not every minute
        withdrawals_sync(now=timezone.now() + timedelta(hours=7))
    returned = operator.get(f"/api/v1/withdrawals/{by_bank['id']}/").json()
    assert (returned["status"], returned["failure_reason"]) == ("returned", "Returned by the beneficiary bank")
    # The second one the operator learns about from a bank statement.
    assert_error(seller.post(f"/api/v1/withdrawals/{by_operator['id']}/mark-returned"), 403)
    marked = operator.post(f"/api/v1/withdrawals/{by_operator['id']}/mark-returned", {"reason": "Account closed"})
    assert (marked.json()["status"], marked.json()["failure_reason"]) == ("returned", "Account closed")
    assert_error(operator.post(f"/api/v1/withdrawals/{by_operator['id']}/mark-returned"), 409, "invalid_transition")
    assert wallet(seller) == {"currency": "SAR", "available": 90000, "pending": 0, "paid_out": 0, "owed": 0}
    assert events(alpha, by_bank["id"])[-2:] == ["withdrawal.paid", "withdrawal.returned"]
    books(alpha)


# --- who may do what -----------------------------------------------------------------------------


def test_authorization(api, alpha):
    seller, other = funded_seller(api, alpha), funded_seller(api, alpha)
    operator = api(alpha, alpha.secret_key)
    mine, theirs = requested(seller, 10000), requested(other, 15000)
    for action, body in (("approve", None), ("reject", {"reason": "x"}), ("mark-returned", None), ("sync", None)):
        assert_error(seller.post(f"/api/v1/withdrawals/{mine['id']}/{action}", body), 403, "permission_denied")
    assert_error(seller.get("/api/v1/payout-policy"), 403)
    assert_error(seller.patch("/api/v1/payout-policy", {"auto_approve_below": 10 ** 9}), 403)
    assert_error(operator.post("/api/v1/withdrawals/", {"amount": 5000, "destination_id": mine["destination_id"]}),
                 403)
    assert_error(api(alpha).get("/api/v1/withdrawals/"), 401)
    assert [w["id"] for w in seller.get("/api/v1/withdrawals/").json()["results"]] == [mine["id"]]
    assert_error(seller.get(f"/api/v1/withdrawals/{theirs['id']}/"), 404, "withdrawal_not_found")
    listed = {w["id"] for w in operator.get("/api/v1/withdrawals/?status=requested").json()["results"]}
    assert {mine["id"], theirs["id"]} <= listed
    assert [w["id"] for w in operator.get(f"/api/v1/withdrawals/?seller={other.user_id}").json()["results"]] == [
        theirs["id"]]
    operator.post(f"/api/v1/withdrawals/{theirs['id']}/reject", {"reason": "no"})
    assert [w["id"] for w in other.get("/api/v1/withdrawals/?status=rejected").json()["results"]] == [theirs["id"]]
    assert other.get("/api/v1/withdrawals/?status=requested").json()["results"] == []
    assert_error(operator.get("/api/v1/withdrawals/?status=done"), 400)
    assert_error(operator.get("/api/v1/withdrawals/?seller=nobody"), 400)


def test_tenant_isolation(api, alpha, beta):
    seller = funded_seller(api, alpha)
    withdrawal = requested(seller, 10000)
    beta_operator = api(beta, beta.secret_key)
    assert_error(beta_operator.get(f"/api/v1/withdrawals/{withdrawal['id']}/"), 404)
    assert_error(beta_operator.post(f"/api/v1/withdrawals/{withdrawal['id']}/approve"), 404)
    assert withdrawal["id"] not in {w["id"] for w in beta_operator.get("/api/v1/withdrawals/").json()["results"]}
    assert_error(api(beta, seller.token).get("/api/v1/withdrawals/"), 401)  # alpha's token is not beta's
    assert_error(api(alpha, beta.secret_key).get("/api/v1/payout-policy"), 401)
    assert beta_operator.patch("/api/v1/payout-policy", {"minimum_amount": 100}).status_code == 200
    assert api(alpha, alpha.secret_key).get("/api/v1/payout-policy").json()["minimum_amount"] == 5000


def test_the_withdrawal_post_is_idempotent(api, alpha):
    seller = funded_seller(api, alpha)
    target = destination(seller)["id"]
    first = withdraw(seller, 15000, target, headers={"Idempotency-Key": "withdraw-1"})
    again = withdraw(seller, 15000, target, headers={"Idempotency-Key": "withdraw-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert_error(withdraw(seller, 16000, target, headers={"Idempotency-Key": "withdraw-1"}), 422,
                 "idempotency_key_mismatch")
    assert len(seller.get("/api/v1/withdrawals/").json()["results"]) == 1
    assert wallet(seller)["available"] == 75000
    other = withdraw(seller, 15000, target, headers={"Idempotency-Key": "withdraw-2"})
    assert other.json()["id"] != first.json()["id"]
    assert wallet(seller)["available"] == 60000
    books(alpha)


def test_the_payout_policy(api, alpha):
    operator = api(alpha, alpha.secret_key)
    policy = operator.get("/api/v1/payout-policy").json()
    assert {k: policy[k] for k in ("minimum_amount", "auto_approve_below", "gateway")} == {
        "minimum_amount": 5000, "auto_approve_below": 0, "gateway": "moyasar"}
    assert_error(operator.patch("/api/v1/payout-policy", {"gateway": "sandbox"}), 400)  # it does not pay out
    assert_error(operator.patch("/api/v1/payout-policy", {"gateway": "nope"}), 400)
    assert_error(operator.patch("/api/v1/payout-policy", {"minimum_amount": 0}), 400)
    assert_error(operator.patch("/api/v1/payout-policy", {"maximum": 1}), 400, "validation_error")
    updated = operator.patch("/api/v1/payout-policy", {"minimum_amount": 10000, "auto_approve_below": 20000}).json()
    assert (updated["minimum_amount"], updated["auto_approve_below"]) == (10000, 20000)
    with tenant_run(alpha.tenant):
        assert AuditRecord.objects.filter(action="payout_policy.updated").exists()


def test_the_withdrawal_events_are_in_the_catalog():
    names = {"withdrawal.requested", "withdrawal.approved", "withdrawal.paid", "withdrawal.failed",
             "withdrawal.rejected", "withdrawal.returned"}
    assert names <= set(catalog.CATALOG)
    assert {catalog.get(name).emitted_by for name in names} == {"payouts"}

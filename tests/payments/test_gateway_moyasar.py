"""The Moyasar adapter against its simulator over real HTTP: cards through 3-D Secure (the page and its
buttons), Moyasar tokens, Apple Pay and Google Pay, STC Pay with its OTP; the published declining test
data; fetch; full, partial and refused refunds; webhooks verified by their secret_token; faults, wrong
keys, idempotent creation and a 3-decimal currency; payouts (sent, settled, failed, returned, found again
by their sequence number)."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from osdm.payments.gateways.base import (
    Credentials,
    GatewayError,
    GatewayStatus,
    GatewayUnavailable,
    InvalidCallback,
    Method,
    PaymentRequest,
    PayoutStatus,
    Source,
)
from osdm.payments.gateways.moyasar import MoyasarGateway, given_id, sequence_number
from osdm.payments.simulators.moyasar import MoyasarSimulator

SECRET_KEY, PUBLISHABLE_KEY = "sk_test_osdm_alpha", "pk_test_osdm_alpha"
WEBHOOK_SECRET = "whsec_moyasar_alpha"
WEBHOOK_URL = "http://alpha.localhost:8000/api/v1/payments/webhooks/moyasar/"
RETURN_URL = "http://alpha.localhost:8000/checkout/return?order=42"
CARDS = {Method.MADA: "4201320111111010", Method.VISA: "4111111111111111", Method.MASTERCARD: "5421080101000000"}


@pytest.fixture(scope="module")
def sim():
    simulator = MoyasarSimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def moyasar(sim):
    """The simulator, fresh, with our webhook registered through the API and callbacks queued."""
    sim.reset()
    sim.deliver_callbacks = False
    return sim


def make_gateway(sim, *, timeout: float = 5, mode: str = "test", **values) -> MoyasarGateway:
    credentials = Credentials(values={"secret_key": SECRET_KEY, "publishable_key": PUBLISHABLE_KEY,
                                      "webhook_secret": WEBHOOK_SECRET, **values}, base_url=sim.url, mode=mode)
    return MoyasarGateway(credentials, client=httpx.Client(timeout=timeout, trust_env=False))


@pytest.fixture
def gateway(moyasar):
    gateway = make_gateway(moyasar)
    gateway.ensure_webhook(WEBHOOK_URL)
    return gateway


def card(number: str, **overrides) -> Source:
    return Source(**{"card_number": number, "card_name": "Sara Alqahtani", "card_month": 12, "card_year": 2035,
                     "card_cvc": "123", **overrides})


def request(method: Method, source: Source, *, amount: int = 25000, currency: str = "SAR",
            key: str | None = None) -> PaymentRequest:
    payment_id = str(uuid.uuid4())
    return PaymentRequest(payment_id=payment_id, amount=amount, currency=currency, method=method,
                          description="Order 42", return_url=RETURN_URL, callback_url=WEBHOOK_URL,
                          idempotency_key=key or f"pay:{payment_id}", source=source, metadata={"order": "42"})


def events(sim, gateway):
    """Every queued webhook, parsed by the adapter."""
    return [gateway.parse_callback(cb.body, cb.headers) for cb in sim.pending_callbacks()]


# every method, end to end
@pytest.mark.parametrize("method", list(CARDS))
def test_card_paid_through_the_3ds_page(moyasar, gateway, method):
    req = request(method, card(CARDS[method]))
    created = gateway.create_payment(req)
    assert created.status == GatewayStatus.REQUIRES_ACTION
    assert created.next_action.type == "redirect"
    assert json.loads(moyasar.requests[-1].body)["given_id"] == given_id(req.idempotency_key)
    assert created.raw["metadata"] == {"order": "42", "payment_id": req.payment_id}
    assert created.raw["callback_url"] == RETURN_URL

    page = httpx.get(created.next_action.url)
    assert page.status_code == 200 and "Authenticate" in page.text and 'value="failed"' in page.text
    # what the "Authenticate" button sends
    back = httpx.post(created.next_action.url, data={"outcome": "authenticated"})
    assert back.status_code == 302
    location = urlsplit(back.headers["location"])
    assert location.path == "/checkout/return"
    query = parse_qs(location.query)
    assert query["order"] == ["42"] and query["id"] == [created.gateway_payment_id] and query["status"] == ["paid"]

    fetched = gateway.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.SUCCEEDED
    assert (fetched.amount, fetched.currency, fetched.next_action.type) == (25000, "SAR", "none")
    expected_company = {Method.MADA: "mada", Method.VISA: "visa", Method.MASTERCARD: "master"}[method]
    assert fetched.raw["source"]["company"] == expected_company

    [event] = events(moyasar, gateway)
    assert event.status == GatewayStatus.SUCCEEDED and event.raw["type"] == "payment_paid"
    assert (event.gateway_payment_id, event.payment_id, event.amount) == (created.gateway_payment_id,
                                                                           req.payment_id, 25000)


def test_3ds_completed_by_a_plain_get_and_by_the_python_api(moyasar, gateway):
    first = gateway.create_payment(request(Method.VISA, card(CARDS[Method.VISA])))
    assert httpx.get(first.next_action.url, params={"outcome": "authenticated"}).status_code == 302
    assert gateway.fetch_payment(first.gateway_payment_id).status == GatewayStatus.SUCCEEDED

    second = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA])))
    assert moyasar.complete(second.gateway_payment_id, "paid")["status"] == "paid"
    assert gateway.fetch_payment(second.gateway_payment_id).status == GatewayStatus.SUCCEEDED


def test_failed_3ds_authentication_fails_the_payment(moyasar, gateway):
    created = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA])))
    back = httpx.post(created.next_action.url, data={"outcome": "failed"})
    assert parse_qs(urlsplit(back.headers["location"]).query)["status"] == ["failed"]
    fetched = gateway.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.FAILED and "3-D Secure" in fetched.failure_message
    [event] = events(moyasar, gateway)
    assert event.status == GatewayStatus.FAILED and event.raw["type"] == "payment_failed"


@pytest.mark.parametrize(("method", "number"), [(Method.MADA, "4201320000311101"), (Method.VISA, "4123120001090000"),
                                                (Method.MASTERCARD, "5457210001000092")])
def test_published_insufficient_funds_cards_are_declined(moyasar, gateway, method, number):
    created = gateway.create_payment(request(method, card(number)))
    moyasar.complete_3ds(created.gateway_payment_id)
    fetched = gateway.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.FAILED
    assert (fetched.failure_code, fetched.failure_message) == ("insufficient_funds", "INSUFFICIENT FUNDS")
    [event] = events(moyasar, gateway)
    assert (event.status, event.failure_code) == (GatewayStatus.FAILED, "insufficient_funds")


def test_card_not_enrolled_in_3ds_is_declined_at_creation(moyasar, gateway):
    with pytest.raises(GatewayError) as declined:
        gateway.create_payment(request(Method.VISA, card("4123450131000508")))
    assert "Not Enrolled" in declined.value.message
    assert declined.value.raw["status"] == "failed" and declined.value.raw["id"]


def test_moyasar_token_pays_after_3ds(moyasar, gateway):
    tokenised = httpx.post(f"{moyasar.url}/v1/tokens", auth=(PUBLISHABLE_KEY, ""),
                           json={"name": "Sara Alqahtani", "number": CARDS[Method.VISA], "month": "12",
                                 "year": "2035", "cvc": "123", "save_only": True})
    assert tokenised.status_code == 201 and tokenised.json()["id"].startswith("token_")
    created = gateway.create_payment(request(Method.VISA, Source(token=tokenised.json()["id"])))
    assert created.raw["source"]["type"] == "token" and created.next_action.type == "redirect"
    moyasar.complete_3ds(created.gateway_payment_id)
    assert gateway.fetch_payment(created.gateway_payment_id).status == GatewayStatus.SUCCEEDED


@pytest.mark.parametrize("method", [Method.APPLEPAY, Method.GOOGLEPAY])
def test_wallet_token_pays_at_once(moyasar, gateway, method):
    created = gateway.create_payment(request(method, Source(token='{"paymentData": "opaque wallet token"}')))
    assert created.status == GatewayStatus.SUCCEEDED and created.next_action.type == "none"
    assert created.raw["source"]["type"] == method.value
    [event] = events(moyasar, gateway)
    assert event.status == GatewayStatus.SUCCEEDED


def test_wallet_declined_by_the_published_test_amount(moyasar, gateway):
    with pytest.raises(GatewayError) as declined:
        gateway.create_payment(request(Method.APPLEPAY, Source(token="apple-pay-token"), amount=115000))
    assert (declined.value.code, declined.value.message) == ("insufficient_funds", "INSUFFICIENT FUNDS")


def test_stcpay_paid_with_the_published_otp(moyasar, gateway):
    req = request(Method.STCPAY, Source(mobile="966551234567"))
    created = gateway.create_payment(req)
    assert created.status == GatewayStatus.REQUIRES_ACTION and created.next_action.type == "otp"
    assert created.raw["source"]["mobile"] == "0551234567"
    confirmed = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert confirmed.status == GatewayStatus.SUCCEEDED
    # a retried confirmation reports the outcome instead of failing
    assert gateway.confirm(created.gateway_payment_id, data={"otp": "123456"}).status == GatewayStatus.SUCCEEDED
    [event] = events(moyasar, gateway)
    assert event.status == GatewayStatus.SUCCEEDED and event.payment_id == req.payment_id


def test_stcpay_failing_otp_is_a_decline(moyasar, gateway):
    created = gateway.create_payment(request(Method.STCPAY, Source(mobile="0551234567")))
    with pytest.raises(GatewayError) as declined:
        gateway.confirm(created.gateway_payment_id, data={"otp": "111111"})
    assert declined.value.code == "insufficient_funds"
    assert gateway.fetch_payment(created.gateway_payment_id).status == GatewayStatus.FAILED
    [event] = events(moyasar, gateway)
    assert (event.status, event.failure_code, event.failure_message) == (GatewayStatus.FAILED, "insufficient_funds",
                                                                         "Insufficient Balance.")


def test_stcpay_otp_page_for_a_browser(moyasar, gateway):
    created = gateway.create_payment(request(Method.STCPAY, Source(mobile="0551234567")))
    url = created.raw["source"]["transaction_url"]
    page = httpx.get(url, headers={"accept": "text/html"})
    assert page.status_code == 200 and 'name="otp_value"' in page.text
    back = httpx.post(url, data={"otp_value": "123456", "_browser": "1"})
    assert back.status_code == 302 and parse_qs(urlsplit(back.headers["location"]).query)["status"] == ["paid"]
    assert gateway.fetch_payment(created.gateway_payment_id).status == GatewayStatus.SUCCEEDED


def test_stcpay_unregistered_test_mobile_is_declined(gateway):
    with pytest.raises(GatewayError) as declined:
        gateway.create_payment(request(Method.STCPAY, Source(mobile="0515555555")))
    assert "not registered" in declined.value.message


def test_confirm_needs_an_otp_and_an_stcpay_payment(moyasar, gateway):
    stc = gateway.create_payment(request(Method.STCPAY, Source(mobile="0551234567")))
    for otp in ({}, {"otp": ""}, {"otp": "12a456"}):
        with pytest.raises(GatewayError, match="invalid_otp"):
            gateway.confirm(stc.gateway_payment_id, data=otp)
    assert gateway.fetch_payment(stc.gateway_payment_id).status == GatewayStatus.REQUIRES_ACTION
    with pytest.raises(GatewayError, match="otp_rejected"):
        gateway.confirm(stc.gateway_payment_id, data={"otp": "999999"})
    visa = gateway.create_payment(request(Method.VISA, card(CARDS[Method.VISA])))
    with pytest.raises(GatewayError, match="not_supported"):
        gateway.confirm(visa.gateway_payment_id, data={"otp": "123456"})


# refunds
def paid(sim, gateway, amount: int = 25000) -> str:
    created = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA]), amount=amount))
    sim.complete_3ds(created.gateway_payment_id)
    sim.pending_callbacks()
    return created.gateway_payment_id


def test_full_refund(moyasar, gateway):
    pid = paid(moyasar, gateway)
    refund = gateway.refund(pid, amount=25000, currency="SAR", idempotency_key="refund-1")
    assert refund.status == GatewayStatus.SUCCEEDED and refund.amount == 25000
    fetched = gateway.fetch_payment(pid)
    assert (fetched.status, fetched.refunded_amount) == (GatewayStatus.REFUNDED, 25000)
    [event] = events(moyasar, gateway)
    assert (event.status, event.refunded_amount, event.raw["type"]) == (GatewayStatus.REFUNDED, 25000,
                                                                        "payment_refunded")


def test_partial_refunds_then_an_over_refund_is_refused(moyasar, gateway):
    pid = paid(moyasar, gateway)
    first = gateway.refund(pid, amount=10000, currency="SAR", idempotency_key="refund-1")
    assert (gateway.fetch_payment(pid).status, gateway.fetch_payment(pid).refunded_amount) == \
        (GatewayStatus.PARTIALLY_REFUNDED, 10000)
    with pytest.raises(GatewayError) as refused:
        gateway.refund(pid, amount=15001, currency="SAR", idempotency_key="refund-2")
    assert refused.value.code == "invalid_request_error" and "amount" in refused.value.message
    second = gateway.refund(pid, amount=15000, currency="SAR", idempotency_key="refund-3")
    assert first.gateway_refund_id != second.gateway_refund_id
    assert gateway.fetch_payment(pid).status == GatewayStatus.REFUNDED
    partial, full = events(moyasar, gateway)
    assert (partial.status, partial.refunded_amount) == (GatewayStatus.PARTIALLY_REFUNDED, 10000)
    assert (full.status, full.refunded_amount) == (GatewayStatus.REFUNDED, 25000)
    assert partial.dedupe_key != full.dedupe_key
    with pytest.raises(GatewayError):
        gateway.refund(pid, amount=1, currency="SAR", idempotency_key="refund-4")


def test_an_unpaid_payment_cannot_be_refunded(gateway):
    created = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA])))
    with pytest.raises(GatewayError, match="cannot be refunded"):
        gateway.refund(created.gateway_payment_id, amount=100, currency="SAR", idempotency_key="r")


# webhooks
def test_webhook_verified_and_duplicate_delivery_has_the_same_dedupe_key(moyasar, gateway):
    created = gateway.create_payment(request(Method.APPLEPAY, Source(token="apple-pay-token")))
    [callback] = moyasar.pending_callbacks()
    assert callback.url == WEBHOOK_URL
    payload = json.loads(callback.body)
    assert set(payload) >= {"id", "type", "created_at", "secret_token", "live", "data"}
    first = gateway.parse_callback(callback.body, callback.headers)
    again = gateway.parse_callback(callback.body, dict(callback.headers))
    assert first.dedupe_key == again.dedupe_key == payload["id"]
    assert first.gateway_payment_id == created.gateway_payment_id and first.status == GatewayStatus.SUCCEEDED


def test_webhooks_with_a_wrong_missing_or_tampered_token_are_rejected(moyasar, gateway):
    gateway.create_payment(request(Method.GOOGLEPAY, Source(token="google-pay-token")))
    [callback] = moyasar.pending_callbacks()
    payload = json.loads(callback.body)

    wrong = json.dumps({**payload, "secret_token": "whsec_guess"}).encode()
    missing = json.dumps({k: v for k, v in payload.items() if k != "secret_token"}).encode()
    tampered = callback.body.replace(WEBHOOK_SECRET.encode(), WEBHOOK_SECRET[:-1].encode() + b"X")
    for body in (wrong, missing, tampered, callback.body[:-5], b"", b"[]"):
        with pytest.raises(InvalidCallback):
            gateway.parse_callback(body, callback.headers)
    for other in (make_gateway(moyasar, webhook_secret="whsec_other"), make_gateway(moyasar, webhook_secret="")):
        with pytest.raises(InvalidCallback):
            other.parse_callback(callback.body, callback.headers)


def test_webhooks_are_per_account(moyasar, gateway):
    make_gateway(moyasar, secret_key="sk_test_osdm_beta", webhook_secret="whsec_beta").ensure_webhook(
        "http://beta.localhost:8000/api/v1/payments/webhooks/moyasar/")
    gateway.create_payment(request(Method.APPLEPAY, Source(token="apple-pay-token")))
    assert [cb.url for cb in moyasar.pending_callbacks()] == [WEBHOOK_URL]
    assert gateway.ensure_webhook(WEBHOOK_URL)["url"] == WEBHOOK_URL
    assert len(httpx.get(f"{moyasar.url}/v1/webhooks", auth=(SECRET_KEY, "")).json()["webhooks"]) == 1


# faults, credentials, idempotency, currencies
def test_timeout_is_unavailable(moyasar):
    quick = make_gateway(moyasar, timeout=1)
    moyasar.fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        quick.fetch_payment(str(uuid.uuid4()))


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_server_failures_are_unavailable(moyasar, gateway, fault):
    moyasar.fail_next(fault)
    with pytest.raises(GatewayUnavailable):
        gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA])))


@pytest.mark.parametrize("key", ["sk_live_osdm_alpha", "sk_test_", "not-a-key", ""])
def test_wrong_credentials_are_refused(moyasar, key):
    with pytest.raises(GatewayError) as refused:
        make_gateway(moyasar, secret_key=key).create_payment(request(Method.APPLEPAY, Source(token="t")))
    assert refused.value.code == "authentication_error"
    assert refused.value.raw == {"type": "authentication_error", "message": "Invalid authorization credentials",
                                 "errors": None}


def test_another_accounts_payment_is_not_found(moyasar, gateway):
    created = gateway.create_payment(request(Method.APPLEPAY, Source(token="apple-pay-token")))
    with pytest.raises(GatewayError):
        make_gateway(moyasar, secret_key="sk_test_osdm_beta").fetch_payment(created.gateway_payment_id)
    denied = httpx.get(f"{moyasar.url}/v1/payments/{created.gateway_payment_id}", auth=(PUBLISHABLE_KEY, ""))
    assert denied.status_code == 403


def test_the_idempotency_key_makes_creation_idempotent(moyasar, gateway):
    first = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA]), key="order-42-attempt-1"))
    again = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA]), key="order-42-attempt-1"))
    other = gateway.create_payment(request(Method.MADA, card(CARDS[Method.MADA]), key="order-42-attempt-2"))
    assert first.gateway_payment_id == again.gateway_payment_id != other.gateway_payment_id
    assert given_id("order-42-attempt-1") == given_id("order-42-attempt-1")
    assert uuid.UUID(given_id("order-42-attempt-1")).version == 4
    assert len(moyasar.payments) == 2


def test_kwd_amounts_pass_in_fils_exactly(moyasar, gateway):
    created = gateway.create_payment(request(Method.APPLEPAY, Source(token="apple-pay-token"), amount=12345,
                                             currency="KWD"))
    assert created.raw["amount"] == 12345 and created.raw["amount_format"] == "12.345 KWD"
    fetched = gateway.fetch_payment(created.gateway_payment_id)
    assert (fetched.amount, fetched.currency) == (12345, "KWD")
    gateway.refund(created.gateway_payment_id, amount=1, currency="KWD", idempotency_key="r")
    assert gateway.fetch_payment(created.gateway_payment_id).refunded_amount == 1


def test_invalid_requests_are_refused_cleanly(moyasar, gateway):
    with pytest.raises(GatewayError, match="greater than or equal to 100"):
        gateway.create_payment(request(Method.APPLEPAY, Source(token="t"), amount=99))
    with pytest.raises(GatewayError, match="unsupported_currency"):
        gateway.create_payment(request(Method.APPLEPAY, Source(token="t"), currency="XYZ"))
    with pytest.raises(GatewayError, match="must be SAR"):
        gateway.create_payment(request(Method.STCPAY, Source(mobile="0551234567"), currency="KWD"))
    with pytest.raises(GatewayError, match=r"source\.number"):
        gateway.create_payment(request(Method.VISA, card("4111111111111112")))
    with pytest.raises(GatewayError, match="invalid_source"):
        gateway.create_payment(request(Method.APPLEPAY, Source()))
    with pytest.raises(GatewayError, match="not found"):
        gateway.fetch_payment(str(uuid.uuid4()))
    assert moyasar.payments == {}


def test_raw_card_data_is_refused_in_live_mode(moyasar):
    for live in (make_gateway(moyasar, mode="live"), make_gateway(moyasar, secret_key="sk_live_osdm_alpha")):
        with pytest.raises(GatewayError, match="raw_card_data_forbidden"):
            live.create_payment(request(Method.VISA, card(CARDS[Method.VISA])))
    assert moyasar.payments == {}


# payouts
PAYOUT_SOURCE_IBAN = "SA8430400108057386290038"  # the ANB account of Moyasar's payout quick start
BENEFICIARY = "SA0380000000608010167519"  # the Saudi IBAN registry's example (Al Rajhi Bank)
FAILING_BENEFICIARY = "SA4380000000608010170000"  # the simulator's failing pattern: account ending 0000


@pytest.fixture
def payouts(moyasar):
    """A gateway with a payout account; payouts settle only when the test says so."""
    moyasar.payout_delay = None
    account = moyasar.add_payout_account("osdm_alpha", PAYOUT_SOURCE_IBAN)
    yield make_gateway(moyasar, payout_account_id=account["id"])
    moyasar.payout_delay = 2.0


def send(gateway, *, iban: str = BENEFICIARY, amount: int = 20000, key: str = "withdrawal:1", **extra):
    return gateway.payout(amount=amount, currency="SAR", iban=iban, name="Sara Alqahtani", reference="w-1",
                          idempotency_key=key, **extra)


def test_a_payout_is_sent_pending_and_settles_paid(moyasar, payouts):
    sent = send(payouts, mobile="+966551234567", city="Riyadh")
    assert sent.status == PayoutStatus.PENDING and sent.gateway_status == "initiated"
    body = json.loads(moyasar.requests[-1].body)
    account_id = payouts.credentials.values["payout_account_id"]
    assert body == {"source_id": account_id, "sequence_number": sequence_number("withdrawal:1"), "amount": 20000,
                    "purpose": "payment_to_merchant", "comment": "Withdrawal w-1", "metadata": {"withdrawal_id": "w-1"},
                    "destination": {"type": "bank", "iban": BENEFICIARY, "name": "Sara Alqahtani", "country": "SA",
                                    "mobile": "0551234567", "city": "Riyadh"}}
    assert re.fullmatch(r"\d{16}", sent.reference) and sent.reference == sequence_number("withdrawal:1")
    assert sent.raw["channel"] == "ips"  # Al Rajhi from ANB, under 20,000 SAR
    assert payouts.fetch_payout(sent.gateway_payout_id).status == PayoutStatus.PENDING  # waits for the bank
    moyasar.settle_payouts()
    paid = payouts.fetch_payout(sent.gateway_payout_id)
    assert (paid.status, paid.amount, paid.currency, paid.gateway_status) == (PayoutStatus.PAID, 20000, "SAR", "paid")
    assert moyasar.callbacks == []  # Moyasar documents no payout webhooks: payouts are polled


def test_a_payout_settles_on_a_fetch_after_the_delay(moyasar, payouts):
    moyasar.payout_delay = 0
    sent = send(payouts)
    assert sent.status == PayoutStatus.PENDING
    assert payouts.fetch_payout(sent.gateway_payout_id).status == PayoutStatus.PAID


def test_a_payout_to_the_failing_test_account_fails_and_a_paid_one_can_come_back(moyasar, payouts):
    failing = send(payouts, iban=FAILING_BENEFICIARY)
    moyasar.settle_payouts()
    failed = payouts.fetch_payout(failing.gateway_payout_id)
    assert failed.status == PayoutStatus.FAILED
    assert failed.failure_message == "Beneficiary account is invalid or closed"
    assert failed.failure_code == "beneficiary_account_is_invalid_or_closed"

    paid = send(payouts, key="withdrawal:2")
    moyasar.settle_payout(paid.gateway_payout_id)
    moyasar.return_payout(paid.gateway_payout_id)
    returned = payouts.fetch_payout(paid.gateway_payout_id)
    assert returned.status == PayoutStatus.RETURNED and returned.failure_message == "Returned by the beneficiary bank"


def test_the_sandbox_purposes_fail_as_documented(moyasar, payouts):
    account = payouts.credentials.values["payout_account_id"]
    for purpose, message, at_once in (("expenses_services", "Unsupported purpose", True),
                                      ("payroll_benefits", "This account cannot be used to send salaries", False)):
        created = httpx.post(f"{moyasar.url}/v1/payouts", auth=(SECRET_KEY, ""), json={
            "source_id": account, "amount": 1000, "purpose": purpose,
            "destination": {"type": "bank", "iban": BENEFICIARY, "name": "Sara Alqahtani"}}).json()
        assert (created["status"] == "failed") is at_once
        moyasar.settle_payout(created["id"])
        assert payouts.fetch_payout(created["id"]).failure_message == message


def test_find_payout_by_idempotency_key_prefers_the_one_not_refused(moyasar, payouts):
    assert payouts.find_payout(idempotency_key="withdrawal:1") is None
    first = send(payouts)
    again = send(payouts)  # the same sequence number again: the bank refuses the second
    assert again.status == PayoutStatus.FAILED and again.failure_message == "Sequence number is already used"
    for n in range(25):  # more than a page of others
        send(payouts, key=f"other:{n}")
    found = payouts.find_payout(idempotency_key="withdrawal:1")
    assert found is not None and found.gateway_payout_id == first.gateway_payout_id
    assert payouts.find_payout(idempotency_key="withdrawal:404") is None


def test_payout_refusals_and_outages(moyasar, payouts):
    assert MoyasarGateway.supports_payouts and "payout_account_id" in MoyasarGateway.credential_fields
    with pytest.raises(GatewayError) as unconfigured:
        send(make_gateway(moyasar))
    assert unconfigured.value.code == "payouts_not_configured"
    with pytest.raises(GatewayError, match="unsupported_currency"):
        payouts.payout(amount=100, currency="KWD", iban=BENEFICIARY, name="S A", reference="r", idempotency_key="k")
    with pytest.raises(GatewayError, match=r"destination\.iban"):
        send(payouts, iban="SA0380000000608010167518")
    others = make_gateway(moyasar, secret_key="sk_test_osdm_beta",
                          payout_account_id=payouts.credentials.values["payout_account_id"])
    with pytest.raises(GatewayError, match="source_id"):
        send(others)  # another Moyasar account's payout account
    with pytest.raises(GatewayError, match="not found"):
        payouts.fetch_payout(str(uuid.uuid4()))
    moyasar.fail_next("drop")
    with pytest.raises(GatewayUnavailable):
        send(payouts)
    assert moyasar.payouts == {}
    denied = httpx.get(f"{moyasar.url}/v1/payouts", auth=(PUBLISHABLE_KEY, ""))
    assert denied.status_code == 403


def test_payout_accounts_through_the_api(moyasar):
    created = httpx.post(f"{moyasar.url}/v1/payout_accounts", auth=(SECRET_KEY, ""), json={
        "account_type": "bank", "properties": {"iban": PAYOUT_SOURCE_IBAN},
        "credentials": {"client_id": "any-id", "client_secret": "any-secret"}})
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("account_type", "currency", "properties")} == {
        "account_type": "bank", "currency": "SAR", "properties": {"iban": PAYOUT_SOURCE_IBAN}}
    bad = httpx.post(f"{moyasar.url}/v1/payout_accounts", auth=(SECRET_KEY, ""),
                     json={"account_type": "bank", "properties": {"iban": "SA00"}})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"properties.iban", "credentials"}
    listed = httpx.get(f"{moyasar.url}/v1/payout_accounts", auth=(SECRET_KEY, "")).json()["payout_accounts"]
    assert [a["id"] for a in listed] == [created.json()["id"]]

"""The PayTabs adapter against its simulator, over real HTTP: the hosted page for every method, declines,
queries, refunds, signed IPNs and browser returns, idempotent retries, faults and credentials."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import uuid

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
)
from osdm.payments.gateways.paytabs import (
    PaytabsGateway,
    cart_id_for,
    payment_id_from_cart,
    signed_form_payload,
)
from osdm.payments.simulators.paytabs import PaytabsSimulator

PROFILE_ID = "87654"
SERVER_KEY = "SJJ92MDGNB-JLK69KBKN9-KHN9TLLMRK"
OTHER_KEY = "SZZ92MDGNB-JLK69KBKN9-KHN9TLLMZZ"
RETURN_URL = "https://shop.example/payments/return"
CALLBACK_URL = "https://acme.example/api/v1/payments/webhooks/paytabs/"


@pytest.fixture(scope="module")
def sim():
    simulator = PaytabsSimulator(profiles={PROFILE_ID: SERVER_KEY}).start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.deliver_callbacks = False  # no platform listens here: the tests take the callbacks themselves
    return sim


def gateway(sim, *, key: str = SERVER_KEY, profile_id: str = PROFILE_ID, client=None) -> PaytabsGateway:
    return PaytabsGateway(Credentials({"server_key": key, "profile_id": profile_id}, sim.url), client=client)


@pytest.fixture
def gw(sim):
    return gateway(sim)


def request(method=Method.MADA, amount=1250, currency="SAR", *, payment_id=None, key=None) -> PaymentRequest:
    payment_id = payment_id or str(uuid.uuid4())
    return PaymentRequest(payment_id=payment_id, amount=amount, currency=currency, method=method,
                          description="Order 1001", return_url=RETURN_URL, callback_url=CALLBACK_URL,
                          idempotency_key=key or f"{payment_id}:1")


def browse(url: str, **form: str) -> dict[str, str]:
    """What the payer's browser does: open the hosted page, submit it, and read the signed form the
    page posts back to the return URL."""
    page = httpx.get(url)
    assert page.status_code == 200 and "<form" in page.text
    done = httpx.post(url, data=form)
    assert done.status_code == 200
    assert f'action="{RETURN_URL}"' in done.text
    return {html.unescape(name): html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', done.text)}


def callbacks(sim) -> list:
    return sim.pending_callbacks()


def last_body(sim, path: str) -> dict:
    return json.loads(next(r for r in reversed(sim.requests) if r.path == path).body)


PAYERS = [
    (Method.MADA, {"card_number": "4201320111111010"}, "mada"),
    (Method.VISA, {"card_number": "4111111111111111"}, "Visa"),
    (Method.MASTERCARD, {"card_number": "5421080101000000"}, "MasterCard"),
    (Method.APPLEPAY, {"method": "applepay", "outcome": "success"}, "ApplePay"),
    (Method.STCPAY, {"mobile": "0500000000", "otp": "123456"}, "STCPay"),
]


@pytest.mark.parametrize(("method", "form", "paid_with"), PAYERS, ids=[m.value for m, _, _ in PAYERS])
def test_every_method_pays_through_the_hosted_page(sim, gw, method, form, paid_with):
    created = gw.create_payment(request(method))
    assert created.status == GatewayStatus.REQUIRES_ACTION
    assert created.next_action.type == "redirect" and created.next_action.url.startswith(sim.url)
    sent = last_body(sim, "/payment/request")
    assert sent["tran_type"] == "sale" and sent["tran_class"] == "ecom"
    assert sent["profile_id"] == int(PROFILE_ID) and sent["cart_amount"] == 12.5
    assert sent["payment_methods"] == {Method.MADA: ["mada"], Method.APPLEPAY: ["applepay"],
                                       Method.STCPAY: ["stcpay"]}.get(method, ["creditcard"])
    assert sent["callback"] == CALLBACK_URL and sent["return"] == RETURN_URL

    returned = browse(created.next_action.url, **form)
    assert returned["respStatus"] == "A" and returned["tranRef"] == created.gateway_payment_id
    assert gw.verify_return_form(returned)

    fetched = gw.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.SUCCEEDED
    assert (fetched.amount, fetched.currency, fetched.refunded_amount) == (1250, "SAR", 0)
    assert fetched.raw["payment_info"]["payment_method"] == paid_with

    [ipn] = callbacks(sim)
    assert ipn.url == CALLBACK_URL
    event = gw.parse_callback(ipn.body, ipn.headers)
    assert event.status == GatewayStatus.SUCCEEDED and event.gateway_payment_id == created.gateway_payment_id
    assert event.amount == 1250 and event.payment_id == sent["cart_id"].rsplit("-", 1)[0]


def test_insufficient_funds_card_is_declined(sim, gw):
    created = gw.create_payment(request(Method.MADA))
    returned = browse(created.next_action.url, card_number="4201320000311101")
    assert returned["respStatus"] == "D" and gw.verify_return_form(returned)

    fetched = gw.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.FAILED
    assert fetched.failure_code == "51" and fetched.failure_message == "Insufficient funds"
    [ipn] = callbacks(sim)
    assert gw.parse_callback(ipn.body, ipn.headers).status == GatewayStatus.FAILED


def test_cancelled_page_and_failed_stcpay_otp_fail(sim, gw):
    cancelled = gw.create_payment(request(Method.VISA))
    assert browse(cancelled.next_action.url, outcome="cancel")["respStatus"] == "C"
    assert gw.fetch_payment(cancelled.gateway_payment_id).status == GatewayStatus.FAILED

    stcpay = gw.create_payment(request(Method.STCPAY))
    assert browse(stcpay.next_action.url, mobile="0500000000", otp="111111")["respStatus"] == "D"
    assert gw.fetch_payment(stcpay.gateway_payment_id).status == GatewayStatus.FAILED


def test_programmatic_outcome_on_the_page_url(sim, gw):
    created = gw.create_payment(request(Method.MASTERCARD))
    page = httpx.get(created.next_action.url, params={"outcome": "success"})  # what a test or a link sends
    assert page.status_code == 200
    assert gw.fetch_payment(created.gateway_payment_id).status == GatewayStatus.SUCCEEDED

    other = gw.create_payment(request(Method.MADA))
    fields = sim.complete(other.gateway_payment_id, "declined")
    assert gw.verify_return_form(fields)
    assert gw.fetch_payment(other.gateway_payment_id).status == GatewayStatus.FAILED


def test_fetch_before_the_payer_acts_is_pending(gw):
    created = gw.create_payment(request(Method.VISA))
    fetched = gw.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.PENDING and fetched.amount == 1250


def test_fetch_unknown_transaction_is_an_error(gw):
    with pytest.raises(GatewayError):
        gw.fetch_payment("TST0000000000000")


def paid(sim, gw, amount=1000, currency="SAR", method=Method.VISA) -> str:
    created = gw.create_payment(request(method, amount=amount, currency=currency))
    sim.complete(created.gateway_payment_id, "paid")
    callbacks(sim)
    return created.gateway_payment_id


def test_partial_then_full_refund_and_over_refund_refused(sim, gw):
    tran_ref = paid(sim, gw)
    first = gw.refund(tran_ref, amount=300, currency="SAR", idempotency_key="refund-1", reason="damaged")
    assert first.status == GatewayStatus.SUCCEEDED and first.amount == 300
    sent = last_body(sim, "/payment/request")
    assert sent["tran_type"] == "refund" and sent["tran_ref"] == tran_ref and sent["cart_amount"] == 3.0
    fetched = gw.fetch_payment(tran_ref)
    assert (fetched.status, fetched.refunded_amount) == (GatewayStatus.PARTIALLY_REFUNDED, 300)

    [ipn] = callbacks(sim)
    event = gw.parse_callback(ipn.body, ipn.headers)
    assert event.gateway_payment_id == tran_ref and event.status == GatewayStatus.PARTIALLY_REFUNDED
    assert event.refunded_amount == 300 and event.dedupe_key == f"{first.gateway_refund_id}:A"

    with pytest.raises(GatewayError) as refused:
        gw.refund(tran_ref, amount=701, currency="SAR", idempotency_key="refund-2")
    assert "exceeds" in refused.value.message

    with pytest.raises(GatewayError):  # a refund's reference is not a payment
        gw.fetch_payment(first.gateway_refund_id)

    rest = gw.refund(tran_ref, amount=700, currency="SAR", idempotency_key="refund-3")
    assert rest.status == GatewayStatus.SUCCEEDED
    fetched = gw.fetch_payment(tran_ref)
    assert (fetched.status, fetched.refunded_amount) == (GatewayStatus.REFUNDED, 1000)
    [ipn] = callbacks(sim)
    assert gw.parse_callback(ipn.body, ipn.headers).status == GatewayStatus.REFUNDED


def test_full_refund_at_once(sim, gw):
    tran_ref = paid(sim, gw, amount=4999)
    refund = gw.refund(tran_ref, amount=4999, currency="SAR", idempotency_key="all")
    assert refund.amount == 4999
    assert gw.fetch_payment(tran_ref).status == GatewayStatus.REFUNDED
    with pytest.raises(GatewayError):
        gw.refund(tran_ref, amount=1, currency="SAR", idempotency_key="one-more")


def test_retried_refund_is_not_sent_twice(sim, gw):
    tran_ref = paid(sim, gw)
    first = gw.refund(tran_ref, amount=250, currency="SAR", idempotency_key="same")
    again = gw.refund(tran_ref, amount=250, currency="SAR", idempotency_key="same")
    assert again.gateway_refund_id == first.gateway_refund_id
    assert gw.fetch_payment(tran_ref).refunded_amount == 250


def test_refund_of_unpaid_payment_or_in_another_currency_is_refused(sim, gw):
    created = gw.create_payment(request(Method.VISA))
    with pytest.raises(GatewayError):
        gw.refund(created.gateway_payment_id, amount=100, currency="SAR", idempotency_key="x")
    tran_ref = paid(sim, gw)
    with pytest.raises(GatewayError) as wrong:
        gw.refund(tran_ref, amount=100, currency="AED", idempotency_key="y")
    assert wrong.value.code == "currency_mismatch"


def test_callback_verified_and_duplicates_share_a_dedupe_key(sim, gw):
    tran_ref = paid(sim, gw)
    gw.refund(tran_ref, amount=100, currency="SAR", idempotency_key="r")
    [ipn] = callbacks(sim)
    assert hmac.new(SERVER_KEY.encode(), ipn.body, hashlib.sha256).hexdigest() == ipn.headers["Signature"]
    once = gw.parse_callback(ipn.body, ipn.headers)
    twice = gw.parse_callback(ipn.body, {k.lower(): v for k, v in ipn.headers.items()})  # headers any case
    assert once.dedupe_key == twice.dedupe_key

    sale = gw.create_payment(request(Method.MADA))
    sim.complete(sale.gateway_payment_id, "paid")
    [first] = callbacks(sim)
    assert gw.parse_callback(first.body, first.headers).dedupe_key == f"{sale.gateway_payment_id}:A"


def test_forged_callbacks_are_rejected(sim, gw):
    created = gw.create_payment(request(Method.VISA))
    sim.complete(created.gateway_payment_id, "paid")
    [ipn] = callbacks(sim)
    tampered = ipn.body.replace(b'"cart_amount":"12.50"', b'"cart_amount":"99.50"')
    assert tampered != ipn.body
    forged = {"Signature": hmac.new(OTHER_KEY.encode(), ipn.body, hashlib.sha256).hexdigest()}
    for body, headers in [
        (tampered, ipn.headers),  # body changed after signing
        (ipn.body, {"Signature": "0" * 64}),  # wrong signature
        (ipn.body, {"Content-Type": "application/json"}),  # no signature header
        (ipn.body, {"Signature": ""}),
        (ipn.body, forged),  # signed with another profile's key
    ]:
        with pytest.raises(InvalidCallback):
            gw.parse_callback(body, headers)


def test_return_form_signature(sim, gw):
    created = gw.create_payment(request(Method.VISA))
    fields = sim.complete(created.gateway_payment_id, "paid")
    assert sim.return_forms[-1] == (RETURN_URL, fields)
    assert gw.verify_return_form(fields)
    assert gw.verify_return_form({k: [v] for k, v in fields.items()})  # a parsed query dict
    assert not gw.verify_return_form({**fields, "respStatus": "D"})
    assert not gw.verify_return_form({k: v for k, v in fields.items() if k != "signature"})
    assert not gateway(sim, key=OTHER_KEY).verify_return_form(fields)


def test_return_form_payload_follows_paytabs_php_sdk():
    # array_filter drops "" and "0"; ksort; http_build_query encodes spaces as "+" and "~" as %7E.
    form = {"tranRef": "TST1", "respMessage": "Authorised ok", "cartId": "a~b@c", "token": "", "acquirerRRN": "0",
            "signature": "ignored"}
    assert signed_form_payload(form) == "cartId=a%7Eb%40c&respMessage=Authorised+ok&tranRef=TST1"


def test_retry_with_the_same_key_does_not_create_a_second_payment(sim, gw):
    req = request(Method.VISA)
    created = gw.create_payment(req)
    cart_id = last_body(sim, "/payment/request")["cart_id"]
    assert cart_id == cart_id_for(req.payment_id, req.idempotency_key)

    with pytest.raises(GatewayError) as duplicate:  # the page exists but only its first answer had the URL
        gw.create_payment(req)
    assert duplicate.value.code == "duplicate_request"

    sim.complete(created.gateway_payment_id, "paid")
    replay = gw.create_payment(req)  # the cart has an outcome: it is returned, no new page
    assert replay.gateway_payment_id == created.gateway_payment_id
    assert replay.status == GatewayStatus.SUCCEEDED and replay.next_action.type == "none"
    assert sum(1 for t in sim.payments.values() if t["tran_type"] == "Sale") == 1

    retry = gw.create_payment(request(Method.VISA, payment_id=req.payment_id, key=f"{req.payment_id}:2"))
    assert retry.gateway_payment_id != created.gateway_payment_id  # a new attempt is a new cart


def test_timeout_500_and_dropped_connection_are_unavailable(sim):
    slow = gateway(sim, client=httpx.Client(timeout=1, trust_env=False))
    sim.fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        slow.create_payment(request())
    sim.fail_next("500")
    with pytest.raises(GatewayUnavailable):
        slow.fetch_payment("TST0000000000000")
    sim.fail_next("drop")
    with pytest.raises(GatewayUnavailable):
        slow.create_payment(request())
    assert slow.create_payment(request()).status == GatewayStatus.REQUIRES_ACTION  # and then it recovers


def test_wrong_credentials_are_refused(sim):
    for wrong in (gateway(sim, key=OTHER_KEY), gateway(sim, profile_id="11111"), gateway(sim, key="")):
        with pytest.raises(GatewayError) as refused:
            wrong.create_payment(request())
        assert refused.value.code == "authentication_failed"
        with pytest.raises(GatewayError):
            wrong.fetch_payment("TST0000000000000")
    assert next(r for r in reversed(sim.requests) if r.path == "/payment/query").headers["authorization"] == ""


def test_kwd_three_decimals_convert_exactly(sim, gw):
    created = gw.create_payment(request(Method.VISA, amount=12345, currency="KWD"))
    sent = last_body(sim, "/payment/request")
    assert sent["cart_currency"] == "KWD" and sent["cart_amount"] == 12.345
    sim.complete(created.gateway_payment_id, "paid")
    fetched = gw.fetch_payment(created.gateway_payment_id)
    assert fetched.raw["cart_amount"] == "12.345" and fetched.amount == 12345
    refund = gw.refund(created.gateway_payment_id, amount=1, currency="KWD", idempotency_key="fils")
    assert refund.amount == 1 and last_body(sim, "/payment/request")["cart_amount"] == 0.001
    assert gw.fetch_payment(created.gateway_payment_id).refunded_amount == 1
    [ipn, _refund_ipn] = callbacks(sim)
    assert gw.parse_callback(ipn.body, ipn.headers).amount == 12345


def test_unsupported_currency_and_method_are_refused_before_any_call(sim, gw):
    before = len(sim.requests)
    with pytest.raises(GatewayError):
        gw.create_payment(request(currency="XYZ"))
    with pytest.raises(GatewayError):
        gw.create_payment(request(Method.PAYPAL))
    assert len(sim.requests) == before


def test_cart_id_carries_our_payment_id():
    payment_id = str(uuid.uuid4())
    cart_id = cart_id_for(payment_id, "key")
    assert cart_id == cart_id_for(payment_id, "key") != cart_id_for(payment_id, "other")
    assert payment_id_from_cart(cart_id) == payment_id and len(cart_id) <= 64
    assert len(cart_id_for("p" * 80, "key")) <= 64
    assert PaytabsGateway.credential_fields == ("server_key", "profile_id")
    assert PaytabsGateway.methods == {Method.MADA, Method.VISA, Method.MASTERCARD, Method.APPLEPAY, Method.STCPAY}

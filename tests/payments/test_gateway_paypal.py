"""The PayPal adapter against its simulator, over real HTTP: an order approved on the payer's page and
captured, declines (sandbox negative testing and a refused funding source), fetches, full and partial
refunds, webhooks checked through the verification API, token caching, faults and credentials."""

from __future__ import annotations

import json
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
)
from osdm.payments.gateways.paypal import PaypalGateway
from osdm.payments.simulators.paypal import PaypalSimulator

CLIENT_ID, CLIENT_SECRET = "AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5jkUq4ZfWT", "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKY"
WEBHOOK_ID = "9XL90610J3647323C"
HOOK_URL = "https://acme.example/api/v1/payments/webhooks/paypal/"
RETURN_URL = "https://acme.example/checkout/return?order=42"


@pytest.fixture(scope="module")
def sim():
    simulator = PaypalSimulator(clients={CLIENT_ID: CLIENT_SECRET}).start()
    simulator.add_webhook(HOOK_URL, client_id=CLIENT_ID, webhook_id=WEBHOOK_ID)
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.deliver_callbacks = False  # no platform listens here: the tests take the callbacks themselves
    return sim


def gateway(sim, *, client_id=CLIENT_ID, secret=CLIENT_SECRET, webhook_id=WEBHOOK_ID, client=None,
            mode="test") -> PaypalGateway:
    values = {"client_id": client_id, "client_secret": secret, "webhook_id": webhook_id}
    return PaypalGateway(Credentials(values, sim.url, mode), client=client)


@pytest.fixture
def gw(sim):
    return gateway(sim)


def request(amount: int = 12_50, currency: str = "USD", **overrides) -> PaymentRequest:
    payment_id = overrides.pop("payment_id", f"pay_{uuid.uuid4().hex[:12]}")
    return PaymentRequest(payment_id=payment_id, amount=amount, currency=currency, method=Method.PAYPAL,
                          description="Logo design, 3 concepts", return_url=RETURN_URL, callback_url=HOOK_URL,
                          idempotency_key=overrides.pop("idempotency_key", f"idem-{payment_id}"), **overrides)


def click(url: str, outcome: str) -> httpx.Response:
    """What the payer's browser sends when a button on the approval page is clicked."""
    return httpx.get(f"{url}&outcome={outcome}", follow_redirects=False)


def approved(gw, sim, **kwargs):
    payment = gw.create_payment(request(**kwargs))
    assert click(payment.next_action.url, "approve").status_code == 302
    return payment


def paid(gw, sim, **kwargs):
    payment = approved(gw, sim, **kwargs)
    return gw.confirm(payment.gateway_payment_id, data={})


def events(sim) -> list[tuple[str, bytes, dict[str, str]]]:
    return [(json.loads(c.body)["event_type"], c.body, c.headers) for c in sim.pending_callbacks()]


def sent(sim, path: str) -> list:
    return [r for r in sim.requests if r.path == path]


# paying
def test_paypal_paid_end_to_end_through_the_approval_page(gw, sim):
    req = request(12_50)
    payment = gw.create_payment(req)
    assert payment.status == GatewayStatus.REQUIRES_ACTION
    assert payment.amount == 12_50 and payment.currency == "USD"
    assert payment.next_action.type == "redirect"
    assert payment.next_action.url == f"{sim.url}/checkoutnow?token={payment.gateway_payment_id}"

    create = sent(sim, "/v2/checkout/orders")[0]
    assert create.headers["paypal-request-id"] == req.idempotency_key
    body = create.json()
    assert body["intent"] == "CAPTURE"
    assert body["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "12.50"}
    assert body["purchase_units"][0]["custom_id"] == req.payment_id
    assert body["purchase_units"][0]["reference_id"] == req.payment_id
    context = body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == RETURN_URL and context["cancel_url"] == RETURN_URL

    page = httpx.get(payment.next_action.url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert ">Pay<" in page.text and ">Cancel<" in page.text and "12.50 USD" in page.text

    back = click(payment.next_action.url, "approve")
    assert back.status_code == 302
    location = urlsplit(back.headers["location"])
    query = parse_qs(location.query)
    assert location.path == "/checkout/return"
    assert query["order"] == ["42"] and query["token"] == [payment.gateway_payment_id] and query["PayerID"][0]

    approved_payment = gw.fetch_payment(payment.gateway_payment_id)
    assert approved_payment.status == GatewayStatus.AUTHORIZED  # approved; our capture is next

    captured = gw.confirm(payment.gateway_payment_id, data={})
    assert captured.status == GatewayStatus.SUCCEEDED
    assert captured.gateway_payment_id == payment.gateway_payment_id
    assert captured.amount == 12_50
    capture_id = captured.raw["capture_id"]
    assert capture_id and capture_id in sim.captures

    fetched = gw.fetch_payment(payment.gateway_payment_id)
    assert fetched.status == GatewayStatus.SUCCEEDED and fetched.amount == 12_50 and fetched.refunded_amount == 0
    assert fetched.raw["capture_id"] == capture_id


def test_the_approval_page_buttons_send_the_programmatic_outcome(gw, sim):
    payment = gw.create_payment(request())
    page = httpx.get(payment.next_action.url).text
    assert 'action="/checkoutnow"' in page and 'method="get"' in page
    assert 'name="token"' in page and 'name="outcome" value="approve"' in page
    assert 'name="outcome" value="cancel"' in page


def test_the_python_api_approves_as_the_payer_would(gw, sim):
    payment = gw.create_payment(request())
    sim.approve(payment.gateway_payment_id)
    assert gw.confirm(payment.gateway_payment_id, data={}).status == GatewayStatus.SUCCEEDED


def test_creating_twice_with_one_idempotency_key_gives_one_order(gw, sim):
    req = request()
    first, second = gw.create_payment(req), gw.create_payment(req)
    assert first.gateway_payment_id == second.gateway_payment_id
    assert len(sim.payments) == 1


def test_confirming_twice_reports_the_first_capture(gw, sim):
    payment = approved(gw, sim)
    first = gw.confirm(payment.gateway_payment_id, data={})
    again = gw.confirm(payment.gateway_payment_id, data={"idempotency_key": "another-attempt"})
    assert again.status == GatewayStatus.SUCCEEDED
    assert again.raw["capture_id"] == first.raw["capture_id"]
    assert len(sim.captures) == 1


def test_payer_cancels_on_paypal(gw, sim):
    payment = gw.create_payment(request())
    back = click(payment.next_action.url, "cancel")
    assert back.status_code == 302
    assert parse_qs(urlsplit(back.headers["location"]).query)["token"] == [payment.gateway_payment_id]
    assert gw.fetch_payment(payment.gateway_payment_id).status == GatewayStatus.REQUIRES_ACTION
    with pytest.raises(GatewayError) as error:
        gw.confirm(payment.gateway_payment_id, data={})
    assert error.value.code == "order_not_approved"


def test_decline_with_sandbox_negative_testing(gw, sim):
    """PayPal's published way to get a decline in the sandbox: `PayPal-Mock-Response` on the capture."""
    payment = approved(gw, sim)
    with pytest.raises(GatewayError) as error:
        gw.confirm(payment.gateway_payment_id, data={"mock_application_codes": "INSTRUMENT_DECLINED"})
    assert error.value.code == "instrument_declined"
    capture_call = sent(sim, f"/v2/checkout/orders/{payment.gateway_payment_id}/capture")[0]
    assert json.loads(capture_call.headers["paypal-mock-response"]) == {"mock_application_codes": "INSTRUMENT_DECLINED"}
    # The payer goes back to PayPal to pick another funding source, then the capture goes through.
    again = gw.fetch_payment(payment.gateway_payment_id)
    assert again.status == GatewayStatus.REQUIRES_ACTION and again.next_action.url
    click(again.next_action.url, "approve")
    assert gw.confirm(payment.gateway_payment_id, data={"idempotency_key": "second"}).status == GatewayStatus.SUCCEEDED


def test_mock_responses_are_never_sent_in_live_mode(sim):
    live = gateway(sim, mode="live")
    payment = approved(live, sim)
    assert live.confirm(payment.gateway_payment_id,
                        data={"mock_application_codes": "INSTRUMENT_DECLINED"}).status == GatewayStatus.SUCCEEDED
    assert "paypal-mock-response" not in sent(sim, f"/v2/checkout/orders/{payment.gateway_payment_id}/capture")[0].headers


def test_declined_funding_source_fails_the_capture_and_says_so_by_webhook(gw, sim):
    payment = gw.create_payment(request())
    assert click(payment.next_action.url, "decline").status_code == 302
    result = gw.confirm(payment.gateway_payment_id, data={})
    assert result.status == GatewayStatus.FAILED and result.failure_code == "capture_declined"
    assert gw.fetch_payment(payment.gateway_payment_id).status == GatewayStatus.FAILED
    denied = [e for e in events(sim) if e[0] == "PAYMENT.CAPTURE.DENIED"]
    assert len(denied) == 1
    event = gw.parse_callback(denied[0][1], denied[0][2])
    assert event.status == GatewayStatus.FAILED and event.gateway_payment_id == payment.gateway_payment_id
    with pytest.raises(GatewayError):
        gw.refund(payment.gateway_payment_id, amount=100, currency="USD", idempotency_key="r1")


def test_only_paypal_is_a_method(gw):
    with pytest.raises(GatewayError) as error:
        gw.create_payment(PaymentRequest(payment_id="p1", amount=100, currency="USD", method=Method.VISA,
                                         description="x", return_url=RETURN_URL, callback_url=HOOK_URL,
                                         idempotency_key="k1"))
    assert error.value.code == "method_not_supported"
    assert PaypalGateway.methods == frozenset({Method.PAYPAL})
    assert PaypalGateway.credential_fields == ("client_id", "client_secret", "webhook_id")


def test_unknown_order_is_not_found(gw):
    with pytest.raises(GatewayError) as error:
        gw.fetch_payment("5O190127TN364715T")
    assert error.value.code == "invalid_resource_id"


def test_another_apps_orders_are_not_visible(gw, sim):
    payment = gw.create_payment(request())
    sim.add_client("other-app", "other-secret")
    other = gateway(sim, client_id="other-app", secret="other-secret")
    with pytest.raises(GatewayError):
        other.fetch_payment(payment.gateway_payment_id)


# refunds
def test_partial_then_full_refund_and_over_refunds_refused(gw, sim):
    payment = paid(gw, sim, amount=100_00)
    order_id = payment.gateway_payment_id

    part = gw.refund(order_id, amount=30_00, currency="USD", idempotency_key="refund-1", reason="One concept dropped")
    assert part.status == GatewayStatus.SUCCEEDED and part.amount == 30_00 and part.gateway_refund_id
    call = sent(sim, f"/v2/payments/captures/{payment.raw['capture_id']}/refund")[0]
    assert call.json() == {"amount": {"currency_code": "USD", "value": "30.00"}, "note_to_payer": "One concept dropped"}
    assert call.headers["paypal-request-id"] == "refund-1"
    fetched = gw.fetch_payment(order_id)
    assert fetched.status == GatewayStatus.PARTIALLY_REFUNDED and fetched.refunded_amount == 30_00

    with pytest.raises(GatewayError) as error:
        gw.refund(order_id, amount=70_01, currency="USD", idempotency_key="refund-2")
    assert error.value.code == "refund_amount_exceeded"

    rest = gw.refund(order_id, amount=70_00, currency="USD", idempotency_key="refund-3")
    assert rest.status == GatewayStatus.SUCCEEDED and rest.amount == 70_00
    fetched = gw.fetch_payment(order_id)
    assert fetched.status == GatewayStatus.REFUNDED and fetched.refunded_amount == 100_00

    with pytest.raises(GatewayError) as error:
        gw.refund(order_id, amount=1, currency="USD", idempotency_key="refund-4")
    assert error.value.code == "capture_fully_refunded"


def test_full_refund_at_once(gw, sim):
    payment = paid(gw, sim, amount=250_00, currency="EUR")
    refund = gw.refund(payment.gateway_payment_id, amount=250_00, currency="EUR", idempotency_key="full")
    assert refund.status == GatewayStatus.SUCCEEDED and refund.amount == 250_00
    assert gw.fetch_payment(payment.gateway_payment_id).status == GatewayStatus.REFUNDED


def test_a_refund_retried_with_its_key_refunds_once(gw, sim):
    payment = paid(gw, sim, amount=100_00)
    first = gw.refund(payment.gateway_payment_id, amount=40_00, currency="USD", idempotency_key="same")
    again = gw.refund(payment.gateway_payment_id, amount=40_00, currency="USD", idempotency_key="same")
    assert first.gateway_refund_id == again.gateway_refund_id
    assert gw.fetch_payment(payment.gateway_payment_id).refunded_amount == 40_00


def test_refund_by_capture_id_and_in_the_wrong_currency(gw, sim):
    payment = paid(gw, sim, amount=10_00)
    capture_id = payment.raw["capture_id"]
    with pytest.raises(GatewayError) as error:
        gw.refund(capture_id, amount=1_00, currency="EUR", idempotency_key="eur")
    assert error.value.code == "refund_capture_currency_mismatch"
    assert gw.refund(capture_id, amount=1_00, currency="USD", idempotency_key="usd").amount == 1_00


def test_refunding_an_uncaptured_order_is_refused(gw, sim):
    payment = approved(gw, sim)
    with pytest.raises(GatewayError) as error:
        gw.refund(payment.gateway_payment_id, amount=100, currency="USD", idempotency_key="early")
    assert error.value.code == "not_captured"


# webhooks
def test_webhooks_are_verified_and_parsed(gw, sim):
    req = request(amount=80_00)
    payment = gw.create_payment(req)
    click(payment.next_action.url, "approve")
    gw.confirm(payment.gateway_payment_id, data={})
    gw.refund(payment.gateway_payment_id, amount=20_00, currency="USD", idempotency_key="wh-r1")
    gw.refund(payment.gateway_payment_id, amount=60_00, currency="USD", idempotency_key="wh-r2")

    delivered = events(sim)
    assert [name for name, _, _ in delivered] == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED",
                                                  "PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REFUNDED"]
    assert all(sim.callbacks[i].url == HOOK_URL for i in range(4))
    parsed = [gw.parse_callback(body, headers) for _, body, headers in delivered]
    for event in parsed:
        assert event.gateway_payment_id == payment.gateway_payment_id
        assert event.payment_id == req.payment_id
        assert event.amount == 80_00
    assert [e.status for e in parsed] == [GatewayStatus.AUTHORIZED, GatewayStatus.SUCCEEDED,
                                          GatewayStatus.PARTIALLY_REFUNDED, GatewayStatus.REFUNDED]
    # The second refund event was built when the capture was refunded in full: it reads REFUNDED.
    assert parsed[2].refunded_amount == 20_00 and parsed[3].refunded_amount == 80_00
    assert len({e.dedupe_key for e in parsed}) == 4

    verify = sent(sim, "/v1/notifications/verify-webhook-signature")
    assert len(verify) == 4
    asked = json.loads(verify[0].body)
    assert asked["webhook_id"] == WEBHOOK_ID and asked["auth_algo"] == "SHA256withRSA"
    assert asked["webhook_event"] == json.loads(delivered[0][1])


def test_a_duplicate_delivery_has_the_same_dedupe_key(gw, sim):
    paid(gw, sim)
    delivered = [c for c in sim.pending_callbacks() if b"PAYMENT.CAPTURE.COMPLETED" in c.body]
    event_id = json.loads(delivered[0].body)["id"]
    sim.resend_event(event_id)  # PayPal's retry: the same event in a new transmission
    resent = sim.pending_callbacks()
    assert len(resent) == 1
    assert resent[0].headers["paypal-transmission-id"] != delivered[0].headers["paypal-transmission-id"]
    first = gw.parse_callback(delivered[0].body, delivered[0].headers)
    same = gw.parse_callback(delivered[0].body, delivered[0].headers)
    again = gw.parse_callback(resent[0].body, resent[0].headers)
    assert first.dedupe_key == same.dedupe_key == again.dedupe_key == event_id


def _capture_callback(gw, sim):
    paid(gw, sim)
    return next(c for c in sim.pending_callbacks() if b"PAYMENT.CAPTURE.COMPLETED" in c.body)


def test_a_tampered_body_is_rejected(gw, sim):
    callback = _capture_callback(gw, sim)
    tampered = callback.body.replace(b'"COMPLETED"', b'"REFUNDED"', 1)
    assert tampered != callback.body
    with pytest.raises(InvalidCallback):
        gw.parse_callback(tampered, callback.headers)


def test_a_reserialised_body_is_not_what_paypal_signed(gw, sim):
    callback = _capture_callback(gw, sim)
    compact = json.dumps(json.loads(callback.body), separators=(",", ":")).encode()
    with pytest.raises(InvalidCallback):
        gw.parse_callback(compact, callback.headers)


@pytest.mark.parametrize("header", ["paypal-transmission-sig", "paypal-transmission-id", "paypal-transmission-time",
                                    "paypal-cert-url", "paypal-auth-algo"])
def test_a_changed_transmission_header_is_rejected(gw, sim, header):
    callback = _capture_callback(gw, sim)
    headers = dict(callback.headers)
    headers[header] = {"paypal-transmission-sig": "bm90IHRoZSBzaWduYXR1cmU=",
                       "paypal-transmission-id": "d938e770-8046-11e6-8103-6b62a8a99ac4",
                       "paypal-transmission-time": "2016-09-21T22:00:46Z",
                       "paypal-cert-url": "https://evil.example/cert.pem",
                       "paypal-auth-algo": "SHA1withRSA"}[header]
    with pytest.raises(InvalidCallback):
        gw.parse_callback(callback.body, headers)


@pytest.mark.parametrize("header", ["paypal-transmission-sig", "paypal-transmission-id", "paypal-transmission-time",
                                    "paypal-cert-url", "paypal-auth-algo"])
def test_a_missing_header_is_rejected_without_asking_paypal(gw, sim, header):
    callback = _capture_callback(gw, sim)
    headers = {k: v for k, v in callback.headers.items() if k != header}
    with pytest.raises(InvalidCallback):
        gw.parse_callback(callback.body, headers)
    assert sent(sim, "/v1/notifications/verify-webhook-signature") == []


def test_header_names_are_case_insensitive(gw, sim):
    callback = _capture_callback(gw, sim)
    headers = {k.upper(): v for k, v in callback.headers.items()}
    assert gw.parse_callback(callback.body, headers).status == GatewayStatus.SUCCEEDED


def test_the_wrong_webhook_id_is_rejected(sim):
    gw = gateway(sim)
    callback = _capture_callback(gw, sim)
    with pytest.raises(InvalidCallback):
        gateway(sim, webhook_id="1AB23456CD789012E").parse_callback(callback.body, callback.headers)
    with pytest.raises(InvalidCallback):
        gateway(sim, webhook_id="").parse_callback(callback.body, callback.headers)


def test_garbage_bodies_are_rejected(gw, sim):
    callback = _capture_callback(gw, sim)
    for body in (b"not json", b"[]", b'{"id": "WH-1"}', b"\xff\xfe"):
        with pytest.raises(InvalidCallback):
            gw.parse_callback(body, callback.headers)


def test_a_failing_verification_api_is_unavailable_not_invalid(gw, sim):
    callback = _capture_callback(gw, sim)
    sim.fail_next("500")
    with pytest.raises(GatewayUnavailable):
        gw.parse_callback(callback.body, callback.headers)


def test_webhooks_registered_through_the_api_get_their_own_signature(sim):
    gw = gateway(sim)
    token = gw._access_token()
    created = httpx.post(f"{sim.url}/v1/notifications/webhooks", headers={"Authorization": f"Bearer {token}"},
                         json={"url": "https://beta.example/hook", "event_types": [{"name": "PAYMENT.CAPTURE.COMPLETED"}]})
    assert created.status_code == 201
    webhook_id = created.json()["id"]
    try:
        paid(gw, sim)
        mine = [c for c in sim.pending_callbacks() if c.url == "https://beta.example/hook"]
        assert len(mine) == 1  # only the subscribed event type
        assert gateway(sim, webhook_id=webhook_id).parse_callback(mine[0].body, mine[0].headers).status == \
            GatewayStatus.SUCCEEDED
        with pytest.raises(InvalidCallback):  # signed for the other webhook, not this one
            gw.parse_callback(mine[0].body, mine[0].headers)
    finally:
        sim.webhooks.pop(webhook_id, None)


# tokens, faults, credentials
def test_the_token_is_cached_until_it_expires(gw, sim):
    gw.create_payment(request())
    gw.create_payment(request())
    assert len(sent(sim, "/v1/oauth2/token")) == 1
    token_call = sent(sim, "/v1/oauth2/token")[0]
    assert token_call.headers["authorization"].startswith("Basic ")
    assert token_call.form() == {"grant_type": "client_credentials"}


def test_a_revoked_token_is_renewed_once(gw, sim):
    gw.create_payment(request())
    sim.expire_tokens()
    assert gw.create_payment(request()).status == GatewayStatus.REQUIRES_ACTION
    assert len(sent(sim, "/v1/oauth2/token")) == 2


def test_a_short_lived_token_is_renewed_before_use(sim):
    sim.token_ttl = 1
    try:
        gw = gateway(sim)
        gw.create_payment(request())
        gw.create_payment(request())  # 1 s tokens are renewed 0.1 s early; allow for a slow first call
        assert 1 <= len(sent(sim, "/v1/oauth2/token")) <= 2
        gw._token_expires_at = 0  # as if the hour had passed
        gw.create_payment(request())
        assert len(sent(sim, "/v1/oauth2/token")) >= 2
    finally:
        sim.token_ttl = 32400


def test_timeout_is_unavailable(sim):
    gw = gateway(sim, client=httpx.Client(timeout=1))
    sim.fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        gw.create_payment(request())


def test_timeout_after_the_token_is_unavailable(sim):
    gw = gateway(sim, client=httpx.Client(timeout=1))
    gw.fetch_payment(gw.create_payment(request()).gateway_payment_id)
    sim.fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        gw.create_payment(request())


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_server_errors_are_unavailable(gw, sim, fault):
    sim.fail_next(fault)
    with pytest.raises(GatewayUnavailable):
        gw.create_payment(request())


def test_a_500_on_capture_is_unavailable(gw, sim):
    payment = approved(gw, sim)
    sim.fail_next("500")
    with pytest.raises(GatewayUnavailable):
        gw.confirm(payment.gateway_payment_id, data={})
    assert gw.confirm(payment.gateway_payment_id, data={}).status == GatewayStatus.SUCCEEDED


def test_wrong_credentials_are_a_gateway_error(sim):
    with pytest.raises(GatewayError) as error:
        gateway(sim, secret="wrong-secret").create_payment(request())
    assert error.value.code == "invalid_client"
    with pytest.raises(GatewayError) as error:
        gateway(sim, client_id="unknown-client").fetch_payment("5O190127TN364715T")
    assert error.value.code == "invalid_client"
    with pytest.raises(GatewayError) as error:
        gateway(sim, secret="").create_payment(request())
    assert error.value.code == "invalid_credentials"
    assert sim.payments == {}


# currencies and amounts
def test_three_decimal_currency_is_sent_exactly_and_refused_cleanly(gw, sim):
    """PayPal's currency list has no KWD (nor any 3-decimal currency): the exact amount goes out, and
    PayPal's CURRENCY_NOT_SUPPORTED comes back as a clean GatewayError."""
    with pytest.raises(GatewayError) as error:
        gw.create_payment(request(amount=12_345, currency="KWD"))
    assert error.value.code == "currency_not_supported"
    body = sent(sim, "/v2/checkout/orders")[0].json()
    assert body["purchase_units"][0]["amount"] == {"currency_code": "KWD", "value": "12.345"}


def test_sar_is_paid_in_the_simulator(gw, sim):
    payment = paid(gw, sim, amount=1_999_99, currency="SAR")
    assert payment.status == GatewayStatus.SUCCEEDED and payment.amount == 1_999_99 and payment.currency == "SAR"
    refund = gw.refund(payment.gateway_payment_id, amount=1, currency="SAR", idempotency_key="halala")
    assert refund.amount == 1
    assert gw.fetch_payment(payment.gateway_payment_id).refunded_amount == 1


def test_a_currency_the_account_does_not_take_is_refused(sim):
    strict = PaypalSimulator(clients={CLIENT_ID: CLIENT_SECRET}, currencies={"USD", "EUR", "GBP"}).start()
    try:
        with pytest.raises(GatewayError) as error:
            gateway(strict).create_payment(request(amount=100_00, currency="SAR"))
        assert error.value.code == "currency_not_supported"
    finally:
        strict.stop()

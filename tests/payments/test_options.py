"""Every payment option of the original OSDM, end to end through the platform and a gateway simulator:
mada, Visa, Mastercard, Apple Pay, Google Pay (Moyasar), STC Pay (direct, OTP), PayTabs (hosted page),
Moyasar, PayPal (approval, then capture) — plus a decline."""

import pytest

from osdm.payments.simulators.moyasar import MoyasarSimulator
from osdm.payments.simulators.paypal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, PaypalSimulator
from osdm.payments.simulators.paytabs import PaytabsSimulator
from osdm.payments.simulators.stcpay import StcpaySimulator

from ..conftest import assert_error
from ..markets import product, user
from .conftest import deliver

pytestmark = pytest.mark.django_db
RETURN = "https://shop.example.com/checkout/return"
MOYASAR_KEY, MOYASAR_WEBHOOK_SECRET = "sk_test_osdm", "moyasar-webhook-secret"
PAYTABS_KEY, PAYTABS_PROFILE = "SJNXXXXXXX-JXXXXXXXXX-XXXXXXXXXX", "87654"
CARDS = {"mada": "4201320111111010", "visa": "4111111111111111", "mastercard": "5421080101000000"}


@pytest.fixture(scope="module")
def sims():
    started = {
        "moyasar": MoyasarSimulator(webhook_url="http://alpha.localhost/api/v1/payments/webhooks/moyasar/",
                                    webhook_secret=MOYASAR_WEBHOOK_SECRET).start(),
        "paytabs": PaytabsSimulator(profiles={PAYTABS_PROFILE: PAYTABS_KEY}).start(),
        "paypal": PaypalSimulator().start(),
        "stcpay": StcpaySimulator().start(),
    }
    started["paypal_webhook_id"] = started["paypal"].add_webhook(
        "http://alpha.localhost/api/v1/payments/webhooks/paypal/")
    yield started
    for name, sim in started.items():
        if name != "paypal_webhook_id":
            sim.stop()


@pytest.fixture
def market(api, alpha, sims):
    """alpha with every gateway configured against its simulator, and the methods routed."""
    for name in ("moyasar", "paytabs", "paypal", "stcpay"):
        sims[name].reset()
        sims[name].deliver_callbacks = False
    operator = api(alpha, alpha.secret_key)
    configs = {
        "moyasar": {"secret_key": MOYASAR_KEY, "webhook_secret": MOYASAR_WEBHOOK_SECRET},
        "paytabs": {"server_key": PAYTABS_KEY, "profile_id": PAYTABS_PROFILE},
        "paypal": {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                   "webhook_id": sims["paypal_webhook_id"]},
        "stcpay": {"merchant_id": StcpaySimulator.TEST_MERCHANT_ID, "client_certificate_pem": "-",
                   "client_key_pem": "-"},
    }
    for slug, credentials in configs.items():
        saved = operator.put(f"/api/v1/payment-gateways/{slug}", {
            "enabled": True, "mode": "test", "base_url": sims[slug].url, "credentials": credentials})
        assert saved.status_code == 200, saved.content
    for method, gateway in {"mada": "moyasar", "visa": "moyasar", "mastercard": "moyasar", "applepay": "moyasar",
                            "googlepay": "moyasar", "stcpay": "stcpay", "paypal": "paypal"}.items():
        routed = operator.put(f"/api/v1/payment-methods/{method}", {"gateway": gateway})
        assert routed.status_code == 200, routed.content
    return alpha


def _checkout(api, market):
    seller, buyer = user(api, market, seller=True), user(api, market)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, market, price=12345)["id"]}).json()
    return buyer, order


def _process(buyer, order, method, **extra):
    response = buyer.post(f"/api/v1/payments/{order['payment']['id']}/process",
                          {"method": method, "return_url": RETURN, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def _paid(buyer, order) -> bool:
    payment = buyer.get(f"/api/v1/payments/{order['payment']['id']}/").json()
    state = buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"]
    return payment["status"] == "succeeded" and state == "completed"


@pytest.mark.parametrize("method", ["mada", "visa", "mastercard"])
def test_cards_through_moyasar_with_3ds(api, market, sims, method):
    buyer, order = _checkout(api, market)
    card = {"number": CARDS[method], "name": "Sara Al-Harbi", "month": 12, "year": 2030, "cvc": "123"}
    payment = _process(buyer, order, method, source=card)
    assert payment["gateway"] == "moyasar" and payment["method"] == method
    assert payment["status"] == "requires_action" and payment["next_action"]["type"] == "redirect"
    sims["moyasar"].complete(payment["gateway_payment_id"], "paid")  # the 3-D Secure page, passed
    delivered = deliver(api, market, sims["moyasar"], "moyasar")
    assert delivered and {r.status_code for r in delivered} == {200}
    assert _paid(buyer, order)


@pytest.mark.parametrize("method", ["applepay", "googlepay"])
def test_wallets_through_moyasar(api, market, sims, method):
    buyer, order = _checkout(api, market)
    payment = _process(buyer, order, method, source={"token": f"{method}-device-token-0001"})
    assert payment["gateway"] == "moyasar"
    deliver(api, market, sims["moyasar"], "moyasar")
    if payment["status"] != "succeeded":
        buyer.post(f"/api/v1/payments/{payment['id']}/sync")
    assert _paid(buyer, order)


def test_stcpay_direct_with_an_otp(api, market, sims):
    buyer, order = _checkout(api, market)
    payment = _process(buyer, order, "stcpay", source={"mobile": "0551234567"})
    assert payment["gateway"] == "stcpay" and payment["next_action"]["type"] == "otp"
    assert_error(buyer.post(f"/api/v1/payments/{payment['id']}/confirm", {"otp": "999999"}), 400, "invalid_otp")
    confirmed = buyer.post(f"/api/v1/payments/{payment['id']}/confirm", {"otp": "123456"})
    assert confirmed.json()["status"] == "succeeded", confirmed.content
    assert _paid(buyer, order)


def test_paytabs_hosted_page(api, market, sims):
    buyer, order = _checkout(api, market)
    payment = _process(buyer, order, "visa", gateway="paytabs")
    assert payment["gateway"] == "paytabs" and payment["next_action"]["url"].startswith(sims["paytabs"].url)
    sims["paytabs"].complete(payment["gateway_payment_id"], "paid")
    assert [r.status_code for r in deliver(api, market, sims["paytabs"], "paytabs")] == [200]
    assert _paid(buyer, order)


def test_moyasar_chosen_explicitly(api, market, sims):
    buyer, order = _checkout(api, market)
    payment = _process(buyer, order, "visa", gateway="moyasar",
                       source={"number": CARDS["visa"], "name": "Omar Haddad", "month": 12, "year": 2030, "cvc": "123"})
    sims["moyasar"].complete(payment["gateway_payment_id"], "paid")
    buyer.post(f"/api/v1/payments/{payment['id']}/sync")  # without waiting for the webhook
    assert _paid(buyer, order)


def test_paypal_approval_then_capture(api, market, sims):
    buyer, order = _checkout(api, market)
    payment = _process(buyer, order, "paypal")
    assert payment["gateway"] == "paypal" and "checkoutnow" in payment["next_action"]["url"]
    sims["paypal"].approve(payment["gateway_payment_id"])
    responses = deliver(api, market, sims["paypal"], "paypal")  # CHECKOUT.ORDER.APPROVED: we capture
    assert responses and all(r.status_code == 200 for r in responses)
    deliver(api, market, sims["paypal"], "paypal")  # PAYMENT.CAPTURE.COMPLETED: already applied
    assert _paid(buyer, order)


def test_a_mada_card_with_insufficient_funds_is_declined(api, market, sims):
    buyer, order = _checkout(api, market)
    card = {"number": "4201320000311101", "name": "Sara Alharbi", "month": 12, "year": 2030, "cvc": "123"}
    payment = _process(buyer, order, "mada", source=card)
    if payment["status"] == "requires_action":
        sims["moyasar"].complete(payment["gateway_payment_id"], "paid")  # 3-D Secure passes; the card has no funds
        deliver(api, market, sims["moyasar"], "moyasar")
        payment = buyer.get(f"/api/v1/payments/{payment['id']}/").json()
    assert payment["status"] == "failed" and payment["failure_code"]
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "pending_payment"


def test_a_mada_card_is_routed_as_mada_whatever_the_storefront_said(api, market, sims):
    buyer, order = _checkout(api, market)
    card = {"number": CARDS["mada"], "name": "Sara Alharbi", "month": 12, "year": 2030, "cvc": "123"}
    assert _process(buyer, order, "visa", source=card)["method"] == "mada"

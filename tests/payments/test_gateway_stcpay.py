"""The STC Pay adapter against its simulator over real HTTP (and, for mutual TLS, real HTTPS): authorise
by mobile number, confirm with the OTP, poll, refund; the OTP test data, wrong credentials, faults, and
the currencies STC Pay cannot take. STC Pay has no webhooks, so callbacks are always refused."""

from __future__ import annotations

import datetime
import json
import os
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from osdm.payments.gateways import stcpay as stcpay_module
from osdm.payments.gateways.base import (
    Credentials,
    GatewayError,
    GatewayStatus,
    GatewayUnavailable,
    InvalidCallback,
    Method,
    PaymentRequest,
    Source,
)
from osdm.payments.gateways.stcpay import StcpayGateway, client_ssl_context, normalise_mobile
from osdm.payments.simulators.stcpay import StcpaySimulator

MERCHANT = StcpaySimulator.TEST_MERCHANT_ID
MOBILE = "0551234567"
WALLET = "966551234567"


@pytest.fixture(scope="module")
def sim():
    simulator = StcpaySimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def stc(sim):
    sim.reset()
    return sim


def make_gateway(sim, *, merchant_id: str = MERCHANT, timeout: float = 5, **values) -> StcpayGateway:
    credentials = Credentials(values={"merchant_id": merchant_id, **values}, base_url=sim.url)
    return StcpayGateway(credentials, client=httpx.Client(timeout=timeout, trust_env=False))


@pytest.fixture
def gateway(stc):
    return make_gateway(stc)


def pay_request(*, amount: int = 5000, currency: str = "SAR", mobile: str | None = MOBILE, key: str = "key-1",
                method: Method = Method.STCPAY) -> PaymentRequest:
    return PaymentRequest(
        payment_id="pay_1", amount=amount, currency=currency, method=method, description="Logo design",
        return_url="http://acme.localhost:8000/return", callback_url="http://acme.localhost:8000/api/v1/payments/webhooks/stcpay/",
        idempotency_key=key, source=Source(mobile=mobile))


def last_message(sim) -> dict:
    return json.loads(sim.requests[-1].body)


def paid(gateway, **kwargs):
    created = gateway.create_payment(pay_request(**kwargs))
    result = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert result.status == GatewayStatus.SUCCEEDED
    return result


# --- paying --------------------------------------------------------------------------------------

def test_pays_with_the_otp_from_the_payers_sms(stc, gateway):
    created = gateway.create_payment(pay_request(amount=12345))
    assert created.status == GatewayStatus.REQUIRES_ACTION
    assert created.amount == 12345 and created.currency == "SAR"
    assert created.next_action.type == "otp"
    otp_reference = created.next_action.data["otp_reference"]

    sent = last_message(stc)["DirectPaymentAuthorizeV4RequestMessage"]
    assert sent["MobileNo"] == WALLET
    assert sent["Amount"] == "123.45"
    assert stc.requests[-1].headers["x-clientcode"] == MERCHANT
    assert stc.requests[-1].path == "/B2B.DirectPayment.WebApi/DirectPayment/V4/DirectPaymentAuthorize"

    # The payer reads the OTP from the SMS: the simulator's inbox page, as a browser would open it.
    page = httpx.get(f"{stc.url}/sim/inbox/{WALLET}")
    assert page.status_code == 200 and "123456" in page.text
    inbox = httpx.get(f"{stc.url}/sim/inbox/{WALLET}", params={"format": "json"}).json()["messages"]
    assert inbox[-1]["otp_reference"] == otp_reference
    otp = stc.inbox(WALLET)[-1]["otp"]

    confirmed = gateway.confirm(created.gateway_payment_id, data={"otp": otp})
    assert confirmed.status == GatewayStatus.SUCCEEDED
    assert confirmed.amount == 12345
    assert confirmed.gateway_payment_id == created.gateway_payment_id
    sent = last_message(stc)["DirectPaymentConfirmV4RequestMessage"]
    assert sent == {"OtpReference": otp_reference, "OtpValue": "123456",
                    "STCPayPmtReference": created.gateway_payment_id.split(":")[0]}

    fetched = gateway.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.SUCCEEDED and fetched.amount == 12345
    assert stc.callbacks == []  # STC Pay direct sends nothing: the platform polls


def test_a_repeated_confirmation_reports_the_payment_as_it_is(gateway):
    created = gateway.create_payment(pay_request())
    gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    again = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert again.status == GatewayStatus.SUCCEEDED


def test_the_declining_otp_fails_the_payment(gateway):
    created = gateway.create_payment(pay_request())
    result = gateway.confirm(created.gateway_payment_id, data={"otp": "111111"})
    assert result.status == GatewayStatus.FAILED
    assert result.failure_code == "insufficient_funds"
    assert result.amount == 5000
    assert gateway.fetch_payment(created.gateway_payment_id).status == GatewayStatus.FAILED


def test_a_wrong_otp_leaves_the_payment_waiting_for_a_right_one(gateway):
    created = gateway.create_payment(pay_request())
    with pytest.raises(GatewayError) as wrong:
        gateway.confirm(created.gateway_payment_id, data={"otp": "999999"})
    assert wrong.value.code == "invalid_otp"
    waiting = gateway.fetch_payment(created.gateway_payment_id)
    assert waiting.status == GatewayStatus.REQUIRES_ACTION and waiting.next_action.type == "otp"
    assert gateway.confirm(created.gateway_payment_id, data={"otp": "123456"}).status == GatewayStatus.SUCCEEDED


def test_the_third_wrong_otp_fails_the_payment(gateway):
    created = gateway.create_payment(pay_request())
    for _ in range(2):
        with pytest.raises(GatewayError, match="invalid_otp"):
            gateway.confirm(created.gateway_payment_id, data={"otp": "999999"})
    third = gateway.confirm(created.gateway_payment_id, data={"otp": "999999"})
    assert third.status == GatewayStatus.FAILED and third.failure_code == "invalid_otp"
    late = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert late.status == GatewayStatus.FAILED


def test_a_malformed_otp_is_refused_without_costing_a_try(stc, gateway):
    created = gateway.create_payment(pay_request())
    calls = len(stc.requests)
    for otp in ("", "abc", "12"):
        with pytest.raises(GatewayError, match="invalid_otp"):
            gateway.confirm(created.gateway_payment_id, data={"otp": otp})
    assert len(stc.requests) == calls


def test_an_expired_otp_fails_the_payment(stc, gateway):
    created = gateway.create_payment(pay_request())
    stc.expire(created.gateway_payment_id.split(":")[0])
    fetched = gateway.fetch_payment(created.gateway_payment_id)
    assert fetched.status == GatewayStatus.FAILED and fetched.failure_code == "expired"
    result = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert result.status == GatewayStatus.FAILED and result.failure_code == "expired"


def test_a_mobile_without_an_stcpay_account_is_refused(gateway):
    with pytest.raises(GatewayError) as refused:
        gateway.create_payment(pay_request(mobile="0500000000"))
    assert refused.value.code == "no_stcpay_account"


@pytest.mark.parametrize("mobile", ["0551234567", "+966551234567", "966551234567", "00966551234567",
                                    "055 123 4567", "+966-55-123-4567", "551234567", "+966 0551234567",
                                    "٠٥٥١٢٣٤٥٦٧"])
def test_mobile_numbers_are_normalised(stc, gateway, mobile):
    gateway.create_payment(pay_request(mobile=mobile))
    assert last_message(stc)["DirectPaymentAuthorizeV4RequestMessage"]["MobileNo"] == WALLET


@pytest.mark.parametrize("mobile", [None, "", "0451234567", "05512345", "055123456789", "+971501234567",
                                    "hello", "96655123456"])
def test_invalid_mobile_numbers_are_refused_before_any_call(stc, gateway, mobile):
    with pytest.raises(GatewayError) as refused:
        gateway.create_payment(pay_request(mobile=mobile))
    assert refused.value.code == "invalid_mobile"
    assert stc.requests == []


def test_normalise_mobile():
    assert normalise_mobile("05 5123 4567") == WALLET


def test_the_same_idempotency_key_authorises_once(stc, gateway):
    first = gateway.create_payment(pay_request(key="order-7"))
    again = gateway.create_payment(pay_request(key="order-7"))
    other = gateway.create_payment(pay_request(key="order-8"))
    assert again.gateway_payment_id == first.gateway_payment_id
    assert other.gateway_payment_id != first.gateway_payment_id
    assert len(stc.payments) == 2
    sent = [json.loads(r.body)["DirectPaymentAuthorizeV4RequestMessage"] for r in stc.requests]
    assert sent[0]["RefNum"] == sent[1]["RefNum"] != sent[2]["RefNum"]
    assert sent[0]["BillNumber"] == sent[1]["BillNumber"]


def test_retrying_a_paid_payment_authorisation_is_refused(gateway):
    paid(gateway, key="order-9")
    with pytest.raises(GatewayError, match="already_paid"):
        gateway.create_payment(pay_request(key="order-9"))


def test_only_the_stcpay_method(gateway):
    with pytest.raises(GatewayError, match="unsupported_method"):
        gateway.create_payment(pay_request(method=Method.VISA))


# --- polling -------------------------------------------------------------------------------------

def test_fetch_payment_polls_the_inquiry(stc, gateway):
    created = gateway.create_payment(pay_request(amount=700))
    pending = gateway.fetch_payment(created.gateway_payment_id)
    assert pending.status == GatewayStatus.REQUIRES_ACTION
    assert pending.next_action.data["otp_reference"] == created.next_action.data["otp_reference"]
    assert pending.amount == 700
    assert stc.requests[-1].path.endswith("/DirectPayment/V4/PaymentInquiry")
    assert "RefNum" in last_message(stc)["PaymentInquiryV4RequestMessage"]

    stc.complete(created.gateway_payment_id.split(":")[0], "paid")  # paid while we were not looking
    first = gateway.fetch_payment(created.gateway_payment_id)
    second = gateway.fetch_payment(created.gateway_payment_id)
    assert first.status == second.status == GatewayStatus.SUCCEEDED
    assert first.raw == second.raw


def test_fetching_an_unknown_payment(gateway):
    with pytest.raises(GatewayError, match="not_found"):
        gateway.fetch_payment("1234567890:" + "0" * 32 + ":AbCdEfGhIjKlMnOpQrSt")
    with pytest.raises(GatewayError, match="not_found"):
        gateway.fetch_payment("not-an-stcpay-id")


# --- refunds -------------------------------------------------------------------------------------

def test_full_refund(stc, gateway):
    payment = paid(gateway, amount=5000)
    refund = gateway.refund(payment.gateway_payment_id, amount=5000, currency="SAR", idempotency_key="r-1")
    assert refund.status == GatewayStatus.SUCCEEDED and refund.amount == 5000 and refund.gateway_refund_id
    assert last_message(stc) == {"RefundPaymentRequestMessage": {
        "STCPayRefNum": payment.gateway_payment_id.split(":")[0], "Amount": "50.00"}}
    fetched = gateway.fetch_payment(payment.gateway_payment_id)
    assert fetched.status == GatewayStatus.REFUNDED and fetched.refunded_amount == 5000


def test_partial_refunds_and_an_over_refund(gateway):
    payment = paid(gateway, amount=5000)
    first = gateway.refund(payment.gateway_payment_id, amount=1001, currency="SAR", idempotency_key="r-1")
    assert first.amount == 1001
    fetched = gateway.fetch_payment(payment.gateway_payment_id)
    assert fetched.status == GatewayStatus.PARTIALLY_REFUNDED and fetched.refunded_amount == 1001

    with pytest.raises(GatewayError) as over:
        gateway.refund(payment.gateway_payment_id, amount=4000, currency="SAR", idempotency_key="r-2")
    assert over.value.code == "invalid_amount"
    assert gateway.fetch_payment(payment.gateway_payment_id).refunded_amount == 1001

    second = gateway.refund(payment.gateway_payment_id, amount=3999, currency="SAR", idempotency_key="r-3")
    assert second.gateway_refund_id != first.gateway_refund_id
    fetched = gateway.fetch_payment(payment.gateway_payment_id)
    assert fetched.status == GatewayStatus.REFUNDED and fetched.refunded_amount == 5000


def test_an_unpaid_payment_cannot_be_refunded(gateway):
    created = gateway.create_payment(pay_request())
    with pytest.raises(GatewayError, match="invalid_request"):
        gateway.refund(created.gateway_payment_id, amount=100, currency="SAR", idempotency_key="r-1")


# --- callbacks: there are none -------------------------------------------------------------------

def test_stcpay_declares_no_callbacks():
    assert StcpayGateway.has_callbacks is False


@pytest.mark.parametrize(("body", "headers"), [
    (b"", {}),
    (b'{"STCPayRefNum": "1234567890", "PaymentStatus": 2}', {"content-type": "application/json"}),
    (b'{"STCPayRefNum": "1234567890", "PaymentStatus": 2}', {"x-clientcode": MERCHANT, "signature": "abc"}),
    (b"garbage", {"x-clientcode": "nope"}),
])
def test_every_callback_is_refused(gateway, body, headers):
    with pytest.raises(InvalidCallback, match="stcpay sends no callbacks"):
        gateway.parse_callback(body, headers)


def test_status_arrives_by_polling_and_polling_twice_is_stable(stc, gateway):
    payment = paid(gateway)
    assert stc.callbacks == [] and stc.pending_callbacks() == []
    assert gateway.fetch_payment(payment.gateway_payment_id) == gateway.fetch_payment(payment.gateway_payment_id)


# --- failures of the gateway and of our configuration --------------------------------------------

def test_a_timeout_is_unavailable(stc):
    gateway = make_gateway(stc, timeout=1)
    stc.fail_next("timeout")
    with pytest.raises(GatewayUnavailable):
        gateway.create_payment(pay_request())


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_a_failing_gateway_is_unavailable(stc, gateway, mode):
    stc.fail_next(mode)
    with pytest.raises(GatewayUnavailable):
        gateway.create_payment(pay_request())
    assert gateway.create_payment(pay_request()).status == GatewayStatus.REQUIRES_ACTION


def test_a_failing_inquiry_is_unavailable(stc, gateway):
    created = gateway.create_payment(pay_request())
    stc.fail_next("500")
    with pytest.raises(GatewayUnavailable):
        gateway.fetch_payment(created.gateway_payment_id)


@pytest.mark.parametrize("merchant_id", ["61240000002", ""])
def test_wrong_merchant_code_is_refused(stc, merchant_id):
    gateway = make_gateway(stc, merchant_id=merchant_id)
    with pytest.raises(GatewayError) as refused:
        gateway.create_payment(pay_request())
    assert refused.value.code == "authentication_failed"
    assert stc.payments == {}


def test_wrong_merchant_cannot_see_or_refund_anothers_payment(stc, gateway):
    payment = paid(gateway)
    stc.merchant_ids.add("61240000009")
    try:
        other = make_gateway(stc, merchant_id="61240000009")
        with pytest.raises(GatewayError, match="not_found"):
            other.fetch_payment(payment.gateway_payment_id)
        with pytest.raises(GatewayError, match="not_found"):
            other.refund(payment.gateway_payment_id, amount=100, currency="SAR", idempotency_key="r")
    finally:
        stc.merchant_ids.discard("61240000009")


# --- amounts and currencies ----------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "major"), [(1, "0.01"), (100, "1.00"), (1999999, "19999.99"),
                                               (123456789012, "1234567890.12")])
def test_sar_amounts_convert_exactly(stc, gateway, amount, major):
    created = gateway.create_payment(pay_request(amount=amount))
    assert last_message(stc)["DirectPaymentAuthorizeV4RequestMessage"]["Amount"] == major
    confirmed = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert confirmed.amount == amount
    assert gateway.fetch_payment(created.gateway_payment_id).amount == amount


def test_kwd_and_other_currencies_are_refused_cleanly(stc, gateway):
    for currency in ("KWD", "USD"):
        with pytest.raises(GatewayError) as refused:
            gateway.create_payment(pay_request(amount=1234, currency=currency))
        assert refused.value.code == "unsupported_currency"
    payment = paid(gateway)
    calls = len(stc.requests)
    with pytest.raises(GatewayError, match="unsupported_currency"):
        gateway.refund(payment.gateway_payment_id, amount=1000, currency="KWD", idempotency_key="r")
    assert len(stc.requests) == calls
    assert stc.payments[payment.gateway_payment_id.split(":")[0]]["reversed"] == 0


# --- mutual TLS ----------------------------------------------------------------------------------

def make_certificate(common_name: str, *, server: bool = False) -> tuple[str, str]:
    """A throwaway self-signed certificate and its key, PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        import ipaddress

        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


@pytest.fixture(scope="module")
def merchant_cert():
    return make_certificate("osdm-merchant")


@pytest.fixture(scope="module")
def tls_sim(tmp_path_factory, merchant_cert):
    """The simulator behind TLS that demands the merchant's client certificate, as STC Pay does."""
    server_cert, server_key = make_certificate("127.0.0.1", server=True)
    directory = tmp_path_factory.mktemp("stcpay-tls")
    (directory / "server.pem").write_text(server_cert)
    (directory / "server.key").write_text(server_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=merchant_cert[0])
    simulator = StcpaySimulator(ssl_context=context).start()
    simulator.server_cert = server_cert
    yield simulator
    simulator.stop()


def tls_gateway(tls_sim, cert: tuple[str, str], **values) -> StcpayGateway:
    credentials = Credentials(values={
        "merchant_id": MERCHANT, "client_certificate_pem": cert[0], "client_key_pem": cert[1],
        "ca_certificate_pem": tls_sim.server_cert, **values}, base_url=tls_sim.url)
    return StcpayGateway(credentials, client=httpx.Client(timeout=5, trust_env=False))


def test_https_builds_an_ssl_context_with_the_client_certificate(merchant_cert):
    injected = httpx.Client(timeout=3, trust_env=False)
    gateway = StcpayGateway(Credentials(values={
        "merchant_id": MERCHANT, "client_certificate_pem": merchant_cert[0], "client_key_pem": merchant_cert[1]},
        base_url="https://b2btest.stcpay.com.sa", mode="test"), client=injected)
    context = gateway.ssl_context
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    # The client carrying the certificate replaces the injected one, keeping its timeout.
    assert gateway.client is not injected and gateway.client.timeout == injected.timeout
    # A key that does not match the certificate cannot be loaded: so this one was really loaded.
    with pytest.raises(ssl.SSLError):
        client_ssl_context(merchant_cert[0], make_certificate("other")[1])


def test_http_skips_tls(stc):
    assert make_gateway(stc).ssl_context is None


def test_the_pems_never_stay_on_disk(merchant_cert, monkeypatch):
    seen: list[str] = []
    real = stcpay_module._private_path

    def spy(data):
        context = real(data)
        path = context.__enter__()
        seen.append(path)
        assert os.path.exists(path)
        context.__exit__(None, None, None)
        return real(data)

    monkeypatch.setattr(stcpay_module, "_private_path", spy)
    client_ssl_context(*merchant_cert)
    assert seen and all(path.startswith("/proc/self/fd/") for path in seen)  # memfd: memory only

    # Without memfd_create, a private temporary file that is gone once loaded.
    monkeypatch.setattr(stcpay_module, "_private_path", real)
    monkeypatch.delattr(os, "memfd_create")
    paths = []
    with real(b"secret") as path:
        paths.append(path)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    assert not os.path.exists(paths[0]) and not os.path.exists(os.path.dirname(paths[0]))
    assert isinstance(client_ssl_context(*merchant_cert), ssl.SSLContext)


@pytest.mark.parametrize("values", [
    {"client_certificate_pem": "", "client_key_pem": ""},
    {"client_certificate_pem": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
     "client_key_pem": "not a key"},
])
def test_https_without_a_usable_certificate_is_a_configuration_error(values):
    with pytest.raises(GatewayError) as refused:
        StcpayGateway(Credentials(values={"merchant_id": MERCHANT, **values}, base_url="https://b2b.stcpay.com.sa"))
    assert refused.value.code == "invalid_credentials"


def test_live_mode_never_speaks_plain_http():
    with pytest.raises(GatewayError, match="invalid_credentials"):
        StcpayGateway(Credentials(values={"merchant_id": MERCHANT}, base_url="http://b2b.stcpay.com.sa", mode="live"))


def test_pays_over_mutual_tls(tls_sim, merchant_cert):
    gateway = tls_gateway(tls_sim, merchant_cert)
    created = gateway.create_payment(pay_request(amount=2500, key="tls-1"))
    assert created.status == GatewayStatus.REQUIRES_ACTION
    confirmed = gateway.confirm(created.gateway_payment_id, data={"otp": "123456"})
    assert confirmed.status == GatewayStatus.SUCCEEDED
    refund = gateway.refund(created.gateway_payment_id, amount=500, currency="SAR", idempotency_key="r")
    assert refund.status == GatewayStatus.SUCCEEDED
    assert gateway.fetch_payment(created.gateway_payment_id).status == GatewayStatus.PARTIALLY_REFUNDED


def test_a_certificate_stcpay_does_not_trust_is_refused(tls_sim):
    gateway = tls_gateway(tls_sim, make_certificate("stranger"))
    with pytest.raises(GatewayUnavailable):
        gateway.create_payment(pay_request(key="tls-2"))
    no_client_cert = httpx.Client(verify=ssl.create_default_context(cadata=tls_sim.server_cert), trust_env=False)
    with pytest.raises(httpx.HTTPError):
        no_client_cert.post(f"{tls_sim.url}/B2B.DirectPayment.WebApi/DirectPayment/V4/PaymentInquiry",
                            json={"PaymentInquiryV4RequestMessage": {"RefNum": "x"}}, headers={"X-ClientCode": MERCHANT})

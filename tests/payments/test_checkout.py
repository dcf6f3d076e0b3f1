"""Checkout through the sandbox gateway (a real HTTP simulator): process, the hosted page, signed
callbacks, forward-only status, refunds, fallback, idempotency, and credentials at rest."""

import json

import pytest
from django.db import connection

from osdm.payments.models import GatewayCallback, Payment
from tenants.services import tenant_run

from ..conftest import assert_error
from ..markets import product, project, service, user
from .conftest import configure_sandbox, deliver

pytestmark = pytest.mark.django_db
RETURN = "https://shop.example.com/return"


def _order(api, market, kind="product"):
    seller = user(api, market, seller=True)
    buyer = user(api, market)
    if kind == "product":
        order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, market, price=12345)["id"]})
    else:
        order = buyer.post("/api/v1/orders/", {"listing_id": service(seller, market)["id"], "package": "basic",
                                               "requirements": [{"question": "Brand name?", "answer": "x"}]})
    assert order.status_code == 201, order.content
    return buyer, seller, order.json()


def _process(buyer, payment_id, method="mada", headers=None, **extra):
    return buyer.post(f"/api/v1/payments/{payment_id}/process", {"method": method, "return_url": RETURN, **extra},
                      headers=headers)


@pytest.mark.parametrize("method", ["mada", "visa", "mastercard", "applepay", "googlepay", "stcpay", "paypal"])
def test_each_method_pays_through_the_hosted_page_and_a_signed_callback(api, alpha, sandbox, method):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment_id = order["payment"]["id"]
    assert order["payment"]["status"] == "pending" and order["payment"]["amount"] == 12345
    processed = _process(buyer, payment_id, method)
    assert processed.status_code == 200, processed.content
    body = processed.json()
    assert body["status"] == "requires_action" and body["gateway"] == "sandbox" and body["method"] == method
    assert body["next_action"]["type"] == "redirect" and body["next_action"]["url"].startswith(sandbox.url)
    # The payer presses "Pay" on the hosted page (a real HTTP request to the simulator).
    import httpx

    page = httpx.get(body["next_action"]["url"])
    assert page.status_code == 200 and "Pay" in page.text
    redirect = httpx.post(body["next_action"]["url"], data={"outcome": "paid"})
    assert redirect.status_code == 303 and redirect.headers["location"].startswith(RETURN)
    # The browser's return proves nothing; the signed callback does.
    assert buyer.get(f"/api/v1/payments/{payment_id}/").json()["status"] == "requires_action"
    (response,) = deliver(api, alpha, sandbox)
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    assert buyer.get(f"/api/v1/payments/{payment_id}/").json()["status"] == "succeeded"
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "completed"


def test_a_decline_is_recorded_and_the_payment_can_be_retried(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha, "service")
    payment_id = order["payment"]["id"]
    first = _process(buyer, payment_id).json()
    sandbox.complete(first["gateway_payment_id"], "failed")
    deliver(api, alpha, sandbox)
    failed = buyer.get(f"/api/v1/payments/{payment_id}/").json()
    assert failed["status"] == "failed" and failed["failure_code"] == "declined"
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "pending_payment"
    retry = _process(buyer, payment_id, "visa").json()
    assert retry["status"] == "requires_action" and retry["gateway_payment_id"] != first["gateway_payment_id"]
    sandbox.complete(retry["gateway_payment_id"], "paid")
    deliver(api, alpha, sandbox)
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "in_progress"
    assert_error(_process(buyer, payment_id), 409, "already_paid")


def test_a_sync_asks_the_gateway_when_no_callback_came(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment = _process(buyer, order["payment"]["id"]).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    sandbox.pending_callbacks()  # lost on the way
    assert buyer.post(f"/api/v1/payments/{payment['id']}/sync").json()["status"] == "succeeded"
    from osdm.payments.services import payments_reconcile

    with tenant_run(alpha.tenant):
        assert payments_reconcile(older_than_seconds=0) == 0  # nothing stuck anymore


@pytest.mark.parametrize("tamper", ["signature", "body", "missing"])
def test_forged_callbacks_are_rejected_and_change_nothing(api, alpha, sandbox, tamper):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment = _process(buyer, order["payment"]["id"]).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    (callback,) = sandbox.pending_callbacks()
    headers = {"X-Sandbox-Signature": callback.headers["x-sandbox-signature"]}
    body = callback.body
    if tamper == "signature":
        headers["X-Sandbox-Signature"] = "sha256=" + "0" * 64
    elif tamper == "body":
        body = body.replace(b'"amount": 12345', b'"amount": 1')
    else:
        headers = {}
    response = api(alpha).post("/api/v1/payments/webhooks/sandbox/", raw=body, headers=headers)
    assert_error(response, 400, "invalid_signature")
    assert buyer.get(f"/api/v1/payments/{payment['id']}/").json()["status"] == "requires_action"
    with tenant_run(alpha.tenant):
        assert GatewayCallback.objects.filter(outcome="rejected").exists()


def test_callbacks_out_of_order_never_move_backwards(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment = _process(buyer, order["payment"]["id"]).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    (paid,) = sandbox.pending_callbacks()
    forged_failed = json.loads(paid.body)
    forged_failed["id"] = "evt_late_failure"
    forged_failed["data"]["status"] = "failed"
    from osdm.payments.gateways.sandbox import sign

    failed_body = json.dumps(forged_failed).encode()
    post = api(alpha).post
    post("/api/v1/payments/webhooks/sandbox/", raw=paid.body,
         headers={"X-Sandbox-Signature": paid.headers["x-sandbox-signature"]})
    late = post("/api/v1/payments/webhooks/sandbox/", raw=failed_body,
                headers={"X-Sandbox-Signature": sign(failed_body, "whsec_sandbox_test")})
    assert late.status_code == 200
    assert buyer.get(f"/api/v1/payments/{payment['id']}/").json()["status"] == "succeeded"


def test_a_refund_reported_before_the_capture_records_both(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment = _process(buyer, order["payment"]["id"]).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    operator_refund = json.loads(sandbox.pending_callbacks()[0].body)
    operator_refund["id"] = "evt_refund_first"
    operator_refund["data"].update(status="refunded", refunded=12345)
    from osdm.payments.gateways.sandbox import sign

    body = json.dumps(operator_refund).encode()
    api(alpha).post("/api/v1/payments/webhooks/sandbox/", raw=body,
                    headers={"X-Sandbox-Signature": sign(body, "whsec_sandbox_test")})
    final = buyer.get(f"/api/v1/payments/{payment['id']}/").json()
    assert final["status"] == "refunded" and final["refunded_amount"] == 12345
    assert final["succeeded_at"] is not None and len(final["refunds"]) == 1


def test_refunds_full_partial_and_too_much(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment = _process(buyer, order["payment"]["id"]).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    deliver(api, alpha, sandbox)
    operator = api(alpha, alpha.secret_key)
    path = f"/api/v1/payments/{payment['id']}/refunds"
    assert_error(buyer.post(path, {"amount": 100}), 403)
    first = operator.post(path, {"amount": 2345, "reason": "late delivery"})
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "succeeded"
    assert_error(operator.post(path, {"amount": 10001}), 400, "invalid_refund_amount")
    assert_error(operator.post(path, {"amount": -5}), 400)
    operator.post(path, {"amount": 5000})
    state = buyer.get(f"/api/v1/payments/{payment['id']}/").json()
    assert state["status"] == "partially_refunded" and state["refunded_amount"] == 7345
    rest = operator.post(path, {}).json()
    assert rest["amount"] == 5000
    assert buyer.get(f"/api/v1/payments/{payment['id']}/").json()["status"] == "refunded"
    assert_error(operator.post(path, {"amount": 1}), 409, "not_refundable")
    assert sandbox.payments[payment["gateway_payment_id"]]["refunded"] == 12345  # the gateway agrees
    deliver(api, alpha, sandbox)  # the gateway's own refund callbacks change nothing more
    assert buyer.get(f"/api/v1/payments/{payment['id']}/").json()["refunded_amount"] == 12345


def test_a_failing_gateway_falls_back_or_leaves_the_payment_retryable(api, alpha, sandbox, settings):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment_id = order["payment"]["id"]
    sandbox.fail_next("500")
    down = _process(buyer, payment_id)
    assert_error(down, 502, "gateway_unavailable")
    with tenant_run(alpha.tenant):
        untouched = Payment.objects.get(pk=payment_id)
        assert (untouched.status, untouched.attempt, untouched.gateway) == ("pending", 0, "")
    assert _process(buyer, payment_id).json()["status"] == "requires_action"  # retry works


def test_the_fallback_gateway_takes_over(api, alpha, sandbox):
    """Route mada to a gateway that is down (a dead port), falling back to the sandbox."""
    configure_sandbox(api, alpha, sandbox)
    operator = api(alpha, alpha.secret_key)
    from osdm.payments import gateways

    primary = "paytabs"  # takes mada; keeps no webhook registration to fail on a dead port
    fields = {name: "x" for name in gateways.gateway_class(primary).credential_fields}
    assert operator.put(f"/api/v1/payment-gateways/{primary}", {
        "enabled": True, "mode": "test", "base_url": "http://127.0.0.1:9", "credentials": fields}).status_code == 200
    routed = operator.put("/api/v1/payment-methods/mada", {"gateway": primary, "fallback_gateway": "sandbox"})
    assert routed.status_code == 200, routed.content
    buyer, _, order = _order(api, alpha)
    card = {"number": "4201320111111010", "name": "Test Buyer", "month": 12, "year": 2030, "cvc": "123"}
    processed = _process(buyer, order["payment"]["id"], source=card).json()
    assert processed["gateway"] == "sandbox" and processed["status"] == "requires_action"


def test_idempotency_replays_rejects_mismatch_and_conflicts(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    item = product(seller, alpha)
    headers = {"Idempotency-Key": "order-attempt-0001"}
    first = buyer.post("/api/v1/orders/", {"listing_id": item["id"]}, headers=headers)
    again = buyer.post("/api/v1/orders/", {"listing_id": item["id"]}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    with tenant_run(alpha.tenant):
        from osdm.orders.models import Order

        assert Order.objects.filter(listing_id=item["id"]).count() == 1
    other = buyer.post("/api/v1/orders/", {"listing_id": product(seller, alpha)["id"]}, headers=headers)
    assert_error(other, 422, "idempotency_key_mismatch")
    # Another caller may use the same key for their own request.
    assert user(api, alpha).post("/api/v1/orders/", {"listing_id": item["id"]}, headers=headers).status_code == 201
    # A key still held by a running request: 409.
    import hashlib
    from datetime import timedelta

    from django.utils import timezone

    from osdm.idempotency.models import IdempotencyRecord

    body = json.dumps({"listing_id": item["id"]}).encode()
    with tenant_run(alpha.tenant):
        IdempotencyRecord.objects.create(scope=f"user:{buyer.user_id} POST /api/v1/orders/", key="busy-key",
                                         fingerprint=hashlib.sha256(body).hexdigest(),
                                         locked_until=timezone.now() + timedelta(seconds=30))
    busy = buyer.post("/api/v1/orders/", {"listing_id": item["id"]}, headers={"Idempotency-Key": "busy-key"})
    assert_error(busy, 409, "idempotency_in_progress")
    assert_error(buyer.post("/api/v1/orders/", {"listing_id": item["id"]}, headers={"Idempotency-Key": "x" * 256}),
                 400, "invalid_idempotency_key")


def test_errors_are_replayed_too_but_not_5xx(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    headers = {"Idempotency-Key": "process-1"}
    sandbox.fail_next("500")
    assert _process(buyer, order["payment"]["id"], headers=headers).status_code == 502
    ok = _process(buyer, order["payment"]["id"], headers=headers)  # a 5xx is not stored: it runs again
    assert ok.status_code == 200 and ok.json()["status"] == "requires_action"
    assert _process(buyer, order["payment"]["id"], headers=headers).content == ok.content


def test_gateway_credentials_are_encrypted_and_never_returned(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    operator = api(alpha, alpha.secret_key)
    listed = operator.get("/api/v1/payment-gateways/").json()["results"]
    sandbox_row = next(g for g in listed if g["gateway"] == "sandbox")
    assert sandbox_row["credentials_set"] == ["secret_key", "webhook_secret"]
    assert "sk_sandbox_test" not in json.dumps(listed)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT credentials FROM "{alpha.tenant.schema_name}".payments_gatewayconfig '
                       "WHERE gateway = 'sandbox'")
        raw = cursor.fetchone()[0]
    assert "sk_sandbox_test" not in raw and "whsec_sandbox_test" not in raw
    assert_error(operator.put("/api/v1/payment-gateways/sandbox", {"credentials": {"password": "x"}}), 400)
    assert_error(operator.put("/api/v1/payment-gateways/bitcoin", {}), 404)
    assert_error(operator.put("/api/v1/payment-methods/cash", {"gateway": "sandbox"}), 404)
    token_user = user(api, alpha)
    assert_error(token_user.get("/api/v1/payment-gateways/"), 403)


def test_payments_are_private_to_the_parties_and_the_tenant(api, alpha, beta, sandbox):
    configure_sandbox(api, alpha, sandbox)
    _buyer, seller, order = _order(api, alpha)
    payment_id = order["payment"]["id"]
    assert seller.get(f"/api/v1/payments/{payment_id}/").status_code == 200
    assert_error(seller.post(f"/api/v1/payments/{payment_id}/process", {"method": "mada", "return_url": RETURN}),
                 403, "not_the_payer")
    assert_error(user(api, alpha).get(f"/api/v1/payments/{payment_id}/"), 404, "payment_not_found")
    assert_error(user(api, beta).get(f"/api/v1/payments/{payment_id}/"), 404)
    assert_error(api(beta, beta.secret_key).get(f"/api/v1/payments/{payment_id}/"), 404)
    for stranger in (user(api, alpha), user(api, beta)):  # processing: not found either, and nothing moves
        assert_error(stranger.post(f"/api/v1/payments/{payment_id}/process", {"method": "mada", "return_url": RETURN}),
                     404, "payment_not_found")
    paid = seller.get(f"/api/v1/payments/{payment_id}/").json()
    assert (paid["status"], paid["method"], paid["gateway"]) == ("pending", "", "")


@pytest.mark.parametrize("body", [
    {"method": "cash", "return_url": RETURN},
    {"method": "mada"},
    {"method": "mada", "return_url": "not a url"},
    {"method": "mada", "return_url": RETURN, "source": {"cvv": "123"}},
    {"method": "mada", "return_url": RETURN, "gateway": "nope"},
])
def test_bad_process_input(api, alpha, sandbox, body):
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    response = buyer.post(f"/api/v1/payments/{order['payment']['id']}/process", body)
    assert_error(response, 400)
    assert buyer.get(f"/api/v1/payments/{order['payment']['id']}/").json()["status"] == "pending"


def test_a_milestone_is_funded_through_its_own_payment(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    poster = user(api, alpha)
    job = project(poster, alpha)
    seller = user(api, alpha, seller=True)
    proposal = seller.post(f"/api/v1/listings/{job['id']}/proposals/", {
        "cover_letter": "x", "amount": 30000, "duration_days": 10,
        "milestones": [{"title": "one", "amount": 10000}, {"title": "two", "amount": 20000}]}).json()
    contract = poster.post(f"/api/v1/proposals/{proposal['id']}/accept").json()
    first = contract["milestones"][0]["id"]
    path = f"/api/v1/orders/{contract['id']}/milestones/{first}/payment"
    assert_error(seller.post(path), 403)
    payment = poster.post(path).json()
    assert payment["amount"] == 10000 and payment["milestone_id"] == first
    assert poster.post(path).json()["id"] == payment["id"]  # the same payment on a second call
    processed = _process(poster, payment["id"]).json()
    sandbox.complete(processed["gateway_payment_id"], "paid")
    deliver(api, alpha, sandbox)
    milestones = poster.get(f"/api/v1/orders/{contract['id']}/").json()["milestones"]
    assert [m["status"] for m in milestones] == ["funded", "pending_funding"]


def test_the_reconciler_settles_payments_whose_callback_never_came(api, alpha, sandbox):
    from datetime import timedelta

    from django.utils import timezone

    from osdm.payments.tasks import reconcile

    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    payment = _process(buyer, order["payment"]["id"]).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    sandbox.pending_callbacks()  # the callback is lost
    with tenant_run(alpha.tenant):
        Payment.objects.filter(pk=payment["id"]).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert reconcile() >= 1  # the beat task, visiting every marketplace
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "completed"


def test_callbacks_of_an_earlier_attempt(api, alpha, sandbox):
    """The payer retried: the first attempt's failure is old news; its success is money and counts."""
    configure_sandbox(api, alpha, sandbox)
    buyer, _, order = _order(api, alpha)
    first = _process(buyer, order["payment"]["id"]).json()
    second = _process(buyer, order["payment"]["id"], "visa").json()
    assert second["gateway_payment_id"] != first["gateway_payment_id"]
    sandbox.complete(first["gateway_payment_id"], "failed")
    (outcome,) = deliver(api, alpha, sandbox)
    assert outcome.json()["outcome"] == "stale_attempt"
    assert buyer.get(f"/api/v1/payments/{first['id']}/").json()["status"] == "requires_action"
    sandbox.complete(second["gateway_payment_id"], "paid")
    deliver(api, alpha, sandbox)
    assert buyer.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "completed"


def test_a_switched_off_primary_hands_over_to_its_fallback(api, alpha, sandbox):
    configure_sandbox(api, alpha, sandbox)
    operator = api(alpha, alpha.secret_key)
    operator.put("/api/v1/payment-gateways/paytabs", {"enabled": False, "mode": "test",
                                                      "base_url": "http://127.0.0.1:9",
                                                      "credentials": {"server_key": "x", "profile_id": "1"}})
    operator.put("/api/v1/payment-methods/visa", {"gateway": "paytabs", "fallback_gateway": "sandbox"})
    buyer, _, order = _order(api, alpha)
    assert _process(buyer, order["payment"]["id"], "visa").json()["gateway"] == "sandbox"

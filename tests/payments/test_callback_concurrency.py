"""The same success callback delivered ten times at once (real threads, real connections, committed
data on the gamma marketplace): one state change, one order paid, one event."""

import threading

from django.db import connection
from django.test import Client

from osdm.orders.models import Order
from osdm.payments.models import GatewayCallback, Payment
from tenants.services import tenant_run
from webhooks.models import Event

from ..markets import product, user
from .conftest import configure_sandbox


def test_ten_concurrent_deliveries_of_one_callback_apply_once(api, gamma, committed, sandbox):
    configure_sandbox(api, gamma, sandbox, methods=("mada",))
    seller, buyer = user(api, gamma, seller=True), user(api, gamma)
    order = buyer.post("/api/v1/orders/", {"listing_id": product(seller, gamma)["id"]}).json()
    payment = buyer.post(f"/api/v1/payments/{order['payment']['id']}/process",
                         {"method": "mada", "return_url": "https://shop.example.com/r"}).json()
    sandbox.complete(payment["gateway_payment_id"], "paid")
    (callback,) = sandbox.pending_callbacks()

    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def deliver():
        try:
            client = Client()
            barrier.wait()
            response = client.post("/api/v1/payments/webhooks/sandbox/", callback.body,
                                   content_type="application/json", HTTP_HOST=gamma.host,
                                   HTTP_X_SANDBOX_SIGNATURE=callback.headers["x-sandbox-signature"])
            outcomes.append(f"{response.status_code} {response.json().get('outcome')}")
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["200 applied"] + ["200 duplicate"] * 9
    with tenant_run(gamma.tenant):
        assert Payment.objects.get(pk=payment["id"]).status == "succeeded"
        assert Order.objects.get(pk=order["id"]).status == "completed"
        assert GatewayCallback.objects.filter(payment_id=payment["id"], outcome="applied").count() == 1
        paid_events = Event.objects.filter(type="payment.succeeded", data__id=payment["id"]).count()
        order_events = Event.objects.filter(type="order.paid", data__id=order["id"]).count()
    assert (paid_events, order_events) == (1, 1)

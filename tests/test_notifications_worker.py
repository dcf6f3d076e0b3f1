"""Notification e-mails end to end: a committed payment, a real Celery worker process.

These tests commit (the worker is another process), so they run on the `gamma` marketplace.
"""

from osdm.notifications.models import Notification
from tenants.services import tenant_run

from .conftest import wait_for
from .markets import service, user
from .test_money import _pay


def test_the_worker_sends_the_emails_of_a_committed_payment(api, gamma, committed, celery_worker):
    seller = user(api, gamma, seller=True)
    buyer = user(api, gamma)
    gig = service(seller, gamma, packages=[{"tier": "basic", "title": "B", "price": 15000, "delivery_days": 3}])
    order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                           "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
    _pay(gamma, order["payment"]["id"])

    def emailed():
        with tenant_run(gamma.tenant):
            sent = Notification.objects.filter(data__id=order["id"]).values_list("kind", "emailed_at")
            return sorted(kind for kind, at in sent if at) == ["order.created", "order.paid", "order.paid"]

    wait_for(emailed)

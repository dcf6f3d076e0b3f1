"""Notification e-mails end to end: a committed payment, a real Celery worker process.

These tests commit (the worker is another process), so they run on the `gamma` marketplace.
"""

from osdm.notifications.models import Notification
from tenants.services import tenant_run

from .conftest import wait_for
from .markets import service, service_order, user
from .test_money import _pay


def test_the_worker_sends_the_emails_of_a_committed_payment(api, gamma, committed, celery_worker):
    seller = user(api, gamma, seller=True)
    buyer = user(api, gamma)
    order = service_order(buyer, seller, gamma)
    _pay(gamma, order["payment"]["id"])

    def emailed():
        with tenant_run(gamma.tenant):
            sent = Notification.objects.filter(data__id=order["id"]).values_list("kind", "emailed_at")
            return sorted(kind for kind, at in sent if at) == ["order.created", "order.paid", "order.paid"]

    wait_for(emailed)


def test_a_lost_drain_delays_emails_but_the_sweeper_sends_them(api, gamma, committed, celery_worker):
    """The doorbell says a drain is queued, but none is (lost with a node, say): the e-mails wait in
    the outbox until the sweeper comes by."""
    from django.core.cache import cache

    from osdm.notifications.services import EMAILS
    from osdm.notifications.tasks import emails_sweep

    seller = user(api, gamma, seller=True)
    buyer = user(api, gamma)
    gig = service(seller, gamma, packages=[{"tier": "basic", "title": "B", "price": 15000, "delivery_days": 3}])
    with tenant_run(gamma.tenant):
        cache.set(EMAILS.key(gamma.tenant.schema_name), 1, timeout=60)
    try:
        order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                               "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
        with tenant_run(gamma.tenant):
            assert Notification.objects.get(data__id=order["id"]).email_pending  # waiting: no drain was queued

        def emailed():
            emails_sweep.delay()
            with tenant_run(gamma.tenant):
                return Notification.objects.get(data__id=order["id"]).emailed_at is not None

        wait_for(emailed, timeout=30, interval=1.0)
    finally:
        with tenant_run(gamma.tenant):
            cache.delete(EMAILS.key(gamma.tenant.schema_name))

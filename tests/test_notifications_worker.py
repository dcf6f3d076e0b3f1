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


def test_two_drains_at_once_send_each_email_exactly_once(api, gamma, committed):
    """Two drains racing over the same outbox (two workers rung together): rows locked with SKIP
    LOCKED, so every e-mail leaves once, whichever drain takes it."""
    from concurrent.futures import ThreadPoolExecutor

    from django.core import mail
    from django.core.cache import cache
    from django.db import connection

    from osdm.notifications.services import EMAILS, emails_send

    buyer = user(api, gamma)
    with tenant_run(gamma.tenant):
        cache.set(EMAILS.key(gamma.tenant.schema_name), 1, timeout=60)  # no worker drains meanwhile
        made = [Notification(user_id=buyer.user_id, kind="order.paid", title=f"تم دفع الطلب رقم {n}", body="—",
                             data={"id": f"drain-{n}"}, email_pending=True) for n in range(30)]
        Notification.objects.bulk_create(made)
    before = len(mail.outbox)

    def drain(_):
        with tenant_run(gamma.tenant):
            try:
                return emails_send(batch=7)
            finally:
                connection.close()

    try:
        with ThreadPoolExecutor(2) as pool:
            sent = sum(pool.map(drain, range(10)))  # 10 drains of 7 over 30 e-mails, two at a time
        with tenant_run(gamma.tenant):
            rows = Notification.objects.filter(pk__in=[n.pk for n in made])
            assert sent == 30 and not rows.filter(email_pending=True).exists()
            assert rows.filter(emailed_at__isnull=False, email_attempts=0).count() == 30
        subjects = [m.subject for m in mail.outbox[before:]]
        assert sorted(subjects) == sorted(n.title for n in made)  # each once, in Arabic
    finally:
        with tenant_run(gamma.tenant):
            Notification.objects.filter(pk__in=[n.pk for n in made]).delete()
            cache.delete(EMAILS.key(gamma.tenant.schema_name))

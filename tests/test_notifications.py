"""Notifications: the parties of an event hear of it, in their own language, as they prefer."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from osdm.notifications.models import Notification
from osdm.notifications.services import email_send
from tenants.services import tenant_run

from .conftest import assert_error, register
from .markets import service, service_order, user
from .test_money import _pay

pytestmark = pytest.mark.django_db


def _arabic_buyer(api, market):
    body = register(api(market), "arabic-buyer@example.com", locale="ar")
    client = api(market, body["tokens"]["access"])
    client.user_id = body["user"]["id"]
    return client


def test_order_events_notify_each_party_in_their_language(api, alpha):
    seller = user(api, alpha, seller=True)
    seller.patch("/api/v1/me", {"locale": "en"})
    buyer = _arabic_buyer(api, alpha)
    order = service_order(buyer, seller, alpha)
    seller_inbox = seller.get("/api/v1/notifications/").json()["results"]
    assert seller_inbox[0]["kind"] == "order.created"
    assert seller_inbox[0]["title"] == f"New order #{order['number']}"
    assert "150.00 SAR" in seller_inbox[0]["body"]
    _pay(alpha, order["payment"]["id"])
    buyer_inbox = buyer.get("/api/v1/notifications/").json()["results"]
    paid = next(n for n in buyer_inbox if n["kind"] == "order.paid")
    assert paid["title"] == f"تم دفع الطلب رقم {order['number']}"
    assert "150.00 ر.س" in paid["body"]
    assert paid["data"]["id"] == order["id"]
    # e-mail, in the same language, sent by the task
    with tenant_run(alpha.tenant):
        notification = Notification.objects.get(pk=paid["id"])
        assert email_send(notification_id=notification.pk) is True
        assert email_send(notification_id=notification.pk) is False  # once
    assert mail.outbox[-1].subject == paid["title"] and mail.outbox[-1].to == ["arabic-buyer@example.com"]
    # nobody else hears of it
    assert user(api, alpha).get("/api/v1/notifications/").json()["results"] == []


def test_read_marks_and_preferences(api, alpha):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    gig = service(seller, alpha)
    body = {"listing_id": gig["id"], "package": "basic", "requirements": [{"question": "Brand name?", "answer": "x"}]}
    buyer.post("/api/v1/orders/", body)
    unread = seller.get("/api/v1/notifications/?unread=true").json()["results"]
    assert len(unread) == 1
    assert seller.post("/api/v1/notifications/read", {"ids": [unread[0]["id"]]}).json() == {"marked": 1}
    assert seller.get("/api/v1/notifications/?unread=true").json()["results"] == []
    prefs = seller.get("/api/v1/notification-preferences/").json()["results"]
    assert {"kind": "order.created", "in_app": True, "email": True} in prefs
    assert seller.put("/api/v1/notification-preferences/order.created", {"in_app": False, "email": False}).status_code == 200
    buyer.post("/api/v1/orders/", body)
    assert seller.get("/api/v1/notifications/?unread=true").json()["results"] == []
    # In the app only: listed, and nothing waits in the e-mail outbox.
    assert seller.put("/api/v1/notification-preferences/order.created", {"in_app": True, "email": False}).status_code == 200
    quiet = buyer.post("/api/v1/orders/", body).json()
    (listed,) = seller.get("/api/v1/notifications/?unread=true").json()["results"]
    with tenant_run(alpha.tenant):
        assert listed["data"]["id"] == quiet["id"] and Notification.objects.get(pk=listed["id"]).email_pending is False
    assert_error(seller.put("/api/v1/notification-preferences/nonsense", {"in_app": True, "email": True}), 404)
    assert_error(seller.put("/api/v1/notification-preferences/order.paid", {"in_app": "sometimes"}), 400)
    assert_error(api(alpha, alpha.secret_key).get("/api/v1/notifications/"), 403)


def test_notifications_never_cross_tenants(api, alpha, beta):
    seller = user(api, alpha, seller=True)
    buyer = user(api, alpha)
    gig = service(seller, alpha)
    buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                   "requirements": [{"question": "Brand name?", "answer": "x"}]})
    assert user(api, beta).get("/api/v1/notifications/").json()["results"] == []
    with tenant_run(beta.tenant):
        assert not Notification.objects.filter(kind="order.created", data__id__isnull=False,
                                               user_id=seller.user_id).exists()


def test_a_transactions_emails_are_an_outbox_drained_after_it_commits(api, alpha, django_capture_on_commit_callbacks):
    """The test's transaction never commits, so the order and its payment share one: their three
    e-mails (order.created to the seller, order.paid to both) ring the doorbell once."""
    from osdm.notifications.services import EMAILS, emails_send

    seller = user(api, alpha, seller=True, email="batch-seller@example.com")
    buyer = _arabic_buyer(api, alpha)
    gig = service(seller, alpha, packages=[{"tier": "basic", "title": "B", "price": 15000, "delivery_days": 3}])
    with django_capture_on_commit_callbacks() as callbacks:
        order = buyer.post("/api/v1/orders/", {"listing_id": gig["id"], "package": "basic",
                                               "requirements": [{"question": "Brand name?", "answer": "x"}]}).json()
        _pay(alpha, order["payment"]["id"])
    rings = [c for c in callbacks if getattr(c, "doorbell", None) == (EMAILS.name, alpha.tenant.schema_name)]
    assert len(rings) == 1
    with tenant_run(alpha.tenant):
        mine = Notification.objects.filter(data__id=order["id"])
        assert sorted(n.email_pending for n in mine) == [True, True, True]
        sent = len(mail.outbox)
        assert emails_send() == 3
        assert emails_send() == 0  # sent once
        assert all(n.emailed_at and not n.email_pending for n in mine.all())
    assert len(mail.outbox) == sent + 3
    assert sorted(m.to[0] for m in mail.outbox[-3:]) == [
        "arabic-buyer@example.com", "batch-seller@example.com", "batch-seller@example.com"]
    paid_ar = next(m for m in mail.outbox[-3:] if m.to == ["arabic-buyer@example.com"])
    assert paid_ar.subject == f"تم دفع الطلب رقم {order['number']}"


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses one address."""

    def send_messages(self, messages):
        for message in messages:
            if message.to[0].startswith("refused-"):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no such mailbox")})
            mail.outbox.append(message)
        return len(messages)


def test_a_refused_email_stays_pending_then_is_given_up_without_holding_back_others(api, alpha, settings):
    from osdm.notifications.services import EMAIL_ATTEMPTS, emails_send

    settings.EMAIL_BACKEND = "tests.test_notifications.RefusingBackend"
    seller = user(api, alpha, seller=True, email="refused-seller@example.com")
    buyer = user(api, alpha, email="fine-buyer@example.com")
    order = service_order(buyer, seller, alpha)
    _pay(alpha, order["payment"]["id"])
    with tenant_run(alpha.tenant):
        before = len(mail.outbox)
        assert emails_send() == 1  # the buyer's; the seller's two are refused and wait
        refused = Notification.objects.filter(data__id=order["id"], user_id=seller.user_id)
        assert [(n.email_pending, n.email_attempts) for n in refused] == [(True, 1), (True, 1)]
        for _ in range(EMAIL_ATTEMPTS - 1):
            assert emails_send() == 0
        assert [(n.email_pending, n.email_attempts, n.emailed_at) for n in refused.all()] == [
            (False, EMAIL_ATTEMPTS, None)] * 2  # given up
        assert emails_send() == 0
    assert [m.to for m in mail.outbox[before:]] == [["fine-buyer@example.com"]]

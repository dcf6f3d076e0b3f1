"""Turning events into notifications: in-app rows in the event's own transaction, e-mails queued
after commit (sent by Celery), each in the recipient's language and per their preferences."""

from __future__ import annotations

import logging
import uuid

from django.db import connection, transaction
from django.utils import timezone

from osdm.core.last_writes import stage_last
from osdm.payments.gateways.base import EXPONENTS

from .models import Notification, NotificationPreference
from .templates import CURRENCY_NAMES, OUTCOMES, TEMPLATES

logger = logging.getLogger(__name__)


def money(amount: int | None, currency: str | None, locale: str) -> str:
    if amount is None or not currency:
        return ""
    exponent = EXPONENTS.get(currency, 2)
    value = f"{amount / 10 ** exponent:,.{exponent}f}"
    return f"{value} {CURRENCY_NAMES.get(locale, {}).get(currency, currency)}"


def _recipients(event_type: str, data: dict) -> list:
    spec = TEMPLATES[event_type]
    ids = {data.get(field) for field in spec["to"] if data.get(field)}
    if event_type.startswith("dispute.") and not ids:
        from osdm.disputes.models import Dispute

        dispute = Dispute.objects.filter(pk=data.get("id")).first()
        if dispute:
            ids = {str(dispute.buyer_id), str(dispute.seller_id)} if event_type == "dispute.resolved" \
                else {str(dispute.seller_id)}
    if event_type == "payment.failed" and not ids:
        from osdm.payments.models import Payment

        payment = Payment.objects.filter(pk=data.get("id")).first()
        ids = {str(payment.payer_id)} if payment else set()
    return sorted(ids)


def _render(event_type: str, data: dict, locale: str) -> tuple[str, str]:
    title, body = TEMPLATES[event_type][locale if locale in ("ar", "en") else "en"]
    fields = {**data, "amount": money(data.get("total") or data.get("amount"), data.get("currency"), locale),
              "outcome": OUTCOMES.get(locale, OUTCOMES["en"]).get(data.get("outcome", ""), data.get("outcome", ""))}
    return title.format_map(_Safe(fields)), body.format_map(_Safe(fields))


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return ""


# The recipients of some events and their preferences for those kinds, in one query (no row: both on).
_RECIPIENTS = (
    "SELECT u.id, u.locale, p.kind, p.in_app, p.email FROM accounts_user AS u "
    "LEFT JOIN notifications_notificationpreference AS p ON p.user_id = u.id AND p.kind = ANY(%s) "
    "WHERE u.id = ANY(%s) AND u.is_active")


def notify_for_event(event) -> list[Notification]:
    """The EVENT_HOOKS entry: called by webhooks.event_publish inside the event's transaction. Inside
    a `last_writes` block (a payment's), the block's events are notified together at its end: one
    read of recipients and preferences and one insert for all (nothing is returned then)."""
    if event.type not in TEMPLATES or connection.schema_name == "public":
        return []
    if stage_last("notifications", [event], notify_events):
        return []
    return notify_events([event])


def notify_events(events: list) -> list[Notification]:
    """In-app notifications (and e-mails after commit) for these events, in each recipient's language
    and as each prefers."""
    wanted = [(event, [u for u in map(_uuid, _recipients(event.type, event.data)) if u]) for event in events]
    ids = list(dict.fromkeys(u for _event, recipients in wanted for u in recipients))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_RECIPIENTS, [sorted({event.type for event in events}), ids])
        rows = cursor.fetchall()
    locales, preferences = {}, {}
    for user_id, locale, kind, in_app, email in rows:
        locales[user_id] = locale
        if kind is not None:
            preferences[user_id, kind] = (in_app, email)
    created, emails = [], []
    for event, recipients in wanted:
        data = {k: v for k, v in event.data.items() if k.endswith("id") or k == "number"}
        for user_id in dict.fromkeys(recipients):
            if user_id not in locales:
                continue  # deactivated, or not a user of this marketplace
            in_app, email = preferences.get((user_id, event.type), (True, True))
            if not (in_app or email):
                continue
            title, body = _render(event.type, event.data, locales[user_id])
            notification = Notification(user_id=user_id, kind=event.type, title=title, body=body, data=dict(data),
                                        in_app=in_app)
            created.append(notification)
            if email:
                emails.append(notification.pk)
    Notification.objects.bulk_create(created)
    if emails:
        _emails_after_commit(emails)
    return created


class _EmailBatch:
    """The e-mails of one transaction's notifications, queued after it commits as one task: a
    checkout notifies three times in one transaction, and each task sent costs the request ~0.6 ms."""

    def __init__(self, schema: str) -> None:
        self.schema, self.ids = schema, []

    def __call__(self) -> None:
        _queue_emails(self.ids, self.schema)


def _emails_after_commit(ids: list) -> None:
    # Join the batch this transaction already has. A batch registered inside a savepoint that rolls
    # back is dropped by Django with its ids (their notifications are gone too); ids joined from a
    # savepoint that rolls back name rows that no longer exist, which email_send skips.
    schema = connection.schema_name
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _EmailBatch) and callback.schema == schema:
            callback.ids.extend(ids)
            return
    batch = _EmailBatch(schema)
    batch.ids.extend(ids)
    transaction.on_commit(batch)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _queue_emails(ids: list, schema: str) -> None:
    from django_tenants.utils import schema_context

    from .tasks import send_emails

    with schema_context(schema):
        try:
            send_emails.apply_async(([str(i) for i in ids],))
        except Exception:  # the broker is down: the in-app notifications are there; the e-mails are lost
            logger.warning("could not queue the e-mails of notifications %s", ", ".join(map(str, ids)))


def email_send(*, notification_id) -> bool:
    from django.conf import settings
    from django.core.mail import send_mail

    notification = Notification.objects.select_related("user").filter(pk=notification_id, emailed_at__isnull=True
                                                                       ).first()
    if notification is None:
        return False
    send_mail(subject=notification.title, message=notification.body, from_email=settings.DEFAULT_FROM_EMAIL,
              recipient_list=[notification.user.email])
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True


def mark_read(*, user, notification_ids: list | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def preference_set(*, user, kind: str, in_app: bool, email: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"in_app": in_app, "email": email})
    return preference

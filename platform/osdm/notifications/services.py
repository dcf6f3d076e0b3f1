"""Turning events into notifications: in-app rows in the event's own transaction, e-mails queued
after commit (sent by Celery), each in the recipient's language and per their preferences."""

from __future__ import annotations

import logging
import uuid
from importlib import import_module

from django.db import connection, transaction
from django.utils import timezone

from osdm.core.doorbell import Doorbell
from osdm.core.last_writes import stage_last
from osdm.core.prepared import insert
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
    created = []
    for event, recipients in wanted:
        data = {k: v for k, v in event.data.items() if k.endswith("id") or k == "number"}
        for user_id in dict.fromkeys(recipients):
            if user_id not in locales:
                continue  # deactivated, or not a user of this marketplace
            in_app, email = preferences.get((user_id, event.type), (True, True))
            if not (in_app or email):
                continue
            title, body = _render(event.type, event.data, locales[user_id])
            created.append(Notification(user_id=user_id, kind=event.type, title=title, body=body, data=dict(data),
                                        in_app=in_app, email_pending=email))
    insert(*created)
    if any(n.email_pending for n in created):
        EMAILS.ring_on_commit()
    return created


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- e-mail --------------------------------------------------------------------------------------

# Notifications to e-mail are an outbox (`email_pending` rows written with the change): a commit
# that adds some rings this doorbell (osdm.core.doorbell), whose task sends a batch; the sweeper
# (beat, every minute) sends whatever a lost task, Redis or the broker being down left behind.
EMAILS = Doorbell("notifications-email", lambda: import_module("osdm.notifications.tasks").emails_drain)
EMAIL_BATCH = 50
EMAIL_ATTEMPTS = 5  # a message the mail server refused this many times is given up (logged)


def emails_drain() -> int:
    """What a rung drain does, in its marketplace's schema: answer the bell, then send a batch."""
    EMAILS.answer()
    return emails_send()


def emails_send(*, batch: int = EMAIL_BATCH) -> int:
    """Send the oldest pending e-mails nobody else is sending (rows locked, others skipped). A failure
    leaves the e-mail pending for the next drain, up to EMAIL_ATTEMPTS; one failing address does not
    hold back the others. Returns how many were sent; rings again when the batch was full."""
    sent = 0
    with transaction.atomic():
        due = list(Notification.objects.select_for_update(of=("self",), skip_locked=True).select_related("user")
                   .filter(email_pending=True).order_by("created_at")[:batch])
        for notification in due:
            if _email(notification):
                sent += 1
    if len(due) == batch:
        EMAILS.ring_on_commit()  # there may be more: another drain takes the next batch
    return sent


def _email(notification: Notification) -> bool:
    from django.conf import settings
    from django.core.mail import send_mail

    try:
        send_mail(subject=notification.title, message=notification.body, from_email=settings.DEFAULT_FROM_EMAIL,
                  recipient_list=[notification.user.email])
    except OSError as exc:  # smtplib's errors are OSErrors, as are refused and dropped connections
        notification.email_attempts += 1
        notification.email_pending = notification.email_attempts < EMAIL_ATTEMPTS
        (logger.warning if notification.email_pending else logger.error)(
            "e-mail of notification %s failed (attempt %s of %s): %s", notification.pk, notification.email_attempts,
            EMAIL_ATTEMPTS, exc)
        notification.save(update_fields=["email_attempts", "email_pending"])
        return False
    notification.emailed_at, notification.email_pending = timezone.now(), False
    notification.save(update_fields=["emailed_at", "email_pending"])
    return True


def email_send(*, notification_id) -> bool:
    """One notification's e-mail, unless it was sent already (the task of earlier releases)."""
    with transaction.atomic():
        notification = (Notification.objects.select_for_update(of=("self",)).select_related("user")
                        .filter(pk=notification_id, emailed_at__isnull=True).first())
        return notification is not None and _email(notification)


def mark_read(*, user, notification_ids: list | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def preference_set(*, user, kind: str, in_app: bool, email: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"in_app": in_app, "email": email})
    return preference

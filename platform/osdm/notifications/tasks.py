from celery import shared_task

from tenants.services import for_each_marketplace

from . import services


@shared_task(name="notifications.emails_drain", acks_late=True, ignore_result=True)
def emails_drain() -> int:
    """Rung after a commit that added e-mails (runs in that marketplace's schema)."""
    return services.emails_drain()


@shared_task(name="notifications.emails_sweep", ignore_result=True)
def emails_sweep() -> int:
    """Beat: every marketplace's pending e-mails, whatever happened to their doorbell."""
    return for_each_marketplace(lambda _tenant: services.emails_send(), name="notifications.emails_sweep")


@shared_task(name="notifications.send_email", acks_late=True, ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(notification_id: str) -> bool:
    """Earlier releases queued one of these per e-mail: ones still queued at an upgrade are sent."""
    return services.email_send(notification_id=notification_id)

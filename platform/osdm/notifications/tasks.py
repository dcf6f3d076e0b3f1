from celery import shared_task

from . import services


@shared_task(name="notifications.send_email", acks_late=True, ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(notification_id: str) -> bool:
    return services.email_send(notification_id=notification_id)


@shared_task(name="notifications.send_emails", acks_late=True, ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_emails(notification_ids: list[str]) -> int:
    """The e-mails of one transaction's notifications. A retry after a failure part-way resends
    nothing: an e-mail sent is marked (emailed_at) and skipped."""
    return sum(services.email_send(notification_id=notification_id) for notification_id in notification_ids)

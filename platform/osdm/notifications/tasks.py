from celery import shared_task

from . import services


@shared_task(name="notifications.send_email", acks_late=True, ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(notification_id: str) -> bool:
    return services.email_send(notification_id=notification_id)

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "osdm.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from webhooks import services as webhooks

        from .services import notify_for_event

        webhooks.EVENT_HOOKS.append(notify_for_event)

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "osdm.messaging"
    label = "messaging"
    verbose_name = "Messaging"

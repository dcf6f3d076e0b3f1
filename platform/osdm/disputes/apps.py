from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "osdm.disputes"
    label = "disputes"
    verbose_name = "Disputes"

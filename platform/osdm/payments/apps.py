from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "osdm.payments"
    label = "payments"
    verbose_name = "Payments"

from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "osdm.payouts"
    label = "payouts"
    verbose_name = "Payouts"

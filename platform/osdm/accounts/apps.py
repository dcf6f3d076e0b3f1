from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "osdm.accounts"
    label = "accounts"
    verbose_name = "Accounts"

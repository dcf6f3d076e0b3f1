from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "osdm.ledger"
    label = "ledger"
    verbose_name = "Ledger"

from django.apps import AppConfig


class EscrowConfig(AppConfig):
    name = "osdm.escrow"
    label = "escrow"
    verbose_name = "Escrow"

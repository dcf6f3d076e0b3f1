from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "osdm.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"

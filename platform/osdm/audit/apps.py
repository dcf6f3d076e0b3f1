from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "osdm.audit"
    label = "audit"
    verbose_name = "Audit log"

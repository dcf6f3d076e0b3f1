from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "osdm.analytics"
    label = "analytics"
    verbose_name = "Dashboards"

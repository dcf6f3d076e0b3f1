from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "osdm.orders"
    label = "orders"
    verbose_name = "Orders"

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "osdm.catalog"
    label = "catalog"
    verbose_name = "Catalog"

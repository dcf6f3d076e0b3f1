from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "osdm.core"
    label = "osdm_core"
    verbose_name = "OSDM core"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI extensions)

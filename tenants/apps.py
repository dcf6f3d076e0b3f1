from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .middleware import hosts_forget
        from .models import Domain, Tenant

        for model in (Tenant, Domain):
            post_save.connect(hosts_forget, sender=model, dispatch_uid=f"hosts-forget-save-{model.__name__}")
            post_delete.connect(hosts_forget, sender=model, dispatch_uid=f"hosts-forget-delete-{model.__name__}")

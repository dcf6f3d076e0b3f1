from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "osdm.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Category, Listing
        from .services import search_facets_invalidate

        def changed(sender, **kwargs) -> None:
            search_facets_invalidate()

        # Whatever saves or deletes a listing or a category (a service, the admin, a migration's
        # data step) changes what filtered searches count; bulk `.update()`s call the service.
        for model in (Listing, Category):
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"catalog-facets-{model.__name__}-save")
            post_delete.connect(changed, sender=model, weak=False,
                                dispatch_uid=f"catalog-facets-{model.__name__}-delete")

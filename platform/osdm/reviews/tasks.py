from celery import shared_task

from tenants.services import for_each_marketplace

from . import services


@shared_task(name="reviews.unblind", ignore_result=True)
def unblind() -> int:
    return for_each_marketplace(lambda tenant: services.reviews_unblind(), name="reviews.unblind")

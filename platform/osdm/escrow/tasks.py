"""The auto-release job: run by beat, visits every marketplace."""

from celery import shared_task

from tenants.services import for_each_marketplace

from . import services


@shared_task(name="escrow.auto_release", ignore_result=True)
def auto_release() -> int:
    return for_each_marketplace(lambda tenant: services.escrows_auto_release(), name="escrow.auto_release")

"""The fold job: run by beat every minute, visits every marketplace (see services.dashboards_fold)."""

from celery import shared_task

from tenants.services import for_each_marketplace

from . import services


@shared_task(name="analytics.fold", ignore_result=True)
def fold() -> int:
    return for_each_marketplace(lambda tenant: services.dashboards_fold(tz_name=tenant.timezone), name="analytics.fold")

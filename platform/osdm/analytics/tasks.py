"""The fold job: run by beat every minute, visits every marketplace (see services.dashboards_fold)."""

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services


@shared_task(name="analytics.fold", ignore_result=True)
def fold() -> int:
    folded = 0
    for schema, tz_name in Tenant.objects.filter(
            status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).values_list("schema_name", "timezone"):
        with schema_context(schema):
            folded += services.dashboards_fold(tz_name=tz_name)
    return folded

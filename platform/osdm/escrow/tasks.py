"""The auto-release job: run by beat, visits every marketplace."""

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services


@shared_task(name="escrow.auto_release", ignore_result=True)
def auto_release() -> int:
    released = 0
    for schema in Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).values_list(
            "schema_name", flat=True):
        with schema_context(schema):
            released += services.escrows_auto_release()
    return released

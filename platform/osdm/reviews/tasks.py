from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services


@shared_task(name="reviews.unblind", ignore_result=True)
def unblind() -> int:
    total = 0
    for schema in Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).values_list(
            "schema_name", flat=True):
        with schema_context(schema):
            total += services.reviews_unblind()
    return total

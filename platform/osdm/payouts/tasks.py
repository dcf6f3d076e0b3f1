"""The payout follow-up job: run by beat, visits every marketplace."""

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services


@shared_task(name="payouts.sync", ignore_result=True)
def sync() -> int:
    """Send approved withdrawals an earlier attempt left unsent, and apply what the gateway says about
    the sent ones (paid, failed, returned)."""
    total = 0
    for schema in Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).values_list(
            "schema_name", flat=True):
        with schema_context(schema):
            total += services.withdrawals_sync()
    return total

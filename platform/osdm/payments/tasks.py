"""Payment tasks: reconciling payments stuck pending with their gateway, in every marketplace."""

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant
from tenants.services import for_each_marketplace

from . import services


@shared_task(name="payments.reconcile", ignore_result=True)
def reconcile() -> int:
    return for_each_marketplace(lambda tenant: services.payments_reconcile(), name="payments.reconcile")


@shared_task(name="payments.idempotency_purge", ignore_result=True)
def idempotency_purge() -> int:
    from osdm.idempotency.decorators import idempotency_purge as purge

    total = 0
    for schema in Tenant.objects.values_list("schema_name", flat=True):
        if schema == "public":
            continue
        with schema_context(schema):
            total += purge()
    return total

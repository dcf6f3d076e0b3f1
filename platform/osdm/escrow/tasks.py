"""The auto-release job: run by beat, visits every marketplace."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="escrow.auto_release", ignore_result=True)
def auto_release() -> int:
    released = 0
    for schema in Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).values_list(
            "schema_name", flat=True):
        try:
            with schema_context(schema):
                released += services.escrows_auto_release()
        except Exception:  # one marketplace's trouble must not stop the others'
            logger.exception("escrows_auto_release failed in %s", schema)
    return released

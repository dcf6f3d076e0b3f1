"""Disputes the seller left unanswered, resolved by each marketplace's rule. Run by beat."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="disputes.unanswered", ignore_result=True)
def unanswered() -> int:
    total = 0
    for schema in Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).values_list(
            "schema_name", flat=True):
        try:
            with schema_context(schema):
                total += services.disputes_unanswered()
        except Exception:  # one marketplace's trouble must not stop the others'
            logger.exception("disputes_unanswered failed in %s", schema)
    return total

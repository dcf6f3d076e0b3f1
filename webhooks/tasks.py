"""Delivery tasks. `deliveries_drain` (rung after commits), `deliveries_send` (given deliveries: the
sweeper's, redeliveries) and `delivery_send` (one, a retry) run in the schema they were queued from (tenant-schemas-celery); the sweeper and the purge run from beat in the
public schema and visit every marketplace."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django_tenants.postgresql_backend.base import FakeTenant
from django_tenants.utils import schema_context
from tenant_schemas_celery.task import TenantTask

from tenants.models import Tenant

from . import services

logger = logging.getLogger(__name__)


def _marketplace_schemas() -> list[str]:
    return list(Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED])
                .values_list("schema_name", flat=True))


class SchemaTask(TenantTask):
    """Runs in its schema without reading the marketplace's row: a delivery needs the schema only, and
    a tenant lookup per task was a tenth of a delivery's cost. Nothing is cached, so nothing can be
    stale: whatever needs the marketplace's settings (`tenants.selectors.current_tenant`) reads them
    fresh, as the connection holds no Tenant. A dropped marketplace's tasks fail on its missing tables."""

    abstract = True

    @classmethod
    def get_tenant_for_schema(cls, schema_name):
        return FakeTenant(schema_name=schema_name)


@shared_task(name="webhooks.deliveries_drain", base=SchemaTask, acks_late=True, ignore_result=True)
def deliveries_drain() -> int:
    return len(services.deliveries_drain())


@shared_task(name="webhooks.deliveries_send", base=SchemaTask, acks_late=True, ignore_result=True)
def deliveries_send(delivery_ids: list[int]) -> int:
    return len(services.deliveries_attempt(delivery_ids=delivery_ids))


@shared_task(name="webhooks.delivery_send", base=SchemaTask, acks_late=True, ignore_result=True)
def delivery_send(delivery_id: int) -> str | None:
    result = services.delivery_attempt(delivery_id=delivery_id)
    return result.status if result else None


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    queued = 0
    for schema in _marketplace_schemas():
        with schema_context(schema):
            ids = services.deliveries_due()
            if ids:
                services.deliveries_dispatch(ids, schema=schema)
                queued += len(ids)
    return queued


@shared_task(name="webhooks.purge", ignore_result=True)
def purge() -> None:
    for schema in _marketplace_schemas():
        with schema_context(schema):
            attempts, events = services.history_purge()
            if attempts or events:
                logger.info("purged %s attempts and %s events in %s", attempts, events, schema)


@shared_task(name="webhooks.endpoint_disabled_notify", ignore_result=True)
def endpoint_disabled_notify(endpoint_id: str, url: str, reason: str) -> bool:
    tenant = Tenant.objects.filter(schema_name=connection.schema_name).first()
    if tenant is None or not tenant.operator_email:
        return False
    why = {"gone": "it answered 410 Gone", "failing": "every delivery to it failed for five days"}.get(reason, reason)
    send_mail(
        subject=f"[{tenant.name}] Webhook endpoint disabled: {url}",
        message=(f"The webhook endpoint {endpoint_id} ({url}) of {tenant.name} was disabled because {why}.\n\n"
                 "Fix the receiver, enable the endpoint again (PATCH /api/v1/webhook-endpoints/"
                 f"{endpoint_id}/ with enabled=true) and redeliver what failed "
                 f"(POST /api/v1/webhook-endpoints/{endpoint_id}/redeliver-failed)."),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[tenant.operator_email])
    return True

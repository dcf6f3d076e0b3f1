"""Provisioning tasks. The spare pool lives in the public schema, so these run there."""

from celery import shared_task

from . import provisioning


@shared_task(name="tenants.spare_pool_refill", acks_late=True)
def spare_pool_refill(size: int | None = None) -> int:
    return provisioning.pool_refill(size)

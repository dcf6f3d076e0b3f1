"""Tenant reads for the platform API: only marketplaces, never the template or the spares."""

from django.db import connection
from django.db.models import QuerySet

from osdm.core.errors import NotFound

from .models import SecretKey, Tenant


def tenant_list(*, status: str | None = None) -> QuerySet[Tenant]:
    qs = Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED])
    if status:
        qs = qs.filter(status=status)
    return qs


def tenant_get(*, slug: str) -> Tenant:
    tenant = tenant_list().filter(slug=slug).first()
    if tenant is None:
        raise NotFound(code="tenant_not_found")
    return tenant


def secret_key_list(*, tenant_id: int, include_revoked: bool = True) -> QuerySet[SecretKey]:
    qs = SecretKey.objects.filter(tenant_id=tenant_id)
    return qs if include_revoked else qs.filter(revoked_at__isnull=True)


def secret_key_get(*, tenant_id: int, key_id: int) -> SecretKey:
    key = SecretKey.objects.filter(tenant_id=tenant_id, pk=key_id).first()
    if key is None:
        raise NotFound(code="secret_key_not_found")
    return key


def current_tenant() -> Tenant:
    """The marketplace whose schema the connection is on (a request's, or a task's)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant) and tenant.schema_name == connection.schema_name:
        return tenant
    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    connection.tenant = tenant
    return tenant

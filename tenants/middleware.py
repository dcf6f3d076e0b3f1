"""Choose the tenant from the request's Host, and nothing else.

`<slug>.<OSDM_BASE_DOMAIN>` is a marketplace, the bare base domain is the platform (public schema),
any other host is looked up among custom domains. An unknown host gets a JSON 404; a suspended
tenant's API answers 403 `tenant_suspended`. No header, token or parameter can pick a tenant.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection, transaction
from django.urls import set_urlconf
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from osdm.core.errors import json_error

from .models import Domain, Tenant


class _PublicTenant:
    """Stands for the platform itself on the bare base domain."""

    schema_name = get_public_schema_name()
    slug = None
    pk = id = None
    status = "platform"
    is_marketplace = False


PUBLIC = _PublicTenant()


# Host → marketplace, for OSDM_TENANT_CACHE_SECONDS (0: off). Every request used to spend three
# statements (switch to public, read the tenant, switch back) before its view ran. A change made
# through the ORM (`save`, `delete`; suspension, settings, domains) clears this process's cache at
# once and again when its transaction commits; other processes see it within the TTL.
_hosts: dict[str, tuple[float, Tenant]] = {}


def hosts_forget(**_kwargs) -> None:
    _hosts.clear()
    transaction.on_commit(_hosts.clear)


def resolve_host(host: str) -> Tenant | _PublicTenant | None:
    ttl = settings.OSDM_TENANT_CACHE_SECONDS
    if ttl > 0:
        cached = _hosts.get(host)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    tenant = _lookup_host(host)
    if ttl > 0 and isinstance(tenant, Tenant):
        if len(_hosts) > 10_000:  # custom domains are unbounded in principle: never grow without bound
            _hosts.clear()
        _hosts[host] = (time.monotonic() + ttl, tenant)
    return tenant


def _lookup_host(host: str) -> Tenant | _PublicTenant | None:
    base = settings.OSDM_BASE_DOMAIN
    if host == base:
        return PUBLIC
    if host.endswith("." + base):
        slug = host[: -len(base) - 1]
        if "." in slug:
            return None
        return (Tenant.objects.filter(slug=slug, status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED])
                .first())
    domain = Domain.objects.select_related("tenant").filter(domain=host).first()
    if domain and domain.tenant.is_marketplace:
        return domain.tenant
    return None


class TenantHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection.set_schema_to_public()
        try:
            host = request.get_host().split(":")[0].lower().rstrip(".")
        except DisallowedHost:
            return json_error(404, "unknown_host", _("No marketplace is served at this host."))
        with connection.shared_tables_only():  # no `SET search_path` just for the lookup
            tenant = resolve_host(host)
        if tenant is None:
            return json_error(404, "unknown_host", _("No marketplace is served at this host."))
        request.tenant = tenant
        if tenant is PUBLIC:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return self.get_response(request)
        if tenant.status == Tenant.Status.SUSPENDED:
            return json_error(403, "tenant_suspended", _("This marketplace is suspended."))
        connection.set_tenant(tenant)
        try:
            return self.get_response(request)
        finally:
            # A pooled connection must not carry this tenant's search_path into the next request.
            connection.set_schema_to_public()

"""Choose the tenant from the request's Host, and nothing else.

`<slug>.<OSDM_BASE_DOMAIN>` is a marketplace, the bare base domain is the platform (public schema),
any other host is looked up among custom domains. An unknown host gets a JSON 404; a suspended
tenant's API answers 403 `tenant_suspended`. No header, token or parameter can pick a tenant.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import connection, transaction
from django.urls import set_urlconf
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from osdm.core.errors import json_error

from .models import Domain, Tenant

logger = logging.getLogger(__name__)


class _PublicTenant:
    """Stands for the platform itself on the bare base domain."""

    schema_name = get_public_schema_name()
    slug = None
    pk = id = None
    status = "platform"
    is_marketplace = False


PUBLIC = _PublicTenant()


# Host → marketplace, for OSDM_TENANT_CACHE_SECONDS (0: off). Every request used to spend three
# statements (switch to public, read the tenant, switch back) before its view ran. Every process's
# cache is checked against one version number in Redis (one GET per request, no database): a change
# saved through the ORM (`save`, `delete` of a tenant or a domain: suspension, settings, deletion,
# domains) bumps it, at once and again when its transaction commits, so every process forgets, and a
# suspension answers 403 on the very next request, whichever process serves it. Without Redis the
# cache is not used. A change written around the ORM (`QuerySet.update`, SQL) waits for the TTL.
_hosts: dict[str, tuple[float, Tenant]] = {}
_seen_version: list[bytes | None] = [None]


def _version_key() -> str:
    return f"{cache.key_prefix}:osdm:tenant-hosts-version"  # not per schema: one for the platform


def _hosts_version() -> bytes | None:
    try:
        client = cache._cache.get_client(write=True)
        version = client.get(_version_key())
        if version is None:
            client.set(_version_key(), b"0", nx=True)
            version = client.get(_version_key())
        return version
    except Exception:  # Redis unavailable: look the host up every time
        logger.warning("tenant host cache: no version from Redis; not caching", exc_info=True)
        return None


def _bump_version() -> None:
    try:
        cache._cache.get_client(write=True).incr(_version_key())
    except Exception:
        logger.warning("tenant host cache: could not bump the version", exc_info=True)


def _forget_everywhere() -> None:
    _hosts.clear()
    _bump_version()


def hosts_forget(**_kwargs) -> None:
    _forget_everywhere()
    transaction.on_commit(_forget_everywhere)


def resolve_host(host: str) -> Tenant | _PublicTenant | None:
    ttl = settings.OSDM_TENANT_CACHE_SECONDS
    version = _hosts_version() if ttl > 0 else None
    if version is None:
        return _lookup_host(host)
    if version != _seen_version[0]:
        _hosts.clear()
        _seen_version[0] = version
    cached = _hosts.get(host)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    tenant = _lookup_host(host)
    if isinstance(tenant, Tenant):
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

"""Tenant lifecycle and secret keys: the platform's writes.

Every function runs against the public schema; each tenant's own schema is touched only to create
(clone or claim) or drop it.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from osdm.core.errors import Conflict, ValidationFailed

from . import provisioning
from .models import CURRENCIES, LOCALES, RESERVED_SLUGS, SLUG_PATTERN, Domain, SecretKey, Tenant, hash_secret

logger = logging.getLogger(__name__)

SETTINGS_FIELDS = (
    "name", "display_name_en", "display_name_ar", "logo_url", "primary_color", "secondary_color",
    "default_locale", "supported_locales", "currency", "timezone", "commission_bps",
    "escrow_auto_release_days", "dispute_window_days",
)
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    domain: Domain
    secret_key: str  # shown once
    key: SecretKey
    used_spare: bool


def _validate_settings(values: dict[str, Any], *, current: Tenant | None = None) -> None:
    """Cross-field rules the serializers cannot see alone."""
    errors: dict[str, list[str]] = {}
    locales = values.get("supported_locales", current.supported_locales if current else list(LOCALES))
    default = values.get("default_locale", current.default_locale if current else "ar")
    if not locales or any(loc not in LOCALES for loc in locales) or len(set(locales)) != len(locales):
        errors["supported_locales"] = [_("Choose one or more of: ar, en, each once.")]
    elif default not in locales:
        errors["default_locale"] = [_("The default locale must be one of the supported locales.")]
    currency = values.get("currency")
    if currency is not None and currency not in CURRENCIES:
        errors["currency"] = [_("Unsupported currency.")]
    for field in ("primary_color", "secondary_color"):
        if field in values and not _COLOR.match(values[field] or ""):
            errors[field] = [_("Use a colour like #0F766E.")]
    if errors:
        raise ValidationFailed(fields=errors)


def slug_validate(slug: str) -> str:
    slug = slug or ""
    if not re.match(SLUG_PATTERN, slug) or "--" in slug:
        raise ValidationFailed(
            _("Use 3 to 40 lowercase letters, digits and single hyphens, starting with a letter."),
            code="invalid_slug", fields={"slug": [_("Invalid marketplace slug.")]})
    if slug in RESERVED_SLUGS or slug.startswith(("spare-", "tenant-")):
        raise ValidationFailed(_("This slug is reserved."), code="slug_reserved",
                               fields={"slug": [_("This slug is reserved.")]})
    return slug


def secret_key_create(*, tenant: Tenant, name: str = "") -> tuple[SecretKey, str]:
    raw = "sk_live_" + secrets.token_urlsafe(32)
    key = SecretKey.objects.create(tenant=tenant, name=name, prefix=raw[:12], key_hash=hash_secret(raw))
    return key, raw


def secret_key_revoke(*, key: SecretKey) -> SecretKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def tenant_create(*, slug: str, name: str, **settings_values: Any) -> ProvisionedTenant:
    """Create a marketplace: its row, its schema (a claimed spare or a fresh clone of the template),
    its domain and its first secret key, all in one transaction."""
    slug = slug_validate(slug)
    unknown = set(settings_values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(fields={f: [_("Unknown field.")] for f in sorted(unknown)})
    settings_values.setdefault("display_name_en", name)
    settings_values.setdefault("display_name_ar", name)
    settings_values.setdefault("supported_locales", list(LOCALES))
    _validate_settings(settings_values)
    schema = provisioning.schema_name_for(slug)
    host = f"{slug}.{settings.OSDM_BASE_DOMAIN}"
    connection.set_schema_to_public()
    if Tenant.objects.filter(slug=slug).exists() or Domain.objects.filter(domain=host).exists():
        raise Conflict(_("A marketplace with this slug already exists."), code="slug_taken",
                       fields={"slug": [_("A marketplace with this slug already exists.")]})
    template = None if settings.OSDM_SPARE_POOL_SIZE else provisioning.template_ensure()
    try:
        with transaction.atomic():
            tenant = provisioning.spare_claim(schema_name=schema) if settings.OSDM_SPARE_POOL_SIZE else None
            used_spare = tenant is not None
            if tenant is None:
                template = template or provisioning.template_ensure()
                provisioning.schema_clone(source=template.schema_name, target=schema)
                tenant = Tenant(schema_name=schema)
            tenant.slug, tenant.name, tenant.status = slug, name, Tenant.Status.ACTIVE
            for field, value in settings_values.items():
                setattr(tenant, field, value)
            tenant.full_clean(exclude=["schema_name"])
            tenant.save()
            domain = Domain.objects.create(domain=host, tenant=tenant, is_primary=True)
            key, raw = secret_key_create(tenant=tenant, name="Default")
            if used_spare and settings.OSDM_SPARE_POOL_SIZE:
                transaction.on_commit(_schedule_pool_refill)
    except IntegrityError as exc:  # a concurrent create of the same slug won the race
        raise Conflict(_("A marketplace with this slug already exists."), code="slug_taken") from exc
    logger.info("tenant %s created (spare=%s)", slug, used_spare)
    return ProvisionedTenant(tenant=tenant, domain=domain, secret_key=raw, key=key, used_spare=used_spare)


def _schedule_pool_refill() -> None:
    from .tasks import spare_pool_refill

    try:
        spare_pool_refill.delay()
    except Exception:  # the broker being down must not fail a committed sign-up; beat refills later
        logger.exception("could not queue the spare pool refill")


def tenant_update(*, tenant: Tenant, **values: Any) -> Tenant:
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(fields={f: [_("Unknown field.")] for f in sorted(unknown)})
    _validate_settings(values, current=tenant)
    for field, value in values.items():
        setattr(tenant, field, value)
    tenant.full_clean(exclude=["schema_name"])
    tenant.save()
    return tenant


def tenant_suspend(*, tenant: Tenant, reason: str = "") -> Tenant:
    if tenant.status != Tenant.Status.SUSPENDED:
        tenant.status = Tenant.Status.SUSPENDED
        tenant.suspended_at = timezone.now()
        tenant.suspension_reason = reason
        tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])
    return tenant


def tenant_activate(*, tenant: Tenant) -> Tenant:
    if tenant.status != Tenant.Status.ACTIVE:
        tenant.status = Tenant.Status.ACTIVE
        tenant.suspended_at = None
        tenant.suspension_reason = ""
        tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])
    return tenant


def tenant_delete(*, tenant: Tenant) -> None:
    """Drop the schema and every row of the tenant. Irreversible."""
    connection.set_schema_to_public()
    with transaction.atomic():
        tenant.delete(force_drop=True)


def tenant_run(tenant: Tenant):
    """Context manager: run code inside the tenant's schema (for commands and tasks)."""
    return schema_context(tenant.schema_name)

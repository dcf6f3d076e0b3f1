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

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import Conflict, ValidationFailed
from webhooks.services import event_publish

from . import provisioning
from .models import CURRENCIES, LOCALES, RESERVED_SLUGS, SLUG_PATTERN, Domain, SecretKey, Tenant, hash_secret

logger = logging.getLogger(__name__)

SETTINGS_FIELDS = (
    "name", "operator_email", "display_name_en", "display_name_ar", "logo_url", "primary_color", "secondary_color",
    "default_locale", "supported_locales", "currency", "timezone", "commission_bps",
    "escrow_auto_release_days", "dispute_window_days", "escrow_release_products_on_payment",
    "dispute_response_days", "dispute_unanswered_outcome",
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


def _record(tenant: Tenant, *, actor: Actor, action: str, object_type: str, object_id: Any,
            before: dict | None = None, after: dict | None = None, event: str | None = None) -> None:
    """Audit record (and event) of a change, written into the tenant's own schema in the caller's
    transaction, whichever schema (platform or tenant) the caller is serving."""
    with schema_context(tenant.schema_name):
        audit_record(actor=actor, action=action, object_type=object_type, object_id=object_id,
                     before=before, after=after)
        if event:
            event_publish(event_type=event, data=after or before or {})


def secret_key_data(key: SecretKey) -> dict:
    def iso(value):
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {"id": key.pk, "name": key.name, "prefix": key.prefix, "created_at": iso(key.created_at),
            "revoked_at": iso(key.revoked_at)}


def marketplace_data(tenant: Tenant) -> dict:
    return {"slug": tenant.slug, "name": tenant.name, "status": tenant.status, "currency": tenant.currency,
            "commission_bps": tenant.commission_bps, "default_locale": tenant.default_locale}


def secret_key_create(*, tenant: Tenant, actor: Actor, name: str = "") -> tuple[SecretKey, str]:
    raw = "sk_live_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = SecretKey.objects.create(tenant=tenant, name=name, prefix=raw[:12], key_hash=hash_secret(raw))
        _record(tenant, actor=actor, action="secret_key.created", object_type="secret_key", object_id=key.pk,
                after=secret_key_data(key), event="secret_key.created")
    return key, raw


def secret_key_revoke(*, key: SecretKey, actor: Actor) -> SecretKey:
    with transaction.atomic():
        key = SecretKey.objects.select_for_update().select_related("tenant").get(pk=key.pk)
        if key.revoked_at is None:
            before = secret_key_data(key)
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            _record(key.tenant, actor=actor, action="secret_key.revoked", object_type="secret_key",
                    object_id=key.pk, before=before, after=secret_key_data(key), event="secret_key.revoked")
    return key


def tenant_create(*, slug: str, name: str, actor: Actor | None = None, **settings_values: Any) -> ProvisionedTenant:
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
            actor = actor or Actor.platform()
            _record(tenant, actor=actor, action="marketplace.created", object_type="marketplace",
                    object_id=tenant.slug, after=marketplace_data(tenant))
            key, raw = secret_key_create(tenant=tenant, actor=actor, name="Default")
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


def tenant_update(*, tenant: Tenant, actor: Actor, **values: Any) -> Tenant:
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(fields={f: [_("Unknown field.")] for f in sorted(unknown)})
    _validate_settings(values, current=tenant)
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = {field: getattr(tenant, field) for field in values}
        for field, value in values.items():
            setattr(tenant, field, value)
        tenant.full_clean(exclude=["schema_name"])
        tenant.save()
        _record(tenant, actor=actor, action="marketplace.updated", object_type="marketplace",
                object_id=tenant.slug, before=before, after={f: getattr(tenant, f) for f in values})
        with schema_context(tenant.schema_name):
            event_publish(event_type="marketplace.updated", data=marketplace_data(tenant))
    return tenant


def tenant_suspend(*, tenant: Tenant, actor: Actor, reason: str = "") -> Tenant:
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status != Tenant.Status.SUSPENDED:
            tenant.status = Tenant.Status.SUSPENDED
            tenant.suspended_at = timezone.now()
            tenant.suspension_reason = reason
            tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])
            _record(tenant, actor=actor, action="marketplace.suspended", object_type="marketplace",
                    object_id=tenant.slug, after={**marketplace_data(tenant), "reason": reason})
            with schema_context(tenant.schema_name):
                event_publish(event_type="marketplace.suspended", data=marketplace_data(tenant))
    return tenant


def tenant_activate(*, tenant: Tenant, actor: Actor) -> Tenant:
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status != Tenant.Status.ACTIVE:
            tenant.status = Tenant.Status.ACTIVE
            tenant.suspended_at = None
            tenant.suspension_reason = ""
            tenant.save(update_fields=["status", "suspended_at", "suspension_reason", "updated_at"])
            _record(tenant, actor=actor, action="marketplace.activated", object_type="marketplace",
                    object_id=tenant.slug, after=marketplace_data(tenant), event="marketplace.activated")
    return tenant


def tenant_delete(*, tenant: Tenant) -> None:
    """Drop the schema and every row of the tenant. Irreversible."""
    connection.set_schema_to_public()
    with transaction.atomic():
        # Deferred foreign-key checks still pending in this transaction would make DROP refuse.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        tenant.delete(force_drop=True)


def tenant_run(tenant: Tenant):
    """Context manager: run code inside the tenant's schema (for commands and tasks)."""
    return schema_context(tenant.schema_name)


def for_each_marketplace(job, *, name: str) -> int:
    """Run `job(tenant)` inside every active or suspended marketplace (a beat job's loop) and return
    the sum of what it returns. One marketplace's failure is logged with its traceback and does not
    stop the others: they are due again on the next run."""
    total = 0
    for tenant in Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]).only(
            "id", "schema_name", "timezone"):
        try:
            with schema_context(tenant.schema_name):
                total += job(tenant) or 0
        except Exception:
            logger.exception("%s failed in %s", name, tenant.schema_name)
    return total

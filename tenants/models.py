"""The shared (public-schema) models: marketplaces, their domains and their secret keys.

A `Tenant` row is one PostgreSQL schema. Besides live marketplaces (`active`, `suspended`) two kinds
of rows exist for provisioning: the one `template` schema every tenant is cloned from, and `spare`
schemas cloned ahead of time. Being Tenant rows, both are migrated by `migrate_schemas` with every
other tenant, so a clone never lacks a column.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$"
# Names a marketplace cannot take: they are ours, or would read as ours in a host name.
RESERVED_SLUGS = frozenset({
    "www", "api", "app", "admin", "platform", "public", "static", "media", "docs", "status", "mail",
    "template", "tenant-template", "osdm", "support", "help", "billing", "dashboard", "console",
})
LOCALES = ("ar", "en")
DISPUTE_UNANSWERED_OUTCOMES = (("refund", "Refund the buyer"), ("release", "Release to the seller"))
# ISO 4217 currencies we serve, with their minor-unit exponent (KWD, BHD and OMR have three).
CURRENCIES = {"SAR": 2, "AED": 2, "KWD": 3, "BHD": 3, "OMR": 3, "QAR": 2, "EGP": 2, "JOD": 3, "USD": 2,
              "EUR": 2, "GBP": 2}


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"  # serving its API
        SUSPENDED = "suspended", "Suspended"  # data kept, every API call answers 403 tenant_suspended
        TEMPLATE = "template", "Template"  # the migrated schema new tenants are cloned from
        SPARE = "spare", "Spare"  # a pre-cloned schema waiting to be claimed by a new tenant

    slug = models.CharField(max_length=40, unique=True, validators=[RegexValidator(SLUG_PATTERN)])
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    operator_email = models.EmailField(blank=True)  # where operational notices go (disabled webhooks...)
    display_name_en = models.CharField(max_length=200, blank=True)
    display_name_ar = models.CharField(max_length=200, blank=True)
    # Branding: what a storefront draws. Colours as #RRGGBB.
    logo_url = models.URLField(max_length=500, blank=True)
    primary_color = models.CharField(max_length=7, default="#0F766E")
    secondary_color = models.CharField(max_length=7, default="#F59E0B")
    default_locale = models.CharField(max_length=5, default="ar")
    supported_locales = ArrayField(models.CharField(max_length=5), default=list)
    currency = models.CharField(max_length=3, default="SAR")
    timezone = models.CharField(max_length=64, default="Asia/Riyadh")
    # Commission in basis points of the order subtotal: 1000 = 10 %.
    commission_bps = models.PositiveIntegerField(default=1000, validators=[MaxValueValidator(10000)])
    escrow_auto_release_days = models.PositiveIntegerField(
        default=7, validators=[MinValueValidator(0), MaxValueValidator(90)])
    dispute_window_days = models.PositiveIntegerField(
        default=7, validators=[MinValueValidator(0), MaxValueValidator(90)])
    # Digital products are delivered the moment they are paid: release their escrow then, unless the
    # marketplace prefers to hold it (for its dispute window) like services.
    escrow_release_products_on_payment = models.BooleanField(default=True)
    # A dispute the seller does not answer within these days resolves by this rule.
    dispute_response_days = models.PositiveIntegerField(default=3, validators=[MaxValueValidator(30)])
    dispute_unanswered_outcome = models.CharField(max_length=8, default="refund", choices=DISPUTE_UNANSWERED_OUTCOMES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=500, blank=True)

    # Schemas are created by tenants.provisioning (clone or spare), never by a save().
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended", "template", "spare"]),
                name="tenant_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(commission_bps__lte=10000), name="tenant_commission_bps_range"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_marketplace(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.SUSPENDED)

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.OSDM_BASE_DOMAIN}"


class Domain(DomainMixin):
    """Host names that resolve to a tenant besides `<slug>.<OSDM_BASE_DOMAIN>` (custom domains)."""


def hash_secret(raw: str) -> str:
    # Secret keys carry 256 random bits, so a fast hash is safe here (nothing to brute-force) and
    # lets every API call find its key by an indexed equality lookup.
    return hashlib.sha256(raw.encode()).hexdigest()


class SecretKeyQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, tenant__status__in=[Tenant.Status.ACTIVE,
                                                                         Tenant.Status.SUSPENDED])


class SecretKey(models.Model):
    """A tenant's server-side API key (`sk_live_...`). Shown once at creation; stored hashed; several
    may be live at once so integrations can rotate without downtime."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="secret_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, db_index=True)  # what lists show: "sk_live_AbCd"
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = SecretKeyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.tenant_id})"

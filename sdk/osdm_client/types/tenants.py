"""Marketplaces (tenants) as the platform sees them, as a storefront sees them, and their secret keys."""

from __future__ import annotations

from datetime import datetime

from .._models import BaseModel

__all__ = ["Marketplace", "SecretKey", "SecretKeyCreated", "Tenant", "TenantCreated"]


class Marketplace(BaseModel):
    """A marketplace's public settings and branding: what a storefront needs, no secrets."""

    slug: str
    name: str
    display_name_en: str = ""
    display_name_ar: str = ""
    logo_url: str = ""
    primary_color: str = ""
    secondary_color: str = ""
    default_locale: str = "ar"
    supported_locales: list[str] = []
    currency: str = "SAR"
    """ISO 4217: every amount of this marketplace is an integer in this currency's minor unit."""
    timezone: str = "Asia/Riyadh"
    commission_bps: int = 0
    """Commission in basis points of an order's subtotal (1000 = 10 %)."""
    escrow_auto_release_days: int = 0
    dispute_window_days: int = 0


class Tenant(Marketplace):
    """A marketplace as the platform API shows it."""

    status: str = "active"
    """`active` or `suspended`."""
    domain: str
    api_base_url: str
    """Pass it as `OSDM(base_url=...)` to talk to this marketplace."""
    operator_email: str = ""
    escrow_release_products_on_payment: bool = True
    """A product's escrow is released when it is paid (`True`) or held like a service's."""
    dispute_response_days: int = 3
    """Days a seller has to answer a dispute."""
    dispute_unanswered_outcome: str = "refund"
    """What a dispute left unanswered becomes: `refund` or `release`."""
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None = None
    suspension_reason: str = ""


class SecretKey(BaseModel):
    """A secret key as listed: its prefix only."""

    id: int
    name: str = ""
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class SecretKeyCreated(SecretKey):
    secret: str
    """The full key, shown this once: store it now."""


class TenantCreated(BaseModel):
    tenant: Tenant
    secret_key: SecretKeyCreated

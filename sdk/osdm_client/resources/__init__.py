"""The API's resources, one module each, sync and async classes side by side."""

from .audit_log import AsyncAuditLog, AsyncCSVStream, AuditLog, CSVStream
from .auth import AsyncAuth, Auth
from .events import AsyncEvents, Events
from .marketplace import AsyncMarketplaceResource, MarketplaceResource
from .me import AsyncMe, AsyncSellerProfileResource, Me, SellerProfileResource
from .secret_keys import AsyncSecretKeys, SecretKeys
from .tenants import AsyncTenants, AsyncTenantSecretKeys, Tenants, TenantSecretKeys
from .users import AsyncUsers, Users
from .webhook_deliveries import AsyncWebhookDeliveries, WebhookDeliveries
from .webhook_endpoints import (
    AsyncWebhookEndpointDeliveries,
    AsyncWebhookEndpoints,
    WebhookEndpointDeliveries,
    WebhookEndpoints,
)

__all__ = [
    "AsyncAuditLog",
    "AsyncAuth",
    "AsyncCSVStream",
    "AsyncEvents",
    "AsyncMarketplaceResource",
    "AsyncMe",
    "AsyncSecretKeys",
    "AsyncSellerProfileResource",
    "AsyncTenantSecretKeys",
    "AsyncTenants",
    "AsyncUsers",
    "AsyncWebhookDeliveries",
    "AsyncWebhookEndpointDeliveries",
    "AsyncWebhookEndpoints",
    "AuditLog",
    "Auth",
    "CSVStream",
    "Events",
    "MarketplaceResource",
    "Me",
    "SecretKeys",
    "SellerProfileResource",
    "TenantSecretKeys",
    "Tenants",
    "Users",
    "WebhookDeliveries",
    "WebhookEndpointDeliveries",
    "WebhookEndpoints",
]

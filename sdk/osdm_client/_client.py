"""The clients: `OSDM` / `AsyncOSDM` for one marketplace, `OSDMPlatform` / `AsyncOSDMPlatform` for
the platform API that creates marketplaces.

Two families rather than one client with a mode: a marketplace and the platform live on different
hosts (`<slug>.<base domain>` vs the bare base domain), take different credentials (a secret key or
a user's tokens vs the platform key) and share no endpoint. Separate classes make a call that can
never succeed (`tenants.create` with a secret key) impossible to write, and keep each surface small.

Configuration comes from keyword arguments, else the environment:

| argument | environment | meaning |
| --- | --- | --- |
| `base_url` | `OSDM_BASE_URL` | the marketplace's origin, e.g. `https://acme.example.com`, `http://acme.localhost:8000` |
| `tenant` + `base_domain` | `OSDM_TENANT` + `OSDM_BASE_DOMAIN` | the same, as `<tenant>.<base_domain>` (`base_domain` may carry a port) |
| `api_key` | `OSDM_API_KEY` | a secret key `sk_live_...` (server integrations, operator rights) |
| `platform_key` | `OSDM_PLATFORM_KEY` | the platform key (`OSDMPlatform` only) |
| `base_url` | `OSDM_PLATFORM_URL`, else `OSDM_BASE_DOMAIN` | the platform's origin (`OSDMPlatform` only) |
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from functools import cached_property
from typing import Any, TypeVar

import httpx

from . import _constants
from ._auth import TokenRefreshCallback, TokenSession
from ._base_client import AsyncAPIClient, BaseClient, SyncAPIClient, is_loopback_name, normalize_origin
from ._exceptions import OSDMError
from ._types import NOT_GIVEN, NotGiven, Timeout
from .resources import (
    AsyncAuditLog,
    AsyncAuth,
    AsyncBlocks,
    AsyncCategories,
    AsyncConversations,
    AsyncDashboards,
    AsyncDisputes,
    AsyncEscrows,
    AsyncEvents,
    AsyncFiles,
    AsyncListings,
    AsyncMarketplaceResource,
    AsyncMe,
    AsyncMessagingPolicyResource,
    AsyncNotificationPreferences,
    AsyncNotifications,
    AsyncOrders,
    AsyncPaymentGateways,
    AsyncPaymentMethods,
    AsyncPayments,
    AsyncPayoutDestinations,
    AsyncPayoutPolicyResource,
    AsyncProposals,
    AsyncReconciliationResource,
    AsyncReviews,
    AsyncSecretKeys,
    AsyncTenants,
    AsyncUsers,
    AsyncWalletResource,
    AsyncWebhookDeliveries,
    AsyncWebhookEndpoints,
    AsyncWithdrawals,
    AuditLog,
    Auth,
    Blocks,
    Categories,
    Conversations,
    Dashboards,
    Disputes,
    Escrows,
    Events,
    Files,
    Listings,
    MarketplaceResource,
    Me,
    MessagingPolicyResource,
    NotificationPreferences,
    Notifications,
    Orders,
    PaymentGateways,
    PaymentMethods,
    Payments,
    PayoutDestinations,
    PayoutPolicyResource,
    Proposals,
    ReconciliationResource,
    Reviews,
    SecretKeys,
    Tenants,
    Users,
    WalletResource,
    WebhookDeliveries,
    WebhookEndpoints,
    Withdrawals,
)
from .types import TenantCreated, TokenPair

__all__ = ["OSDM", "AsyncOSDM", "AsyncOSDMPlatform", "OSDMPlatform"]

_C = TypeVar("_C", bound=BaseClient)


# --- configuration ---------------------------------------------------------------------------------


def origin_from_domain(base_domain: str, tenant: str | None = None) -> httpx.URL:
    """`localhost:8000` + `acme` -> `http://acme.localhost:8000`; https unless the host is loopback."""
    text = base_domain.strip()
    if "://" not in text:
        host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
        scheme = "http" if is_loopback_name(host) or host.startswith("127.") else "https"
        text = f"{scheme}://{text}"
    origin = normalize_origin(text)
    if tenant:
        origin = origin.copy_with(host=f"{tenant}.{origin.host}")
    return origin


def _marketplace_origin(base_url: str | httpx.URL | None, tenant: str | None, base_domain: str | None) -> httpx.URL:
    if base_url:
        return normalize_origin(base_url)
    if tenant:
        return origin_from_domain(base_domain or os.environ.get(_constants.ENV_BASE_DOMAIN) or "localhost", tenant)
    if os.environ.get(_constants.ENV_BASE_URL):
        return normalize_origin(os.environ[_constants.ENV_BASE_URL])
    if os.environ.get(_constants.ENV_TENANT):
        return origin_from_domain(base_domain or os.environ.get(_constants.ENV_BASE_DOMAIN) or "localhost",
                                  os.environ[_constants.ENV_TENANT])
    raise OSDMError("Which marketplace? Pass base_url= (e.g. 'http://acme.localhost:8000') or tenant= and "
                    f"base_domain=, or set {_constants.ENV_BASE_URL} (or {_constants.ENV_TENANT} and "
                    f"{_constants.ENV_BASE_DOMAIN}).")


def _platform_origin(base_url: str | httpx.URL | None, base_domain: str | None) -> httpx.URL:
    if base_url:
        return normalize_origin(base_url)
    if base_domain:
        return origin_from_domain(base_domain)
    if os.environ.get(_constants.ENV_PLATFORM_URL):
        return normalize_origin(os.environ[_constants.ENV_PLATFORM_URL])
    if os.environ.get(_constants.ENV_BASE_DOMAIN):
        return origin_from_domain(os.environ[_constants.ENV_BASE_DOMAIN])
    raise OSDMError("Where is the platform? Pass base_url= (e.g. 'http://localhost:8000') or base_domain=, or set "
                    f"{_constants.ENV_PLATFORM_URL} (or {_constants.ENV_BASE_DOMAIN}).")


def _session(access_token: str | None, refresh_token: str | None,
             on_token_refresh: TokenRefreshCallback | None) -> TokenSession | None:
    if access_token is None and refresh_token is None:
        return None
    if access_token is None:
        raise OSDMError("refresh_token= needs access_token= too (or use client.as_user(tokens)).")
    return TokenSession(access=access_token, refresh=refresh_token, on_refresh=on_token_refresh)


def _describe_credentials(client: BaseClient) -> str:
    if client._session is not None:
        return "user tokens"
    if client.api_key:
        return f"key {client.api_key[:12]}..."
    return "anonymous"


def _copy(client: _C, *, api_key: str | NotGiven | None, session: TokenSession | NotGiven | None,
          timeout: Timeout | NotGiven, max_retries: int | NotGiven, idempotency_key: str | NotGiven | None,
          default_headers: Mapping[str, str] | NotGiven, language: str | NotGiven | None,
          http_client: Any) -> _C:
    """A shallow copy sharing the connection pool (and the user's token session), with overrides;
    resources are rebuilt lazily so they call the copy."""
    new = copy.copy(client)
    new.__dict__ = {k: v for k, v in client.__dict__.items()
                    if not isinstance(getattr(type(client), k, None), cached_property)}
    if not isinstance(api_key, NotGiven):
        new.api_key = api_key
        new._session = None
    if not isinstance(session, NotGiven):
        new._session = session
        new.api_key = None
    if not isinstance(timeout, NotGiven):
        new.timeout = timeout
    if not isinstance(max_retries, NotGiven):
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        new.max_retries = max_retries
    if not isinstance(idempotency_key, NotGiven):
        new.idempotency_key = idempotency_key
    if not isinstance(default_headers, NotGiven):
        new._custom_headers = {**client._custom_headers, **default_headers}
    if not isinstance(language, NotGiven):
        new.language = language
    new._owns_client = False  # type: ignore[attr-defined]
    if not isinstance(http_client, NotGiven):
        new._client = http_client  # type: ignore[attr-defined]
    return new


# --- a marketplace ---------------------------------------------------------------------------------


class OSDM(SyncAPIClient):
    """A client for one marketplace's API.

        client = OSDM(base_url="http://acme.localhost:8000", api_key="sk_live_...")   # operator
        shop = OSDM(tenant="acme", base_domain="localhost:8000")                     # anonymous
        buyer = shop.login(email="sara@example.com", password="...")                  # user mode
    """

    def __init__(self, *, api_key: str | None = None, access_token: str | None = None,
                 refresh_token: str | None = None, on_token_refresh: TokenRefreshCallback | None = None,
                 base_url: str | httpx.URL | None = None, tenant: str | None = None, base_domain: str | None = None,
                 timeout: Timeout | NotGiven = NOT_GIVEN, max_retries: int = _constants.DEFAULT_MAX_RETRIES,
                 default_headers: Mapping[str, str] | None = None, language: str | None = None,
                 idempotency_key: str | None = None, http_client: httpx.Client | None = None) -> None:
        session = _session(access_token, refresh_token, on_token_refresh)
        if session is not None and api_key is not None:
            raise OSDMError("Pass api_key= (a secret key) or access_token= (a user), not both.")
        if session is None and api_key is None:
            api_key = os.environ.get(_constants.ENV_API_KEY) or None
        super().__init__(base_url=_marketplace_origin(base_url, tenant, base_domain), api_key=api_key,
                         session=session, timeout=timeout, max_retries=max_retries, default_headers=default_headers,
                         language=language, idempotency_key=idempotency_key, http_client=http_client)

    @cached_property
    def auth(self) -> Auth:
        return Auth(self)

    @cached_property
    def me(self) -> Me:
        return Me(self)

    @cached_property
    def users(self) -> Users:
        return Users(self)

    @cached_property
    def marketplace(self) -> MarketplaceResource:
        return MarketplaceResource(self)

    @cached_property
    def secret_keys(self) -> SecretKeys:
        return SecretKeys(self)

    @cached_property
    def webhook_endpoints(self) -> WebhookEndpoints:
        return WebhookEndpoints(self)

    @cached_property
    def webhook_deliveries(self) -> WebhookDeliveries:
        return WebhookDeliveries(self)

    @cached_property
    def events(self) -> Events:
        return Events(self)

    @cached_property
    def audit_log(self) -> AuditLog:
        return AuditLog(self)

    @cached_property
    def dashboards(self) -> Dashboards:
        return Dashboards(self)

    @cached_property
    def notification_preferences(self) -> NotificationPreferences:
        return NotificationPreferences(self)

    @cached_property
    def notifications(self) -> Notifications:
        return Notifications(self)

    @cached_property
    def messaging_policy(self) -> MessagingPolicyResource:
        return MessagingPolicyResource(self)

    @cached_property
    def blocks(self) -> Blocks:
        return Blocks(self)

    @cached_property
    def conversations(self) -> Conversations:
        return Conversations(self)

    @cached_property
    def reviews(self) -> Reviews:
        return Reviews(self)

    @cached_property
    def reconciliation(self) -> ReconciliationResource:
        return ReconciliationResource(self)

    @cached_property
    def payout_policy(self) -> PayoutPolicyResource:
        return PayoutPolicyResource(self)

    @cached_property
    def payout_destinations(self) -> PayoutDestinations:
        return PayoutDestinations(self)

    @cached_property
    def withdrawals(self) -> Withdrawals:
        return Withdrawals(self)

    @cached_property
    def wallet(self) -> WalletResource:
        return WalletResource(self)

    @cached_property
    def disputes(self) -> Disputes:
        return Disputes(self)

    @cached_property
    def escrows(self) -> Escrows:
        return Escrows(self)

    @cached_property
    def payment_methods(self) -> PaymentMethods:
        return PaymentMethods(self)

    @cached_property
    def payment_gateways(self) -> PaymentGateways:
        return PaymentGateways(self)

    @cached_property
    def payments(self) -> Payments:
        return Payments(self)

    @cached_property
    def proposals(self) -> Proposals:
        return Proposals(self)

    @cached_property
    def orders(self) -> Orders:
        return Orders(self)

    @cached_property
    def files(self) -> Files:
        return Files(self)

    @cached_property
    def listings(self) -> Listings:
        return Listings(self)

    @cached_property
    def categories(self) -> Categories:
        return Categories(self)

    # --- credentials and copies ----------------------------------------------------------------

    @property
    def access_token(self) -> str | None:
        """The user's current access token (it changes when refreshed), in user mode."""
        return self._session.access if self._session is not None else None

    @property
    def refresh_token(self) -> str | None:
        return self._session.refresh if self._session is not None else None

    def with_options(self, *, api_key: str | NotGiven | None = NOT_GIVEN, timeout: Timeout | NotGiven = NOT_GIVEN,
                     max_retries: int | NotGiven = NOT_GIVEN, idempotency_key: str | NotGiven | None = NOT_GIVEN,
                     default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
                     language: str | NotGiven | None = NOT_GIVEN,
                     http_client: httpx.Client | NotGiven = NOT_GIVEN) -> OSDM:
        """A copy with some options changed, for one call or a few:
        `client.with_options(timeout=5, max_retries=0).users.list()`.
        `idempotency_key` is sent with the copy's POSTs instead of a generated one: one key, one
        operation. The copy shares the connection pool and, in user mode, the tokens."""
        return _copy(self, api_key=api_key, session=NOT_GIVEN, timeout=timeout, max_retries=max_retries,
                     idempotency_key=idempotency_key, default_headers=default_headers, language=language,
                     http_client=http_client)

    copy = with_options

    def as_user(self, tokens: TokenPair, *, on_token_refresh: TokenRefreshCallback | None = None) -> OSDM:
        """A user-mode copy acting with `tokens` (from `auth.register(...).tokens` or `auth.token(...)`);
        the access token is refreshed transparently, and `on_token_refresh` hears of each new pair."""
        session = TokenSession(access=tokens.access, refresh=tokens.refresh,
                               access_expires_at=tokens.access_expires_at, on_refresh=on_token_refresh)
        return _copy(self, api_key=NOT_GIVEN, session=session, timeout=NOT_GIVEN, max_retries=NOT_GIVEN,
                     idempotency_key=NOT_GIVEN, default_headers=NOT_GIVEN, language=NOT_GIVEN,
                     http_client=NOT_GIVEN)

    def login(self, *, email: str, password: str, on_token_refresh: TokenRefreshCallback | None = None) -> OSDM:
        """Log in and return a client acting as that user."""
        return self.as_user(self.auth.token(email=email, password=password), on_token_refresh=on_token_refresh)

    def __repr__(self) -> str:
        return f"OSDM(base_url={str(self.base_url)!r}, auth={_describe_credentials(self)!r})"


class AsyncOSDM(AsyncAPIClient):
    """The async twin of `OSDM`: the same resources and methods, awaited.

        async with AsyncOSDM(base_url="http://acme.localhost:8000", api_key="sk_live_...") as client:
            async for user in client.users.list():
                ...
    """

    def __init__(self, *, api_key: str | None = None, access_token: str | None = None,
                 refresh_token: str | None = None, on_token_refresh: TokenRefreshCallback | None = None,
                 base_url: str | httpx.URL | None = None, tenant: str | None = None, base_domain: str | None = None,
                 timeout: Timeout | NotGiven = NOT_GIVEN, max_retries: int = _constants.DEFAULT_MAX_RETRIES,
                 default_headers: Mapping[str, str] | None = None, language: str | None = None,
                 idempotency_key: str | None = None, http_client: httpx.AsyncClient | None = None) -> None:
        session = _session(access_token, refresh_token, on_token_refresh)
        if session is not None and api_key is not None:
            raise OSDMError("Pass api_key= (a secret key) or access_token= (a user), not both.")
        if session is None and api_key is None:
            api_key = os.environ.get(_constants.ENV_API_KEY) or None
        super().__init__(base_url=_marketplace_origin(base_url, tenant, base_domain), api_key=api_key,
                         session=session, timeout=timeout, max_retries=max_retries, default_headers=default_headers,
                         language=language, idempotency_key=idempotency_key, http_client=http_client)

    @cached_property
    def auth(self) -> AsyncAuth:
        return AsyncAuth(self)

    @cached_property
    def me(self) -> AsyncMe:
        return AsyncMe(self)

    @cached_property
    def users(self) -> AsyncUsers:
        return AsyncUsers(self)

    @cached_property
    def marketplace(self) -> AsyncMarketplaceResource:
        return AsyncMarketplaceResource(self)

    @cached_property
    def secret_keys(self) -> AsyncSecretKeys:
        return AsyncSecretKeys(self)

    @cached_property
    def webhook_endpoints(self) -> AsyncWebhookEndpoints:
        return AsyncWebhookEndpoints(self)

    @cached_property
    def webhook_deliveries(self) -> AsyncWebhookDeliveries:
        return AsyncWebhookDeliveries(self)

    @cached_property
    def events(self) -> AsyncEvents:
        return AsyncEvents(self)

    @cached_property
    def audit_log(self) -> AsyncAuditLog:
        return AsyncAuditLog(self)

    @cached_property
    def dashboards(self) -> AsyncDashboards:
        return AsyncDashboards(self)

    @cached_property
    def notification_preferences(self) -> AsyncNotificationPreferences:
        return AsyncNotificationPreferences(self)

    @cached_property
    def notifications(self) -> AsyncNotifications:
        return AsyncNotifications(self)

    @cached_property
    def messaging_policy(self) -> AsyncMessagingPolicyResource:
        return AsyncMessagingPolicyResource(self)

    @cached_property
    def blocks(self) -> AsyncBlocks:
        return AsyncBlocks(self)

    @cached_property
    def conversations(self) -> AsyncConversations:
        return AsyncConversations(self)

    @cached_property
    def reviews(self) -> AsyncReviews:
        return AsyncReviews(self)

    @cached_property
    def reconciliation(self) -> AsyncReconciliationResource:
        return AsyncReconciliationResource(self)

    @cached_property
    def payout_policy(self) -> AsyncPayoutPolicyResource:
        return AsyncPayoutPolicyResource(self)

    @cached_property
    def payout_destinations(self) -> AsyncPayoutDestinations:
        return AsyncPayoutDestinations(self)

    @cached_property
    def withdrawals(self) -> AsyncWithdrawals:
        return AsyncWithdrawals(self)

    @cached_property
    def wallet(self) -> AsyncWalletResource:
        return AsyncWalletResource(self)

    @cached_property
    def disputes(self) -> AsyncDisputes:
        return AsyncDisputes(self)

    @cached_property
    def escrows(self) -> AsyncEscrows:
        return AsyncEscrows(self)

    @cached_property
    def payment_methods(self) -> AsyncPaymentMethods:
        return AsyncPaymentMethods(self)

    @cached_property
    def payment_gateways(self) -> AsyncPaymentGateways:
        return AsyncPaymentGateways(self)

    @cached_property
    def payments(self) -> AsyncPayments:
        return AsyncPayments(self)

    @cached_property
    def proposals(self) -> AsyncProposals:
        return AsyncProposals(self)

    @cached_property
    def orders(self) -> AsyncOrders:
        return AsyncOrders(self)

    @cached_property
    def files(self) -> AsyncFiles:
        return AsyncFiles(self)

    @cached_property
    def listings(self) -> AsyncListings:
        return AsyncListings(self)

    @cached_property
    def categories(self) -> AsyncCategories:
        return AsyncCategories(self)

    @property
    def access_token(self) -> str | None:
        """The user's current access token (it changes when refreshed), in user mode."""
        return self._session.access if self._session is not None else None

    @property
    def refresh_token(self) -> str | None:
        return self._session.refresh if self._session is not None else None

    def with_options(self, *, api_key: str | NotGiven | None = NOT_GIVEN, timeout: Timeout | NotGiven = NOT_GIVEN,
                     max_retries: int | NotGiven = NOT_GIVEN, idempotency_key: str | NotGiven | None = NOT_GIVEN,
                     default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
                     language: str | NotGiven | None = NOT_GIVEN,
                     http_client: httpx.AsyncClient | NotGiven = NOT_GIVEN) -> AsyncOSDM:
        """A copy with some options changed (see `OSDM.with_options`)."""
        return _copy(self, api_key=api_key, session=NOT_GIVEN, timeout=timeout, max_retries=max_retries,
                     idempotency_key=idempotency_key, default_headers=default_headers, language=language,
                     http_client=http_client)

    copy = with_options

    def as_user(self, tokens: TokenPair, *, on_token_refresh: TokenRefreshCallback | None = None) -> AsyncOSDM:
        """A user-mode copy acting with `tokens` (see `OSDM.as_user`)."""
        session = TokenSession(access=tokens.access, refresh=tokens.refresh,
                               access_expires_at=tokens.access_expires_at, on_refresh=on_token_refresh)
        return _copy(self, api_key=NOT_GIVEN, session=session, timeout=NOT_GIVEN, max_retries=NOT_GIVEN,
                     idempotency_key=NOT_GIVEN, default_headers=NOT_GIVEN, language=NOT_GIVEN,
                     http_client=NOT_GIVEN)

    async def login(self, *, email: str, password: str,
                    on_token_refresh: TokenRefreshCallback | None = None) -> AsyncOSDM:
        """Log in and return a client acting as that user."""
        tokens = await self.auth.token(email=email, password=password)
        return self.as_user(tokens, on_token_refresh=on_token_refresh)

    def __repr__(self) -> str:
        return f"AsyncOSDM(base_url={str(self.base_url)!r}, auth={_describe_credentials(self)!r})"


# --- the platform ----------------------------------------------------------------------------------


def _platform_key(platform_key: str | None) -> str:
    key = platform_key or os.environ.get(_constants.ENV_PLATFORM_KEY)
    if not key:
        raise OSDMError(f"The platform API needs the platform key: pass platform_key= or set "
                        f"{_constants.ENV_PLATFORM_KEY}.")
    return key


def _tenant_and_key(tenant: str | TenantCreated, api_key: str | None) -> tuple[str, str | None]:
    if isinstance(tenant, TenantCreated):
        return tenant.tenant.slug, api_key or tenant.secret_key.secret
    return tenant, api_key


class OSDMPlatform(SyncAPIClient):
    """A client for the platform API, on the bare base domain, with the platform key.

        platform = OSDMPlatform(base_url="http://localhost:8000", platform_key="pk_...")
        created = platform.tenants.create(slug="acme", name="Acme")
        acme = platform.marketplace(created)          # an OSDM for acme, with its first secret key
    """

    def __init__(self, *, platform_key: str | None = None, base_url: str | httpx.URL | None = None,
                 base_domain: str | None = None, timeout: Timeout | NotGiven = NOT_GIVEN,
                 max_retries: int = _constants.DEFAULT_MAX_RETRIES, default_headers: Mapping[str, str] | None = None,
                 language: str | None = None, idempotency_key: str | None = None,
                 http_client: httpx.Client | None = None) -> None:
        super().__init__(base_url=_platform_origin(base_url, base_domain), api_key=_platform_key(platform_key),
                         session=None, timeout=timeout, max_retries=max_retries, default_headers=default_headers,
                         language=language, idempotency_key=idempotency_key, http_client=http_client)

    @cached_property
    def tenants(self) -> Tenants:
        return Tenants(self)

    def marketplace(self, tenant: str | TenantCreated, *, api_key: str | None = None) -> OSDM:
        """A client for one marketplace of this platform (`<slug>.<base domain>`), sharing this client's
        connection pool and options. Given a `TenantCreated`, it uses the tenant's first secret key."""
        slug, key = _tenant_and_key(tenant, api_key)
        return OSDM(base_url=self.base_url.copy_with(host=f"{slug}.{self.base_url.host}"), api_key=key,
                    timeout=self.timeout, max_retries=self.max_retries, default_headers=self._custom_headers,
                    language=self.language, http_client=self._client)

    def with_options(self, *, timeout: Timeout | NotGiven = NOT_GIVEN, max_retries: int | NotGiven = NOT_GIVEN,
                     idempotency_key: str | NotGiven | None = NOT_GIVEN,
                     default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
                     language: str | NotGiven | None = NOT_GIVEN,
                     http_client: httpx.Client | NotGiven = NOT_GIVEN) -> OSDMPlatform:
        """A copy with some options changed (see `OSDM.with_options`)."""
        return _copy(self, api_key=NOT_GIVEN, session=NOT_GIVEN, timeout=timeout, max_retries=max_retries,
                     idempotency_key=idempotency_key, default_headers=default_headers, language=language,
                     http_client=http_client)

    copy = with_options

    def __repr__(self) -> str:
        return f"OSDMPlatform(base_url={str(self.base_url)!r})"


class AsyncOSDMPlatform(AsyncAPIClient):
    """The async twin of `OSDMPlatform`."""

    def __init__(self, *, platform_key: str | None = None, base_url: str | httpx.URL | None = None,
                 base_domain: str | None = None, timeout: Timeout | NotGiven = NOT_GIVEN,
                 max_retries: int = _constants.DEFAULT_MAX_RETRIES, default_headers: Mapping[str, str] | None = None,
                 language: str | None = None, idempotency_key: str | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(base_url=_platform_origin(base_url, base_domain), api_key=_platform_key(platform_key),
                         session=None, timeout=timeout, max_retries=max_retries, default_headers=default_headers,
                         language=language, idempotency_key=idempotency_key, http_client=http_client)

    @cached_property
    def tenants(self) -> AsyncTenants:
        return AsyncTenants(self)

    def marketplace(self, tenant: str | TenantCreated, *, api_key: str | None = None) -> AsyncOSDM:
        """A client for one marketplace of this platform (see `OSDMPlatform.marketplace`)."""
        slug, key = _tenant_and_key(tenant, api_key)
        return AsyncOSDM(base_url=self.base_url.copy_with(host=f"{slug}.{self.base_url.host}"), api_key=key,
                         timeout=self.timeout, max_retries=self.max_retries, default_headers=self._custom_headers,
                         language=self.language, http_client=self._client)

    def with_options(self, *, timeout: Timeout | NotGiven = NOT_GIVEN, max_retries: int | NotGiven = NOT_GIVEN,
                     idempotency_key: str | NotGiven | None = NOT_GIVEN,
                     default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
                     language: str | NotGiven | None = NOT_GIVEN,
                     http_client: httpx.AsyncClient | NotGiven = NOT_GIVEN) -> AsyncOSDMPlatform:
        """A copy with some options changed (see `OSDM.with_options`)."""
        return _copy(self, api_key=NOT_GIVEN, session=NOT_GIVEN, timeout=timeout, max_retries=max_retries,
                     idempotency_key=idempotency_key, default_headers=default_headers, language=language,
                     http_client=http_client)

    copy = with_options

    def __repr__(self) -> str:
        return f"AsyncOSDMPlatform(base_url={str(self.base_url)!r})"

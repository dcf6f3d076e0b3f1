"""`platform.tenants` (platform key, on the base domain): launch, configure, suspend and delete
marketplaces, and issue their secret keys (`platform.tenants.secret_keys`)."""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import Literal

from .._pagination import AsyncPaginator, SyncPage
from .._resource import AsyncAPIResource, SyncAPIResource, segment
from .._types import NOT_GIVEN, NotGiven
from ..types import SecretKey, SecretKeyCreated, Tenant, TenantCreated

__all__ = ["AsyncTenantSecretKeys", "AsyncTenants", "TenantSecretKeys", "Tenants"]

PATH = "/platform/v1/tenants/"

Locale = Literal["ar", "en"]
DisputeOutcome = Literal["refund", "release"]


def _one(slug: str, action: str = "") -> str:
    return f"{PATH}{segment(slug)}/{action}"


class TenantSecretKeys(SyncAPIResource):
    def list(self, slug: str, *, limit: int | NotGiven = NOT_GIVEN) -> SyncPage[SecretKey]:
        return self._client.get_page(_one(slug, "secret-keys/"), SecretKey, params={"limit": limit})

    def create(self, slug: str, *, name: str | NotGiven = NOT_GIVEN) -> SecretKeyCreated:
        """Issue a key for a marketplace (e.g. when its operator lost theirs); `.secret` is shown once."""
        return self._client.post(_one(slug, "secret-keys/"), SecretKeyCreated, body={"name": name})


class Tenants(SyncAPIResource):
    @cached_property
    def secret_keys(self) -> TenantSecretKeys:
        return TenantSecretKeys(self._client)

    def list(self, *, status: Literal["active", "suspended"] | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> SyncPage[Tenant]:
        return self._client.get_page(PATH, Tenant, params={"status": status, "limit": limit})

    def create(self, *, slug: str, name: str, operator_email: str | NotGiven = NOT_GIVEN,
               display_name_en: str | NotGiven = NOT_GIVEN, display_name_ar: str | NotGiven = NOT_GIVEN,
               logo_url: str | NotGiven = NOT_GIVEN, primary_color: str | NotGiven = NOT_GIVEN,
               secondary_color: str | NotGiven = NOT_GIVEN, default_locale: Locale | NotGiven = NOT_GIVEN,
               supported_locales: builtins.list[Locale] | NotGiven = NOT_GIVEN,
               currency: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN,
               commission_bps: int | NotGiven = NOT_GIVEN, escrow_auto_release_days: int | NotGiven = NOT_GIVEN,
               dispute_window_days: int | NotGiven = NOT_GIVEN,
               escrow_release_products_on_payment: bool | NotGiven = NOT_GIVEN,
               dispute_response_days: int | NotGiven = NOT_GIVEN,
               dispute_unanswered_outcome: DisputeOutcome | NotGiven = NOT_GIVEN,
               sample_data: bool | NotGiven = NOT_GIVEN, default_categories: bool | NotGiven = NOT_GIVEN
               ) -> TenantCreated:
        """Launch a marketplace at `<slug>.<base domain>`: the tenant and its first secret key
        (`.secret_key.secret`, shown once). It starts with the default bilingual categories unless
        `default_categories=False`; `sample_data=True` adds demo users and listings. Products release their
        escrow at payment unless `escrow_release_products_on_payment=False` (then it is held until the
        buyer releases it or `escrow_auto_release_days` pass); a dispute the seller leaves unanswered for
        `dispute_response_days` ends as `dispute_unanswered_outcome` (`refund` or `release`)."""
        return self._client.post(PATH, TenantCreated, body=dict(
            slug=slug, name=name, operator_email=operator_email, display_name_en=display_name_en,
            display_name_ar=display_name_ar, logo_url=logo_url, primary_color=primary_color,
            secondary_color=secondary_color, default_locale=default_locale, supported_locales=supported_locales,
            currency=currency, timezone=timezone, commission_bps=commission_bps,
            escrow_auto_release_days=escrow_auto_release_days, dispute_window_days=dispute_window_days,
            escrow_release_products_on_payment=escrow_release_products_on_payment,
            dispute_response_days=dispute_response_days, dispute_unanswered_outcome=dispute_unanswered_outcome,
            sample_data=sample_data, default_categories=default_categories))

    def retrieve(self, slug: str) -> Tenant:
        return self._client.get(_one(slug), Tenant)

    def update(self, slug: str, *, name: str | NotGiven = NOT_GIVEN, operator_email: str | NotGiven = NOT_GIVEN,
               display_name_en: str | NotGiven = NOT_GIVEN, display_name_ar: str | NotGiven = NOT_GIVEN,
               logo_url: str | NotGiven = NOT_GIVEN, primary_color: str | NotGiven = NOT_GIVEN,
               secondary_color: str | NotGiven = NOT_GIVEN, default_locale: Locale | NotGiven = NOT_GIVEN,
               supported_locales: builtins.list[Locale] | NotGiven = NOT_GIVEN,
               currency: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN,
               commission_bps: int | NotGiven = NOT_GIVEN, escrow_auto_release_days: int | NotGiven = NOT_GIVEN,
               dispute_window_days: int | NotGiven = NOT_GIVEN,
               escrow_release_products_on_payment: bool | NotGiven = NOT_GIVEN,
               dispute_response_days: int | NotGiven = NOT_GIVEN,
               dispute_unanswered_outcome: DisputeOutcome | NotGiven = NOT_GIVEN) -> Tenant:
        """Change a marketplace's settings; only the arguments given are changed."""
        return self._client.patch(_one(slug), Tenant, body=dict(
            name=name, operator_email=operator_email, display_name_en=display_name_en,
            display_name_ar=display_name_ar, logo_url=logo_url, primary_color=primary_color,
            secondary_color=secondary_color, default_locale=default_locale, supported_locales=supported_locales,
            currency=currency, timezone=timezone, commission_bps=commission_bps,
            escrow_auto_release_days=escrow_auto_release_days, dispute_window_days=dispute_window_days,
            escrow_release_products_on_payment=escrow_release_products_on_payment,
            dispute_response_days=dispute_response_days, dispute_unanswered_outcome=dispute_unanswered_outcome))

    def delete(self, slug: str) -> None:
        """Delete a marketplace and drop its data: irreversible."""
        self._client.delete(_one(slug))

    def suspend(self, slug: str, *, reason: str | NotGiven = NOT_GIVEN) -> Tenant:
        """Suspend a marketplace: its API answers 403 `tenant_suspended` until activated."""
        return self._client.post(_one(slug, "suspend"), Tenant, body={"reason": reason})

    def activate(self, slug: str) -> Tenant:
        return self._client.post(_one(slug, "activate"), Tenant)


class AsyncTenantSecretKeys(AsyncAPIResource):
    def list(self, slug: str, *, limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[SecretKey]:
        return self._client.get_page(_one(slug, "secret-keys/"), SecretKey, params={"limit": limit})

    async def create(self, slug: str, *, name: str | NotGiven = NOT_GIVEN) -> SecretKeyCreated:
        """Issue a key for a marketplace (e.g. when its operator lost theirs); `.secret` is shown once."""
        return await self._client.post(_one(slug, "secret-keys/"), SecretKeyCreated, body={"name": name})


class AsyncTenants(AsyncAPIResource):
    @cached_property
    def secret_keys(self) -> AsyncTenantSecretKeys:
        return AsyncTenantSecretKeys(self._client)

    def list(self, *, status: Literal["active", "suspended"] | NotGiven = NOT_GIVEN,
             limit: int | NotGiven = NOT_GIVEN) -> AsyncPaginator[Tenant]:
        return self._client.get_page(PATH, Tenant, params={"status": status, "limit": limit})

    async def create(self, *, slug: str, name: str, operator_email: str | NotGiven = NOT_GIVEN,
                     display_name_en: str | NotGiven = NOT_GIVEN, display_name_ar: str | NotGiven = NOT_GIVEN,
                     logo_url: str | NotGiven = NOT_GIVEN, primary_color: str | NotGiven = NOT_GIVEN,
                     secondary_color: str | NotGiven = NOT_GIVEN, default_locale: Locale | NotGiven = NOT_GIVEN,
                     supported_locales: builtins.list[Locale] | NotGiven = NOT_GIVEN,
                     currency: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN,
                     commission_bps: int | NotGiven = NOT_GIVEN,
                     escrow_auto_release_days: int | NotGiven = NOT_GIVEN,
                     dispute_window_days: int | NotGiven = NOT_GIVEN,
                     escrow_release_products_on_payment: bool | NotGiven = NOT_GIVEN,
                     dispute_response_days: int | NotGiven = NOT_GIVEN,
                     dispute_unanswered_outcome: DisputeOutcome | NotGiven = NOT_GIVEN,
                     sample_data: bool | NotGiven = NOT_GIVEN, default_categories: bool | NotGiven = NOT_GIVEN
                     ) -> TenantCreated:
        """Launch a marketplace at `<slug>.<base domain>`: the tenant and its first secret key
        (`.secret_key.secret`, shown once). It starts with the default bilingual categories unless
        `default_categories=False`; `sample_data=True` adds demo users and listings. Products release their
        escrow at payment unless `escrow_release_products_on_payment=False` (then it is held until the
        buyer releases it or `escrow_auto_release_days` pass); a dispute the seller leaves unanswered for
        `dispute_response_days` ends as `dispute_unanswered_outcome` (`refund` or `release`)."""
        return await self._client.post(PATH, TenantCreated, body=dict(
            slug=slug, name=name, operator_email=operator_email, display_name_en=display_name_en,
            display_name_ar=display_name_ar, logo_url=logo_url, primary_color=primary_color,
            secondary_color=secondary_color, default_locale=default_locale, supported_locales=supported_locales,
            currency=currency, timezone=timezone, commission_bps=commission_bps,
            escrow_auto_release_days=escrow_auto_release_days, dispute_window_days=dispute_window_days,
            escrow_release_products_on_payment=escrow_release_products_on_payment,
            dispute_response_days=dispute_response_days, dispute_unanswered_outcome=dispute_unanswered_outcome,
            sample_data=sample_data, default_categories=default_categories))

    async def retrieve(self, slug: str) -> Tenant:
        return await self._client.get(_one(slug), Tenant)

    async def update(self, slug: str, *, name: str | NotGiven = NOT_GIVEN,
                     operator_email: str | NotGiven = NOT_GIVEN, display_name_en: str | NotGiven = NOT_GIVEN,
                     display_name_ar: str | NotGiven = NOT_GIVEN, logo_url: str | NotGiven = NOT_GIVEN,
                     primary_color: str | NotGiven = NOT_GIVEN, secondary_color: str | NotGiven = NOT_GIVEN,
                     default_locale: Locale | NotGiven = NOT_GIVEN,
                     supported_locales: builtins.list[Locale] | NotGiven = NOT_GIVEN,
                     currency: str | NotGiven = NOT_GIVEN, timezone: str | NotGiven = NOT_GIVEN,
                     commission_bps: int | NotGiven = NOT_GIVEN,
                     escrow_auto_release_days: int | NotGiven = NOT_GIVEN,
                     dispute_window_days: int | NotGiven = NOT_GIVEN,
                     escrow_release_products_on_payment: bool | NotGiven = NOT_GIVEN,
                     dispute_response_days: int | NotGiven = NOT_GIVEN,
                     dispute_unanswered_outcome: DisputeOutcome | NotGiven = NOT_GIVEN) -> Tenant:
        """Change a marketplace's settings; only the arguments given are changed."""
        return await self._client.patch(_one(slug), Tenant, body=dict(
            name=name, operator_email=operator_email, display_name_en=display_name_en,
            display_name_ar=display_name_ar, logo_url=logo_url, primary_color=primary_color,
            secondary_color=secondary_color, default_locale=default_locale, supported_locales=supported_locales,
            currency=currency, timezone=timezone, commission_bps=commission_bps,
            escrow_auto_release_days=escrow_auto_release_days, dispute_window_days=dispute_window_days,
            escrow_release_products_on_payment=escrow_release_products_on_payment,
            dispute_response_days=dispute_response_days, dispute_unanswered_outcome=dispute_unanswered_outcome))

    async def delete(self, slug: str) -> None:
        """Delete a marketplace and drop its data: irreversible."""
        await self._client.delete(_one(slug))

    async def suspend(self, slug: str, *, reason: str | NotGiven = NOT_GIVEN) -> Tenant:
        """Suspend a marketplace: its API answers 403 `tenant_suspended` until activated."""
        return await self._client.post(_one(slug, "suspend"), Tenant, body={"reason": reason})

    async def activate(self, slug: str) -> Tenant:
        return await self._client.post(_one(slug, "activate"), Tenant)

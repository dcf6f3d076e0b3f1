"""The platform client against the live server: launch, configure, suspend, key and delete a
marketplace, with the API's errors as typed exceptions."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from osdm_client import (
    OSDM,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    OSDMPlatform,
    PermissionDeniedError,
    SyncPage,
)
from osdm_client.types import Tenant, TenantCreated


def _slug() -> str:
    return f"sdkp-{uuid.uuid4().hex[:8]}"


def test_a_marketplace_lives_its_whole_life_through_the_platform_client(osdm_platform, live_osdm):
    slug = _slug()
    created = osdm_platform.tenants.create(slug=slug, name="Acme", currency="KWD", commission_bps=500,
                                           supported_locales=["ar", "en"], operator_email="ops@example.com",
                                           escrow_release_products_on_payment=False, default_categories=False)
    try:
        assert isinstance(created, TenantCreated)
        tenant = created.tenant
        assert (tenant.slug, tenant.currency, tenant.commission_bps, tenant.status) == (slug, "KWD", 500, "active")
        assert isinstance(tenant.created_at, datetime)
        assert tenant.created_at.tzinfo is not None
        assert tenant.api_base_url == f"{live_osdm.marketplace_url(slug)}/api/v1/"
        assert (tenant.escrow_release_products_on_payment, tenant.dispute_unanswered_outcome) == (False, "refund")
        assert created.secret_key.secret.startswith("sk_live_")
        assert created._request_id
        assert created._request_id.startswith("req_")

        # The tenant's api_base_url is a valid base_url, and its first key works there.
        acme = OSDM(base_url=tenant.api_base_url, api_key=created.secret_key.secret)
        assert acme.marketplace.retrieve().currency == "KWD"
        assert acme.categories.list() == [], "default_categories=False: no taxonomy"

        assert osdm_platform.tenants.retrieve(slug).operator_email == "ops@example.com"
        updated = osdm_platform.tenants.update(slug, display_name_en="Acme Market", escrow_auto_release_days=3)
        assert (updated.display_name_en, updated.escrow_auto_release_days) == ("Acme Market", 3)
        assert updated.commission_bps == 500, "an argument not given is not sent, so not changed"
        policy = osdm_platform.tenants.update(slug, escrow_release_products_on_payment=True, dispute_response_days=7,
                                              dispute_unanswered_outcome="release")
        assert (policy.escrow_release_products_on_payment, policy.dispute_response_days,
                policy.dispute_unanswered_outcome) == (True, 7, "release")

        suspended = osdm_platform.tenants.suspend(slug, reason="unpaid invoice")
        assert (suspended.status, suspended.suspension_reason) == ("suspended", "unpaid invoice")
        assert suspended.suspended_at is not None
        with pytest.raises(PermissionDeniedError) as denied:
            list(acme.users.list())
        assert denied.value.code == "tenant_suspended"
        assert denied.value.status_code == 403
        assert slug in {t.slug for t in osdm_platform.tenants.list(status="suspended")}

        assert osdm_platform.tenants.activate(slug).status == "active"
        assert list(acme.users.list()) == []

        key = osdm_platform.tenants.secret_keys.create(slug, name="recovery")
        assert key.secret.startswith(key.prefix)
        listed = list(osdm_platform.tenants.secret_keys.list(slug))
        assert {k.prefix for k in listed} == {key.prefix, created.secret_key.prefix}
        assert "secret" not in listed[0].model_fields_set
        assert OSDM(base_url=live_osdm.marketplace_url(slug), api_key=key.secret).secret_keys.list().results
    finally:
        osdm_platform.tenants.delete(slug)
    with pytest.raises(NotFoundError) as gone:
        osdm_platform.tenants.retrieve(slug)
    assert gone.value.code == "tenant_not_found"


def test_listing_tenants_walks_every_page(osdm_platform, market):
    extra = osdm_platform.tenants.create(slug=_slug(), name="Second").tenant.slug
    try:
        first = osdm_platform.tenants.list(limit=1)
        assert isinstance(first, SyncPage)
        assert len(first.results) == 1
        assert first.has_next_page()
        pages = list(first.pages())
        assert all(len(page.results) == 1 for page in pages)
        everyone = [t.slug for t in osdm_platform.tenants.list(limit=1)]
        assert everyone == [page.results[0].slug for page in pages]
        assert len(everyone) == len(set(everyone)) >= 2
        assert {market.slug, extra} <= set(everyone)
        assert all(isinstance(t, Tenant) for t in osdm_platform.tenants.list())
    finally:
        osdm_platform.tenants.delete(extra)


def test_errors_carry_the_api_code_message_fields_and_request_id(osdm_platform, market, live_osdm):
    with pytest.raises(ConflictError) as taken:
        osdm_platform.tenants.create(slug=market.slug, name="Again")
    assert taken.value.code == "slug_taken"
    assert taken.value.type == "conflict_error"
    assert taken.value.request_id
    assert taken.value.request_id.startswith("req_")
    assert taken.value.request_id in str(taken.value)

    with pytest.raises(BadRequestError) as invalid:
        osdm_platform.tenants.create(slug=_slug(), name="Too greedy", commission_bps=20_000)
    assert invalid.value.code == "validation_error"
    assert set(invalid.value.fields) == {"commission_bps"}
    assert "commission_bps" in str(invalid.value)

    with pytest.raises(NotFoundError):
        osdm_platform.tenants.retrieve("no-such-market")

    wrong = OSDMPlatform(base_url=live_osdm.platform_url, platform_key="pk_wrong")
    with pytest.raises(AuthenticationError) as refused:
        wrong.tenants.retrieve(market.slug)
    assert refused.value.status_code == 401

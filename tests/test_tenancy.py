"""Tenant isolation: hosts pick tenants, credentials never cross them, data never leaks."""

import pytest

from osdm.accounts.models import User
from tenants.models import Tenant
from tenants.services import tenant_run

from .conftest import assert_error, register

pytestmark = pytest.mark.django_db


def test_secret_key_of_one_tenant_is_refused_on_another(api, alpha, beta):
    assert api(alpha, alpha.secret_key).get("/api/v1/users/").status_code == 200
    assert_error(api(beta, alpha.secret_key).get("/api/v1/users/"), 401, "invalid_api_key")
    assert_error(api(alpha, beta.secret_key).get("/api/v1/users/"), 401, "invalid_api_key")


def test_user_token_of_one_tenant_is_refused_on_another(api, alpha, beta):
    tokens = register(api(alpha), "traveller@example.com")["tokens"]
    assert api(alpha, tokens["access"]).get("/api/v1/me").status_code == 200
    assert_error(api(beta, tokens["access"]).get("/api/v1/me"), 401, "invalid_token")
    assert_error(api(beta).post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}), 401, "invalid_token")


def test_the_same_email_is_two_people_in_two_tenants(api, alpha, beta):
    a = register(api(alpha), "same@example.com", full_name="Alpha Person")
    b = register(api(beta), "same@example.com", full_name="Beta Person")
    assert a["user"]["id"] != b["user"]["id"]
    # Each password works only where it was set.
    assert api(alpha).post("/api/v1/auth/token",
                           {"email": "same@example.com", "password": "correct-horse-battery-staple"}).status_code == 200


def test_users_created_in_one_tenant_are_invisible_in_another(api, alpha, beta):
    user_id = register(api(alpha), "only-alpha@example.com")["user"]["id"]
    alpha_ops, beta_ops = api(alpha, alpha.secret_key), api(beta, beta.secret_key)
    assert [u["email"] for u in alpha_ops.get("/api/v1/users/?email=only-alpha@example.com").json()["results"]] == [
        "only-alpha@example.com"]
    assert beta_ops.get("/api/v1/users/?email=only-alpha@example.com").json()["results"] == []
    assert alpha_ops.get(f"/api/v1/users/{user_id}/").status_code == 200
    assert_error(beta_ops.get(f"/api/v1/users/{user_id}/"), 404, "not_found")
    with tenant_run(beta.tenant):
        assert not User.objects.filter(pk=user_id).exists()


def test_secret_keys_listed_per_tenant_only(api, alpha, beta):
    alpha_keys = api(alpha, alpha.secret_key).get("/api/v1/secret-keys/").json()["results"]
    beta_keys = api(beta, beta.secret_key).get("/api/v1/secret-keys/").json()["results"]
    assert {k["id"] for k in alpha_keys}.isdisjoint({k["id"] for k in beta_keys})
    assert_error(api(beta, beta.secret_key).post(f"/api/v1/secret-keys/{alpha_keys[0]['id']}/revoke"), 404)
    assert api(alpha, alpha.secret_key).get("/api/v1/users/").status_code == 200  # still valid


def test_unknown_hosts_get_a_json_404(api, settings):
    for host in ("nosuch.localhost", "a.b.localhost", "example.com", "tenant-template.localhost",
                 "spare-abc.localhost"):
        assert_error(api(host).get("/api/v1/marketplace"), 404, "unknown_host")


def test_no_header_or_parameter_chooses_the_tenant(api, alpha, beta):
    # Only the Host counts: a forwarded host header or a query parameter naming another tenant does not.
    response = api(alpha, alpha.secret_key).get(f"/api/v1/marketplace?tenant={beta.tenant.slug}",
                                                headers={"X-Tenant": beta.tenant.slug})
    assert response.json()["slug"] == alpha.tenant.slug


def test_the_template_and_spares_are_not_marketplaces(platform):
    slugs = {t["slug"] for t in platform.get("/platform/v1/tenants/?limit=100").json()["results"]}
    assert "tenant-template" not in slugs
    assert Tenant.objects.filter(status=Tenant.Status.TEMPLATE).count() == 1


def test_suspended_tenant_answers_403_until_activated(api, alpha, platform):
    client = api(alpha, alpha.secret_key)
    suspended = platform.post(f"/platform/v1/tenants/{alpha.tenant.slug}/suspend", {"reason": "unpaid invoice"})
    assert suspended.json()["status"] == "suspended"
    assert_error(client.get("/api/v1/users/"), 403, "tenant_suspended")
    assert_error(api(alpha).post("/api/v1/auth/token", {"email": "x@example.com", "password": "y"}), 403,
                 "tenant_suspended")
    assert platform.post(f"/platform/v1/tenants/{alpha.tenant.slug}/activate").json()["status"] == "active"
    assert client.get("/api/v1/users/").status_code == 200


def test_the_host_cache_serves_repeat_requests_and_forgets_a_suspension_at_once(api, alpha, platform, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.middleware import _hosts

    settings.OSDM_TENANT_CACHE_SECONDS = 60
    shop = api(alpha)
    assert shop.get("/api/v1/marketplace").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert shop.get("/api/v1/marketplace").status_code == 200
    assert not any("tenants_tenant" in q["sql"] for q in captured.captured_queries)  # served from the cache
    assert platform.post(f"/platform/v1/tenants/{alpha.tenant.slug}/suspend", {"reason": "audit"}).status_code == 200
    assert_error(shop.get("/api/v1/marketplace"), 403, "tenant_suspended")  # forgotten on save, not after 60 s
    assert platform.post(f"/platform/v1/tenants/{alpha.tenant.slug}/activate").status_code == 200
    assert shop.get("/api/v1/marketplace").status_code == 200
    settings.OSDM_TENANT_CACHE_SECONDS = 0
    _hosts.clear()
    with CaptureQueriesContext(connection) as captured:
        assert shop.get("/api/v1/marketplace").status_code == 200
    assert any("tenants_tenant" in q["sql"] for q in captured.captured_queries)  # 0: off
    assert not _hosts


def test_one_connection_alternating_marketplaces_reads_each_ones_own_data(api, alpha, beta):
    """The backend sends `SET search_path` only when the path changes: requests alternating between
    two marketplaces on one connection still each read only their own schema, and a run of requests
    for one marketplace sets the path once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a = register(api(alpha), "alternating@example.com", full_name="Alpha Side")
    b = register(api(beta), "alternating@example.com", full_name="Beta Side")
    for _ in range(3):
        assert api(alpha, a["tokens"]["access"]).get("/api/v1/me").json()["full_name"] == "Alpha Side"
        assert api(beta, b["tokens"]["access"]).get("/api/v1/me").json()["full_name"] == "Beta Side"
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            assert api(alpha, a["tokens"]["access"]).get("/api/v1/me").json()["full_name"] == "Alpha Side"
    assert sum(q["sql"].startswith("SET search_path") for q in ctx.captured_queries) == 1
    with tenant_run(alpha.tenant):
        assert User.objects.get(email="alternating@example.com").full_name == "Alpha Side"


def test_a_beat_job_failing_in_one_marketplace_still_runs_in_the_others(alpha, beta):
    from django.db import connection

    from tenants.services import for_each_marketplace

    visited = []

    def job(tenant):
        visited.append(connection.schema_name)
        if tenant.pk == alpha.tenant.pk:
            raise RuntimeError("this marketplace's job broke")
        return 1

    total = for_each_marketplace(job, name="test.job")
    assert alpha.tenant.schema_name in visited and beta.tenant.schema_name in visited
    assert total == len(visited) - 1  # every other marketplace counted; alpha's failure logged, not raised

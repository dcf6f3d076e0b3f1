"""The platform API: launching, configuring, suspending and deleting marketplaces."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_exists

from tenants.models import SecretKey, Tenant

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_platform_key_is_required(api, settings):
    anonymous = api(settings.OSDM_BASE_DOMAIN)
    assert_error(anonymous.get("/platform/v1/tenants/"), 401, "authentication_required")
    assert_error(api(settings.OSDM_BASE_DOMAIN, "pk_wrong").get("/platform/v1/tenants/"), 401, "invalid_api_key")


def test_a_tenant_secret_key_is_not_a_platform_key(api, alpha, settings):
    assert_error(api(settings.OSDM_BASE_DOMAIN, alpha.secret_key).get("/platform/v1/tenants/"), 401)


def test_create_marketplace_returns_its_key_once_and_it_works(platform, api):
    response = platform.post("/platform/v1/tenants/", {
        "slug": "souq", "name": "Souq", "display_name_ar": "سوق", "currency": "SAR",
        "commission_bps": 1250, "default_locale": "ar", "supported_locales": ["ar", "en"], "sample_data": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tenant"]["slug"] == "souq"
    assert body["tenant"]["domain"] == "souq.localhost"
    assert body["tenant"]["api_base_url"].endswith("souq.localhost/api/v1/")
    assert body["tenant"]["commission_bps"] == 1250
    secret = body["secret_key"]["secret"]
    assert secret.startswith("sk_live_")
    # Stored hashed: the secret is nowhere in the database.
    assert not SecretKey.objects.filter(key_hash=secret).exists()
    assert secret not in str(list(SecretKey.objects.values()))
    # Listed by prefix afterwards, never in full.
    keys = platform.get("/platform/v1/tenants/souq/secret-keys/").json()["results"]
    assert [k["prefix"] for k in keys] == [secret[:12]]
    assert "secret" not in keys[0]
    # The key opens the new marketplace, whose sample users are there.
    users = api("souq.localhost", secret).get("/api/v1/users/").json()["results"]
    assert {u["email"] for u in users} == {"buyer@demo.osdm.dev", "seller@demo.osdm.dev"}
    marketplace = api("souq.localhost").get("/api/v1/marketplace").json()
    assert marketplace["display_name_ar"] == "سوق"


@pytest.mark.parametrize("slug", [
    'evil"; DROP SCHEMA public CASCADE; --', "public", "Upper", "ab", "a" * 41, "-lead", "trail-", "double--hyphen",
    "tenant-template", "spare-x1", "www", "under_score", "ünï", "1digit",
])
def test_bad_slugs_are_refused_and_nothing_is_created(platform, slug):
    before = (Tenant.objects.count(), _schemas())
    response = platform.post("/platform/v1/tenants/", {"slug": slug, "name": "Bad"})
    assert_error(response, 400)
    assert (Tenant.objects.count(), _schemas()) == before


def _schemas() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        return cursor.fetchone()[0]


def test_duplicate_slug_is_a_conflict(platform, alpha):
    assert_error(platform.post("/platform/v1/tenants/", {"slug": "alpha", "name": "Again"}), 409, "slug_taken")


@pytest.mark.parametrize("body", [
    {"slug": "okname", "name": "X", "default_locale": "en", "supported_locales": ["ar"]},
    {"slug": "okname", "name": "X", "commission_bps": 10001},
    {"slug": "okname", "name": "X", "commission_bps": -1},
    {"slug": "okname", "name": "X", "currency": "XXX"},
    {"slug": "okname", "name": "X", "primary_color": "red"},
    {"slug": "okname", "name": "X", "timezone": "Mars/Olympus"},
    {"slug": "okname", "name": "X", "supported_locales": ["fr"]},
    {"slug": "okname", "name": "X", "escrow_auto_release_days": "seven"},
    {"slug": "okname", "name": "X", "unknown_setting": 1},
    {"slug": "okname"},
    ["not", "an", "object"],
])
def test_bad_settings_are_refused(platform, body):
    assert_error(platform.post("/platform/v1/tenants/", body), 400, "validation_error")
    assert not Tenant.objects.filter(slug="okname").exists()


def test_patch_settings(platform, alpha):
    path = f"/platform/v1/tenants/{alpha.tenant.slug}/"
    updated = platform.patch(path, {"commission_bps": 750, "escrow_auto_release_days": 3,
                                    "display_name_ar": "ألفا", "primary_color": "#112233"})
    assert updated.status_code == 200, updated.content
    assert updated.json()["commission_bps"] == 750
    refused = platform.patch(path, {"default_locale": "en", "supported_locales": ["ar"]})
    assert_error(refused, 400, "validation_error")
    assert_error(platform.patch(path, {"slug": "renamed"}), 400, "validation_error")
    current = platform.get(path).json()
    assert current["default_locale"] == "ar"
    assert current["slug"] == alpha.tenant.slug
    assert current["commission_bps"] == 750
    assert_error(platform.get("/platform/v1/tenants/nosuch/"), 404, "tenant_not_found")


def test_delete_drops_the_schema(platform, api):
    created = platform.post("/platform/v1/tenants/", {"slug": "shortlived", "name": "Short"}).json()
    key = created["secret_key"]["secret"]
    assert schema_exists("t_shortlived")
    assert platform.delete("/platform/v1/tenants/shortlived/").status_code == 204
    assert not schema_exists("t_shortlived")
    assert not Tenant.objects.filter(slug="shortlived").exists()
    assert_error(api("shortlived.localhost", key).get("/api/v1/users/"), 404, "unknown_host")


def test_cli_create_suspend_activate_delete(capsys, api):
    call_command("tenants", "create", "clitenant", "--name", "CLI Tenant", "--currency", "AED")
    out = capsys.readouterr().out
    secret = out.strip().splitlines()[-1].split(": ")[-1]
    assert secret.startswith("sk_live_")
    tenant = Tenant.objects.get(slug="clitenant")
    assert tenant.currency == "AED"
    assert schema_exists(tenant.schema_name)
    assert api("clitenant.localhost", secret).get("/api/v1/users/").status_code == 200
    call_command("tenants", "suspend", "clitenant", "--reason", "test")
    assert_error(api("clitenant.localhost", secret).get("/api/v1/users/"), 403, "tenant_suspended")
    call_command("tenants", "activate", "clitenant")
    call_command("tenants", "list")
    assert "clitenant\tactive" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("tenants", "delete", "clitenant")  # needs --yes
    with pytest.raises(CommandError, match="slug_taken"):
        call_command("tenants", "create", "clitenant", "--name", "Again")
    call_command("tenants", "delete", "clitenant", "--yes")
    assert not schema_exists("t_clitenant")


def test_secret_key_rotation(api, alpha):
    operator = api(alpha, alpha.secret_key)
    created = operator.post("/api/v1/secret-keys/", {"name": "rotation"})
    assert created.status_code == 201
    new = created.json()
    new_client = api(alpha, new["secret"])
    assert new_client.get("/api/v1/users/").status_code == 200
    assert operator.get("/api/v1/users/").status_code == 200  # both live during rotation
    revoked = new_client.post(f"/api/v1/secret-keys/{new['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert_error(new_client.get("/api/v1/users/"), 401, "invalid_api_key")
    assert operator.get("/api/v1/users/").status_code == 200


def test_operators_and_users_cannot_use_each_others_endpoints(api, alpha):
    from .conftest import register

    token = register(api(alpha), "role@example.com")["tokens"]["access"]
    assert_error(api(alpha, token).get("/api/v1/users/"), 403, "permission_denied")
    assert_error(api(alpha, token).post("/api/v1/secret-keys/", {}), 403)
    assert_error(api(alpha, alpha.secret_key).get("/api/v1/me"), 403, "permission_denied")


def test_api_base_url_names_the_port_the_client_reached_not_the_servers(platform, alpha, settings):
    """Behind an ingress the Host carries no port while gunicorn listens on 8000 in its pod: the URL
    handed out must be the one clients use."""

    def api_base_url(host: str) -> str:
        response = platform.client.get(f"/platform/v1/tenants/{alpha.tenant.slug}/", HTTP_HOST=host,
                                       SERVER_PORT="8000", HTTP_AUTHORIZATION=f"Bearer {platform.token}")
        assert response.status_code == 200, response.content
        return response.json()["api_base_url"]

    assert api_base_url(settings.OSDM_BASE_DOMAIN) == f"http://{alpha.host}/api/v1/"
    assert api_base_url(f"{settings.OSDM_BASE_DOMAIN}:8000") == f"http://{alpha.host}:8000/api/v1/"

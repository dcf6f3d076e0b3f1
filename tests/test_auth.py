"""Registration, login, refresh, tokens that must be refused, profile changes and throttling."""

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings

from osdm.accounts.models import User
from tenants.services import tenant_run

from .conftest import PASSWORD, assert_error, register

pytestmark = pytest.mark.django_db


def _login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/token", {"email": email, "password": password})


def test_register_logs_in_and_me_shows_the_user(api, alpha):
    client = api(alpha)
    body = register(client, "Sara@Example.com", full_name="سارة الحربي", locale="ar")
    assert body["user"]["email"] == "sara@example.com"
    assert body["user"]["full_name"] == "سارة الحربي"
    assert body["user"]["is_seller"] is False
    assert body["tokens"]["token_type"] == "Bearer"
    me = client.as_(body["tokens"]["access"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]


def test_register_twice_with_the_same_email_in_any_case_is_a_conflict(api, alpha):
    client = api(alpha)
    register(client, "dup@example.com")
    response = client.post("/api/v1/auth/register",
                           {"email": "DUP@example.com", "password": PASSWORD, "full_name": "Other"})
    assert_error(response, 409, "email_taken")
    with tenant_run(alpha.tenant):
        assert User.objects.filter(email__iexact="dup@example.com").count() == 1


@pytest.mark.parametrize("password", ["short", "1234567890123", "password123"])
def test_weak_passwords_are_refused_with_field_errors(api, alpha, password):
    response = api(alpha).post("/api/v1/auth/register",
                               {"email": "weak@example.com", "password": password, "full_name": "W"})
    error = assert_error(response, 400, "weak_password")
    assert error["fields"]["password"]
    with tenant_run(alpha.tenant):
        assert not User.objects.filter(email="weak@example.com").exists()


def test_login_refresh_and_wrong_password(api, alpha):
    client = api(alpha)
    register(client, "login@example.com")
    assert_error(_login(client, "login@example.com", "not-the-password"), 401, "invalid_credentials")
    assert_error(_login(client, "nobody@example.com"), 401, "invalid_credentials")
    tokens = _login(client, "LOGIN@example.com").json()
    assert set(tokens) == {"token_type", "access", "refresh", "access_expires_at", "refresh_expires_at"}
    refreshed = client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    assert client.as_(refreshed.json()["access"]).get("/api/v1/me").status_code == 200
    # An access token is not a refresh token, and a refresh token is not an access token.
    assert_error(client.post("/api/v1/auth/refresh", {"refresh": tokens["access"]}), 401, "invalid_token")
    assert_error(client.as_(tokens["refresh"]).get("/api/v1/me"), 401, "invalid_token")


def _forge(claims: dict, key: str | None = None) -> str:
    return jwt.encode(claims, key or settings.SECRET_KEY, algorithm="HS256")


def test_expired_and_tampered_tokens_are_refused(api, alpha):
    client = api(alpha)
    body = register(client, "tokens@example.com")
    access = body["tokens"]["access"]
    claims = jwt.decode(access, settings.SECRET_KEY, algorithms=["HS256"], issuer="osdm")
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = _forge({**claims, "iat": int(past.timestamp()) - 60, "exp": int(past.timestamp())})
    assert_error(client.as_(expired).get("/api/v1/me"), 401, "token_expired")
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    assert_error(client.as_(tampered).get("/api/v1/me"), 401, "invalid_token")
    assert_error(client.as_(_forge(claims, key="another-secret-key-of-32-bytes!!")).get("/api/v1/me"),
                 401, "invalid_token")
    assert_error(client.as_("garbage").get("/api/v1/me"), 401, "invalid_token")
    # A token without the tenant claim, or with no "none" algorithm tricks, is refused too.
    unsigned = jwt.encode({**claims}, None, algorithm="none")
    assert_error(client.as_(unsigned).get("/api/v1/me"), 401, "invalid_token")
    no_tenant = {k: v for k, v in claims.items() if k != "tid"}
    assert_error(client.as_(_forge(no_tenant)).get("/api/v1/me"), 401, "invalid_token")
    response = client.as_(None).get("/api/v1/me")
    assert_error(response, 401, "authentication_required")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_verified_before_stops_working_when_it_expires(api, alpha):
    """Verified tokens' claims are kept per process: the expiry is still checked on every request."""
    client = api(alpha)
    claims = jwt.decode(register(client, "soon@example.com")["tokens"]["access"], settings.SECRET_KEY,
                        algorithms=["HS256"], issuer="osdm")
    soon = _forge({**claims, "exp": int(time.time()) + 2})
    assert client.as_(soon).get("/api/v1/me").status_code == 200
    assert client.as_(soon).get("/api/v1/me").status_code == 200  # from the kept claims
    time.sleep(2.1)
    assert_error(client.as_(soon).get("/api/v1/me"), 401, "token_expired")


def test_password_change_revokes_earlier_tokens(api, alpha):
    client = api(alpha)
    tokens = register(client, "change@example.com")["tokens"]
    me = client.as_(tokens["access"])
    new_password = "an-even-better-passphrase"
    wrong = me.patch("/api/v1/me", {"password": new_password, "current_password": "nope"})
    assert_error(wrong, 400, "invalid_current_password")
    assert _login(client, "change@example.com").status_code == 200  # unchanged
    changed = me.patch("/api/v1/me", {"password": new_password, "current_password": PASSWORD})
    assert changed.status_code == 200
    assert_error(me.get("/api/v1/me"), 401, "invalid_token")
    assert_error(client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}), 401, "invalid_token")
    assert _login(client, "change@example.com", new_password).status_code == 200


def test_profile_update_and_becoming_a_seller(api, alpha):
    client = api(alpha)
    me = client.as_(register(client, "seller@example.com")["tokens"]["access"])
    assert_error(me.get("/api/v1/me/seller-profile"), 404, "seller_profile_not_found")
    missing = me.patch("/api/v1/me/seller-profile", {"bio": "no name yet"})
    assert set(assert_error(missing, 400, "validation_error")["fields"]) == {"display_name", "country"}
    assert_error(me.put("/api/v1/me/seller-profile", {"display_name": "X", "country": "Saudi"}), 400)
    created = me.put("/api/v1/me/seller-profile", {"display_name": "استوديو عمر", "country": "sa", "bio": "مرحبا"})
    assert created.status_code == 200, created.content
    assert created.json()["country"] == "SA"
    updated = me.patch("/api/v1/me/seller-profile", {"bio": "Updated"})
    assert updated.json()["display_name"] == "استوديو عمر"
    assert updated.json()["bio"] == "Updated"
    profile = me.patch("/api/v1/me", {"full_name": "Omar", "locale": "en"}).json()
    assert profile["full_name"] == "Omar"
    assert profile["locale"] == "en"
    assert profile["is_seller"] is True
    assert profile["seller_profile"]["display_name"] == "استوديو عمر"
    assert_error(me.patch("/api/v1/me", {"locale": "fr"}), 400, "validation_error")
    assert_error(me.patch("/api/v1/me", {"email": "other@example.com"}), 400, "validation_error")


def test_login_is_throttled_per_email(api, alpha, settings):
    settings.OSDM_THROTTLE_RATES = {**settings.OSDM_THROTTLE_RATES, "login": "3/min"}
    client = api(alpha)
    register(client, "throttle@example.com")
    for _ in range(3):
        assert _login(client, "throttle@example.com", "wrong-password").status_code == 401
    response = _login(client, "throttle@example.com")  # even the right password, once throttled
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert _login(client, "someone-else@example.com").status_code == 401  # other accounts unaffected


def test_api_calls_are_throttled_per_user(api, alpha, settings):
    settings.OSDM_THROTTLE_RATES = {**settings.OSDM_THROTTLE_RATES, "user": "5/min"}
    client = api(alpha)
    me = client.as_(register(client, "busy@example.com")["tokens"]["access"])
    statuses = [me.get("/api/v1/me").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    other = client.as_(register(client, "calm@example.com")["tokens"]["access"])
    assert other.get("/api/v1/me").status_code == 200


def test_parallel_requests_of_one_caller_are_each_counted_once(settings):
    """A burst at once: exactly the limit gets through (DRF's read-modify-write log let more through)."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from osdm.core.throttling import PrincipalRateThrottle

    settings.OSDM_THROTTLE_RATES = {**settings.OSDM_THROTTLE_RATES, "user": "10/min"}
    request = SimpleNamespace(user=SimpleNamespace(pk=uuid.uuid4(), is_authenticated=True), META={})
    with ThreadPoolExecutor(16) as pool:
        allowed = list(pool.map(lambda _: PrincipalRateThrottle().allow_request(request, None), range(40)))
    assert allowed.count(True) == 10
    throttle = PrincipalRateThrottle()
    assert throttle.allow_request(request, None) is False
    assert 55 < throttle.wait() <= 60  # until the oldest of the ten leaves the minute


def test_a_callers_limit_is_its_marketplaces_alone(settings, alpha, beta):
    """The same id in two marketplaces (keys carry the schema): spending one's limit leaves the other's."""
    import uuid
    from types import SimpleNamespace

    from osdm.core.throttling import PrincipalRateThrottle

    settings.OSDM_THROTTLE_RATES = {**settings.OSDM_THROTTLE_RATES, "user": "3/min"}
    request = SimpleNamespace(user=SimpleNamespace(pk=uuid.uuid4(), is_authenticated=True), META={})
    with tenant_run(alpha.tenant):
        assert [PrincipalRateThrottle().allow_request(request, None) for _ in range(4)] == [True] * 3 + [False]
    with tenant_run(beta.tenant):
        assert PrincipalRateThrottle().allow_request(request, None) is True

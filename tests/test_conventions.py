"""API conventions every endpoint follows: error shape, bad input, languages, request ids,
pagination, health checks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osdm.accounts.models import User
from tenants.services import tenant_run

from .conftest import PASSWORD, assert_error, register

pytestmark = pytest.mark.django_db


def _user_count(market) -> int:
    with tenant_run(market.tenant):
        return User.objects.count()


def test_malformed_json_is_a_400_and_writes_nothing(api, alpha):
    before = _user_count(alpha)
    response = api(alpha).post("/api/v1/auth/register", raw='{"email": "a@example.com", "password": ')
    assert_error(response, 400, "malformed_request")
    assert _user_count(alpha) == before


@pytest.mark.parametrize("body", [
    {"email": 42, "password": PASSWORD, "full_name": "T"},
    {"email": "t@example.com", "password": ["list"], "full_name": "T"},
    {"email": "t@example.com", "password": PASSWORD, "full_name": {"nested": True}},
    {"email": "not-an-email", "password": PASSWORD, "full_name": "T"},
    {"email": "t@example.com", "password": PASSWORD, "full_name": "T", "is_staff": True},
    {"email": "t@example.com", "password": PASSWORD, "full_name": "T", "locale": "fr"},
    {"email": "t@example.com", "password": PASSWORD, "full_name": "x" * 151},
    {"email": "t@example.com", "password": PASSWORD},
    "just a string",
    None,
])
def test_wrong_types_unknown_fields_and_missing_fields(api, alpha, body):
    before = _user_count(alpha)
    client = api(alpha)
    response = client.post("/api/v1/auth/register", raw="null") if body is None else client.post(
        "/api/v1/auth/register", body)
    error = assert_error(response, 400, "validation_error")
    assert error["type"] == "invalid_request_error"
    assert _user_count(alpha) == before


def test_unknown_fields_are_named_alongside_other_errors(api, alpha):
    error = assert_error(api(alpha).post("/api/v1/auth/register", {"email": "bad", "role": "admin"}), 400)
    assert {"email", "role", "password", "full_name"} <= set(error["fields"])
    assert error["fields"]["role"] == ["Unknown field."]


def test_oversized_bodies_are_refused_before_parsing(api, alpha, settings):
    big = '{"email": "big@example.com", "full_name": "' + "x" * (settings.OSDM_MAX_BODY_BYTES + 10) + '"}'
    assert_error(api(alpha).post("/api/v1/auth/register", raw=big), 413, "payload_too_large")


def test_wrong_content_type_and_method(api, alpha):
    response = api(alpha).post("/api/v1/auth/register", raw="email=a", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")
    assert_error(api(alpha).request("DELETE", "/api/v1/auth/register"), 405, "method_not_allowed")
    assert_error(api(alpha).get("/api/v1/no-such-endpoint"), 404, "not_found")


@pytest.mark.parametrize(("accept", "status"), [
    (None, 200), ("*/*", 200), ("application/json", 200), ("application/*", 200),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200),  # a browser's
    ("application/xml", 406), ("text/html", 406),
])
def test_responses_are_json_and_other_accept_headers_are_refused(api, alpha, accept, status):
    client = api(alpha, register(api(alpha), "accept@example.com")["tokens"]["access"])
    response = client.get("/api/v1/me", headers={"Accept": accept} if accept else None)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if status == 406:
        assert_error(response, 406)


def test_messages_follow_accept_language(api, alpha):
    english = api(alpha, language="en").post("/api/v1/auth/token", {"email": "n@example.com", "password": "x"})
    arabic = api(alpha, language="ar").post("/api/v1/auth/token", {"email": "n@example.com", "password": "x"})
    assert assert_error(english, 401)["message"] == "The e-mail or password is wrong."
    assert assert_error(arabic, 401)["message"] == "البريد الإلكتروني أو كلمة المرور غير صحيحة."
    assert arabic.json()["error"]["code"] == english.json()["error"]["code"]  # codes never translate
    # DRF's own validation messages are translated as well.
    missing = api(alpha, language="ar").post("/api/v1/auth/register", {})
    assert assert_error(missing, 400)["fields"]["email"] == ["هذا الحقل مطلوب."]
    unknown_host = api("nowhere.localhost", language="ar").get("/api/v1/marketplace")
    assert assert_error(unknown_host, 404)["message"] == "لا يوجد سوق على هذا العنوان."


def test_request_ids(api, alpha):
    generated = api(alpha).get("/api/v1/marketplace")
    assert generated["X-Request-Id"].startswith("req_")
    assert api(alpha).get("/api/v1/marketplace")["X-Request-Id"] != generated["X-Request-Id"]
    echoed = api(alpha).get("/api/v1/marketplace", headers={"X-Request-Id": "client-trace-12345"})
    assert echoed["X-Request-Id"] == "client-trace-12345"
    hostile = api(alpha).get("/api/v1/marketplace", headers={"X-Request-Id": "bad id\nwith newline"})
    assert hostile["X-Request-Id"].startswith("req_")
    assert api("nowhere.localhost").get("/x")["X-Request-Id"].startswith("req_")  # errors too


def test_cursor_pagination_walks_every_item_once(api, alpha):
    client = api(alpha)
    emails = {f"page{i}@example.com" for i in range(7)}
    for email in sorted(emails):
        register(client, email)
    operator = api(alpha, alpha.secret_key)
    seen, url, pages = [], "/api/v1/users/?limit=3", 0
    while url:
        page = operator.get(url).json()
        assert len(page["results"]) <= 3
        seen += [u["email"] for u in page["results"]]
        url = page["next"] and page["next"].split("testserver", 1)[-1].split(alpha.host, 1)[-1]
        pages += 1
    assert emails <= set(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 3
    assert_error(operator.get("/api/v1/users/?cursor=not-a-cursor"), 404)


def test_list_endpoints_run_a_constant_number_of_queries(api, alpha):
    client = api(alpha)
    for i in range(6):
        tokens = register(client, f"q{i}@example.com")["tokens"]
        client.as_(tokens["access"]).put("/api/v1/me/seller-profile", {"display_name": f"S{i}", "country": "SA"})
    operator = api(alpha, alpha.secret_key)
    operator.get("/api/v1/users/?limit=1")  # warm up: the key's last_used_at is written once
    counts = []
    for limit in (1, 6):
        with CaptureQueriesContext(connection) as ctx:
            assert operator.get(f"/api/v1/users/?limit={limit}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_health_checks_answer_on_any_host(api):
    for host in ("localhost", "alpha.localhost", "10.0.0.7", "nowhere.localhost"):
        assert api(host).get("/healthz").json() == {"status": "ok"}
    ready = api("10.0.0.7").get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_reports_an_unreachable_redis(api, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = api("localhost").get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable"}}

"""Configuring a client: keyword arguments or environment, `*.localhost` reached on 127.0.0.1 with the
real Host header, an injected httpx client, `with_options` copies, and credentials that never leave
the client's own origin."""

from __future__ import annotations

import httpx
import pytest

from osdm_client import OSDM, AsyncOSDM, OSDMError, OSDMPlatform, __version__
from sdk_helpers import ScriptedServer, Step

PAGE = {"results": [], "next": None, "previous": None}


def test_keyword_arguments_name_the_marketplace(market, live_osdm):
    for client in (OSDM(base_url=market.url, api_key=market.secret_key),
                   OSDM(base_url=f"{market.url}/api/v1/", api_key=market.secret_key),
                   OSDM(tenant=market.slug, base_domain=f"{live_osdm.base_domain}:{live_osdm.port}",
                        api_key=market.secret_key)):
        assert str(client.base_url) == market.url
        assert client.marketplace.retrieve().slug == market.slug
        assert isinstance(list(client.users.list()), list)


def test_the_environment_configures_a_client(market, live_osdm, monkeypatch):
    monkeypatch.setenv("OSDM_BASE_URL", market.url)
    monkeypatch.setenv("OSDM_API_KEY", market.secret_key)
    assert OSDM().secret_keys.list().results

    monkeypatch.delenv("OSDM_BASE_URL")
    monkeypatch.setenv("OSDM_TENANT", market.slug)
    monkeypatch.setenv("OSDM_BASE_DOMAIN", f"{live_osdm.base_domain}:{live_osdm.port}")
    assert OSDM().secret_keys.list().results
    assert str(AsyncOSDM().base_url) == market.url

    monkeypatch.setenv("OSDM_PLATFORM_KEY", live_osdm.platform_key)
    assert OSDMPlatform().tenants.retrieve(market.slug).slug == market.slug, "the base domain locates the platform"
    monkeypatch.setenv("OSDM_PLATFORM_URL", live_osdm.platform_url)
    monkeypatch.delenv("OSDM_BASE_DOMAIN")
    assert OSDMPlatform().tenants.retrieve(market.slug).slug == market.slug


def test_keyword_arguments_beat_the_environment(monkeypatch):
    monkeypatch.setenv("OSDM_BASE_URL", "http://other.localhost:1")
    monkeypatch.setenv("OSDM_API_KEY", "sk_live_from_env")
    client = OSDM(base_url="https://acme.example.com", api_key="sk_live_given")
    assert (str(client.base_url), client.api_key) == ("https://acme.example.com", "sk_live_given")
    assert OSDM(tenant="acme", base_domain="osdm.example.com").base_url == httpx.URL("https://acme.osdm.example.com")
    user = OSDM(access_token="eyJ.access", refresh_token="eyJ.refresh")
    assert user.api_key is None, "user mode never sends the secret key from the environment"


def test_missing_configuration_is_explained(monkeypatch):
    for name in ("OSDM_BASE_URL", "OSDM_TENANT", "OSDM_BASE_DOMAIN", "OSDM_PLATFORM_URL", "OSDM_PLATFORM_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(OSDMError, match="base_url"):
        OSDM()
    with pytest.raises(OSDMError, match="platform key"):
        OSDMPlatform(base_url="http://localhost:8000")
    with pytest.raises(OSDMError, match="base_url"):
        OSDMPlatform(platform_key="pk")
    with pytest.raises(ValueError, match="absolute"):
        OSDM(base_url="acme.localhost")
    with pytest.raises(OSDMError, match="not both"):
        OSDM(base_url="http://acme.localhost", api_key="sk_live_x", access_token="eyJ.x")
    with pytest.raises(OSDMError, match="access_token"):
        OSDM(base_url="http://acme.localhost", refresh_token="eyJ.refresh")
    with pytest.raises(ValueError, match="max_retries"):
        OSDM(base_url="http://acme.localhost", max_retries=-1)


def test_localhost_names_are_reached_on_loopback_with_their_host_header():
    with ScriptedServer([], then=Step(200, {}, {"slug": "acme", "name": "Acme"})) as server:
        client = OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x", language="ar")
        client.marketplace.retrieve()
        (seen,) = server.requests
    assert seen.headers["host"] == f"acme.localhost:{server.port}"
    assert seen.headers["authorization"] == "Bearer sk_live_x"
    assert seen.headers["accept-language"] == "ar"
    assert seen.headers["user-agent"].startswith(f"osdm-python/{__version__} ")


def test_an_injected_http_client_is_used_and_left_open():
    seen = []
    with ScriptedServer([], then=Step(200, {}, PAGE)) as server:
        http = httpx.Client(event_hooks={"request": [seen.append]}, headers={"X-Team": "storefront"})
        with OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x", http_client=http) as client:
            list(client.users.list())
        assert len(seen) == 1 and not http.is_closed
        assert server.requests[0].headers["x-team"] == "storefront"
        http.close()


def test_with_options_copies_without_touching_the_original():
    with ScriptedServer([], then=Step(200, {}, PAGE)) as server:
        client = OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x", timeout=30)
        tuned = client.with_options(timeout=2, max_retries=0, default_headers={"X-Trace": "t1"})
        assert (client.timeout, client.max_retries) == (30, 2)
        assert (tuned.timeout, tuned.max_retries) == (2, 0)
        assert tuned.users._client is tuned and client.users._client is client
        tuned.users.list()
        client.users.list()
        assert server.requests[0].headers["x-trace"] == "t1"
        assert "x-trace" not in server.requests[1].headers
        assert tuned._client is client._client, "copies share the connection pool"


def test_pagination_links_never_lead_credentials_elsewhere():
    first = {"results": [{"id": 1, "prefix": "sk_live_A", "created_at": "2026-11-27T09:30:00Z"}],
             "next": "https://evil.example.com/api/v1/secret-keys/?cursor=abc&limit=1", "previous": None}
    last = {"results": [{"id": 2, "prefix": "sk_live_B", "created_at": "2026-11-27T09:31:00Z"}],
            "next": None, "previous": None}
    with ScriptedServer([Step(200, {}, first)], then=Step(200, {}, last)) as server:
        client = OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x")
        assert [k.prefix for k in client.secret_keys.list(limit=1)] == ["sk_live_A", "sk_live_B"]
        assert [r.path for r in server.requests] == ["/api/v1/secret-keys/?limit=1",
                                                     "/api/v1/secret-keys/?cursor=abc&limit=1"]
        assert server.requests[1].headers["host"] == f"acme.localhost:{server.port}"


def test_unset_arguments_are_not_sent_and_query_values_are_encoded():
    with ScriptedServer([], then=Step(200, {}, {"id": "we_1", "url": "https://h.example.com/",
                                                "created_at": "2026-11-27T09:30:00Z",
                                                "updated_at": "2026-11-27T09:30:00Z"})) as server:
        client = OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x")
        client.webhook_endpoints.update("we_1", enabled=False)
        client.with_options(max_retries=0)
        assert server.requests[0].body == b'{"enabled": false}'
        assert server.requests[0].headers["content-type"] == "application/json"
    with ScriptedServer([], then=Step(200, {}, PAGE)) as server:
        client = OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x")
        list(client.users.list(is_seller=False))
        list(client.events.list(type=["user.created", "ping"]))
        assert server.requests[0].path == "/api/v1/users/?is_seller=false"
        assert server.requests[1].path == "/api/v1/events/?type=user.created%2Cping"


def test_path_arguments_cannot_climb_out_of_their_path():
    with ScriptedServer([], then=Step(404, {}, {"error": {"type": "not_found_error", "code": "not_found",
                                                          "message": "Not found."}})) as server:
        client = OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_x", max_retries=0)
        with pytest.raises(OSDMError):
            client.users.retrieve("../secret-keys")
        assert server.requests[0].path == "/api/v1/users/..%2Fsecret-keys/"


def test_repr_shows_no_secret():
    client = OSDM(base_url="http://acme.localhost:8000", api_key="sk_live_" + "s" * 40)
    assert "s" * 20 not in repr(client)
    assert "acme.localhost" in repr(client)
    assert "user tokens" in repr(OSDM(base_url="http://acme.localhost", access_token="eyJ.x"))

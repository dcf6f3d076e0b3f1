"""`AsyncOSDM` and `AsyncOSDMPlatform` have the surface of their sync twins, method for method and
argument for argument, and behave the same against the live server."""

from __future__ import annotations

import inspect
import uuid
from datetime import UTC, datetime, timedelta
from functools import cached_property

import pytest

from osdm_client import (
    OSDM,
    AsyncOSDM,
    AsyncOSDMPlatform,
    AsyncPage,
    AsyncPaginator,
    ConflictError,
    NotFoundError,
    OSDMPlatform,
    PermissionDeniedError,
)
from osdm_client._resource import AsyncAPIResource, SyncAPIResource
from osdm_client.types import (
    Registration,
    TenantCreated,
    TokenPair,
    UserCreatedEvent,
    WebhookEndpointWithSecret,
)
from sdk_helpers import PASSWORD, unique_email

# --- the surface -----------------------------------------------------------------------------------


def _tree(obj, prefix: str = "") -> dict[str, object]:
    """Every resource reachable from a client, by attribute path."""
    found = {}
    for name in dir(type(obj)):
        if isinstance(getattr(type(obj), name, None), cached_property):
            value = getattr(obj, name)
            if isinstance(value, SyncAPIResource | AsyncAPIResource):
                found[prefix + name] = value
                found.update(_tree(value, f"{prefix}{name}."))
    return found


def _public_methods(obj) -> dict[str, object]:
    return {n: getattr(obj, n) for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n))
            and not isinstance(getattr(type(obj), n, None), cached_property)}


PAIRS = [
    (OSDM(base_url="http://acme.localhost", api_key="sk_live_x"), AsyncOSDM(base_url="http://acme.localhost",
                                                                             api_key="sk_live_x")),
    (OSDMPlatform(base_url="http://localhost", platform_key="pk"),
     AsyncOSDMPlatform(base_url="http://localhost", platform_key="pk")),
]


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=["marketplace", "platform"])
def test_the_async_client_has_the_same_resources_methods_and_arguments(sync, async_):
    sync_tree, async_tree = _tree(sync), _tree(async_)
    assert sorted(sync_tree) == sorted(async_tree)
    assert sync_tree, "no resources found"
    for path, resource in sync_tree.items():
        twin = async_tree[path]
        sync_methods, async_methods = _public_methods(resource), _public_methods(twin)
        assert sorted(sync_methods) == sorted(async_methods), path
        for name, method in sync_methods.items():
            ours, theirs = inspect.signature(method), inspect.signature(async_methods[name])
            assert [(p.name, p.kind, p.default, str(p.annotation)) for p in ours.parameters.values()] == \
                   [(p.name, p.kind, p.default, str(p.annotation)) for p in theirs.parameters.values()], \
                   f"{path}.{name}"
            returns = str(ours.return_annotation)
            async_method = async_methods[name]
            if returns.startswith("SyncPage["):
                assert str(theirs.return_annotation) == returns.replace("SyncPage[", "AsyncPaginator[")
            elif returns.endswith("SearchPage"):  # a page with extras: ListingSearchPage
                assert str(theirs.return_annotation) == f"Async{returns[:-4]}Paginator", f"{path}.{name}"
            elif returns.startswith("Iterator["):  # a streaming context manager
                assert str(theirs.return_annotation).startswith("AsyncIterator[")
            else:
                assert inspect.iscoroutinefunction(async_method), f"{path}.{name} must be awaitable"
                assert str(theirs.return_annotation) == returns, f"{path}.{name}"


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=["marketplace", "platform"])
def test_the_clients_themselves_match(sync, async_):
    ours = set(_public_methods(sync))
    theirs = set(_public_methods(async_))
    assert ours == theirs
    assert inspect.iscoroutinefunction(type(async_).close)
    if hasattr(async_, "login"):
        assert inspect.iscoroutinefunction(type(async_).login)


# --- the behaviour, against the live server ------------------------------------------------------------


@pytest.mark.anyio
async def test_a_marketplace_through_the_async_clients(async_platform):
    slug = f"sdka-{uuid.uuid4().hex[:8]}"
    created = await async_platform.tenants.create(slug=slug, name="Async Market")
    assert isinstance(created, TenantCreated)
    try:
        async with async_platform.marketplace(created) as operator:
            shop = operator.with_options(api_key=None)
            emails = [unique_email("async") for _ in range(3)]
            for email in emails:
                registration = await shop.auth.register(email=email, password=PASSWORD, full_name="Async Buyer")
                assert isinstance(registration, Registration)
            with pytest.raises(ConflictError) as taken:
                await shop.auth.register(email=emails[0], password=PASSWORD, full_name="Again")
            assert taken.value.code == "email_taken"

            buyer = await shop.login(email=emails[0], password=PASSWORD)
            assert (await buyer.me.retrieve()).email == emails[0]
            profile = await buyer.me.seller_profile.upsert(display_name="Async Studio", country="AE")
            assert profile.country == "AE"
            with pytest.raises(PermissionDeniedError):
                await buyer.users.list()

            # Pagination: await for the first page, async for every item, pages() page by page.
            paginator = operator.users.list(limit=2)
            assert isinstance(paginator, AsyncPaginator)
            first = await paginator
            assert isinstance(first, AsyncPage) and len(first.results) == 2 and first.has_next_page()
            assert {u.email async for u in operator.users.list(limit=2)} == set(emails)
            pages = [page async for page in operator.users.list(limit=2).pages()]
            assert [len(p.results) for p in pages] == [2, 1]
            assert (await first.next_page()).results == pages[1].results
            assert {u.email async for u in first} == set(emails)

            signups = [e async for e in operator.events.list(type="user.created")]
            assert all(isinstance(e, UserCreatedEvent) for e in signups)
            assert await operator.events.retrieve(signups[0].id) == signups[0]

            async with operator.audit_log.export_stream(action="user.registered") as export:
                rows = [row async for row in export.iter_rows()]
            assert {r["object_id"] for r in rows} == {u.id async for u in operator.users.list()}
            assert (await operator.audit_log.export(action="user.registered")).count("\n") == len(rows) + 1

            endpoint = await operator.webhook_endpoints.create(url="https://hooks.example.com/osdm")
            assert isinstance(endpoint, WebhookEndpointWithSecret)
            await operator.webhook_endpoints.delete(endpoint.id)
            with pytest.raises(NotFoundError):
                await operator.webhook_endpoints.retrieve(endpoint.id)

        suspended = await async_platform.tenants.suspend(slug, reason="async test")
        assert suspended.status == "suspended"
        assert (await async_platform.tenants.activate(slug)).status == "active"
        keys = [k async for k in async_platform.tenants.secret_keys.list(slug)]
        assert [k.prefix for k in keys] == [created.secret_key.prefix]
    finally:
        await async_platform.tenants.delete(slug)


@pytest.mark.anyio
async def test_async_user_mode_refreshes_tokens(market):
    email, _ = market.register()
    async with AsyncOSDM(base_url=market.url) as shop:
        pair = await shop.auth.token(email=email, password=PASSWORD)
        stale = pair.model_copy(update={"access_expires_at": datetime.now(UTC) - timedelta(seconds=1)})
        heard: list[TokenPair] = []
        buyer = shop.as_user(stale, on_token_refresh=heard.append)
        assert (await buyer.me.retrieve()).email == email
        assert len(heard) == 1
        assert buyer.access_token == heard[0].access

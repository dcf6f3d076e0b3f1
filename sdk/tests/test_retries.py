"""Retries, backoff and idempotency keys, against real HTTP servers on 127.0.0.1: scripted ones that
fail as told, and a flaky proxy in front of the live platform.

The platform does not replay Idempotency-Keys yet (that arrives with payments), so "one effect, not
two" is shown where it can be today: an attempt that never reached the platform is retried with the
same key and the resource exists once; an attempt whose answer was lost is retried with the same key
too, and the platform's answer to the retry is surfaced as it is.
"""

from __future__ import annotations

import itertools
import time

import pytest

from osdm_client import (
    OSDM,
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    RateLimitError,
    _constants,
    _retries,
)
from osdm_client.types import Registration
from sdk_helpers import PASSWORD, FlakyProxy, ScriptedServer, Step, unique_email


def _client(server, **options) -> OSDM:
    return OSDM(base_url=server.url("acme.localhost"), api_key="sk_live_test", **options)


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch):
    """Backoff scaled down so the suite stays fast; its shape is what is under test."""
    monkeypatch.setattr(_constants, "INITIAL_RETRY_DELAY", 0.05)
    monkeypatch.setattr(_constants, "MAX_RETRY_DELAY", 0.2)


def _gaps(server) -> list[float]:
    times = [r.at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


# --- against the live platform, through a proxy that drops the first attempt -----------------------


def _registered(market, email: str) -> int:
    return len(list(market.operator.users.list(email=email)))


@pytest.mark.parametrize("fault", ["drop-before", 503])
def test_a_post_lost_before_the_server_is_retried_with_the_same_key_and_happens_once(market, live_osdm, fault):
    email = unique_email("retry")
    with FlakyProxy(f"http://127.0.0.1:{live_osdm.port}", [fault]) as proxy:
        shop = OSDM(base_url=proxy.url(f"{market.slug}.localhost"))
        registration = shop.auth.register(email=email, password=PASSWORD, full_name="Retried Buyer")
    assert isinstance(registration, Registration)
    assert len(proxy.requests) == 2 and len(proxy.forwarded) == 1
    keys = {r.headers["idempotency-key"] for r in proxy.requests}
    assert len(keys) == 1, "both attempts carry the same Idempotency-Key"
    assert _registered(market, email) == 1


def test_a_post_whose_answer_was_lost_is_retried_with_the_same_key(market, live_osdm):
    email = unique_email("lost")
    with FlakyProxy(f"http://127.0.0.1:{live_osdm.port}", ["drop-after"]) as proxy:
        shop = OSDM(base_url=proxy.url(f"{market.slug}.localhost"))
        try:
            outcome: object = shop.auth.register(email=email, password=PASSWORD, full_name="Lost Answer")
        except ConflictError as exc:  # no replay on the platform yet: the retry meets the first attempt's user
            outcome = exc
    assert len(proxy.forwarded) == 2
    assert len({r.headers["idempotency-key"] for r in proxy.forwarded}) == 1
    assert _registered(market, email) == 1, "one effect, not two"
    assert isinstance(outcome, Registration) or (isinstance(outcome, ConflictError)
                                                 and outcome.code == "email_taken")


def test_async_retries_keep_the_key_too(market, live_osdm):
    import asyncio

    from osdm_client import AsyncOSDM

    email = unique_email("aretry")

    async def register():
        async with AsyncOSDM(base_url=proxy.url(f"{market.slug}.localhost")) as shop:
            return await shop.auth.register(email=email, password=PASSWORD, full_name="Async Retry")

    with FlakyProxy(f"http://127.0.0.1:{live_osdm.port}", ["drop-before", 502]) as proxy:
        assert isinstance(asyncio.run(register()), Registration)
    assert len(proxy.requests) == 3
    assert len({r.headers["idempotency-key"] for r in proxy.requests}) == 1
    assert _registered(market, email) == 1


# --- against scripted servers ------------------------------------------------------------------------


def test_only_posts_carry_an_idempotency_key_and_a_given_one_is_used():
    with ScriptedServer([], then=Step(200, {}, {"results": [], "next": None, "previous": None})) as server:
        client = _client(server)
        list(client.users.list())
        client.with_options(idempotency_key="order-42").secret_keys.list()
        assert all("idempotency-key" not in r.headers for r in server.requests)
    with ScriptedServer([Step.error(500, "boom")], then=Step(201, {}, {"redelivered": 0})) as server:
        _client(server).with_options(idempotency_key="order-42").webhook_endpoints.redeliver_failed(
            "we_1", since="2026-11-27T00:00:00Z")
        assert [r.headers["idempotency-key"] for r in server.requests] == ["order-42", "order-42"]


def test_every_post_gets_a_fresh_key():
    with ScriptedServer([], then=Step(200, {}, {"redelivered": 0})) as server:
        client = _client(server)
        for _ in range(2):
            client.webhook_endpoints.redeliver_failed("we_1", since="2026-11-27T00:00:00Z")
        keys = [r.headers["idempotency-key"] for r in server.requests]
        assert len(set(keys)) == 2


def test_retry_after_is_honoured():
    with ScriptedServer([Step.error(429, "rate_limited", {"Retry-After": "1"})],
                        then=Step(200, {}, {"redelivered": 0})) as server:
        _client(server).webhook_endpoints.redeliver_failed("we_1", since="2026-11-27T00:00:00Z")
        (gap,) = _gaps(server)
        assert 1.0 <= gap < 3.0


def test_retry_after_ms_is_honoured_and_a_huge_retry_after_is_not():
    with ScriptedServer([Step.error(503, "busy", {"Retry-After-Ms": "300"}),
                         Step.error(503, "busy", {"Retry-After": "3600"})],
                        then=Step(200, {}, {"slug": "acme", "name": "Acme"})) as server:
        _client(server).marketplace.retrieve()
        first, second = _gaps(server)
        assert 0.3 <= first < 2.0
        assert second < 2.0, "an hour-long Retry-After falls back to our own backoff"


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap():
    for attempt, nominal in enumerate([0.05, 0.1, 0.2, 0.2, 0.2]):  # INITIAL * 2**n, capped at MAX
        delays = [_retries.retry_delay(attempt, None) for _ in range(200)]
        assert all(nominal * (1 - _constants.RETRY_JITTER) <= d <= nominal for d in delays), (attempt, delays)
        assert len(set(delays)) > 100, "jittered, so clients that failed together do not retry together"


def test_the_client_waits_out_the_backoff_between_attempts():
    with ScriptedServer([Step.error(503, "busy")] * 3, then=Step(200, {}, {"slug": "a", "name": "A"})) as server:
        _client(server, max_retries=3).marketplace.retrieve()
        gaps = _gaps(server)
    assert len(gaps) == 3
    for gap, nominal in zip(gaps, [0.05, 0.1, 0.2], strict=True):
        assert nominal * (1 - _constants.RETRY_JITTER) <= gap < nominal + 1.0, (gaps, nominal)


def test_spent_retries_raise_the_last_error_with_its_request_id():
    with ScriptedServer([], then=Step.error(500, "internal_error")) as server:
        with pytest.raises(InternalServerError) as failed:
            _client(server, max_retries=2).marketplace.retrieve()
        assert len(server.requests) == 3
    assert failed.value.status_code == 500
    assert failed.value.code == "internal_error"
    assert failed.value.request_id and failed.value.request_id.startswith("req_")


@pytest.mark.parametrize(("step", "attempts"), [
    (Step.error(400, "validation_error", fields={"url": ["Enter a valid URL."]}), 1),
    (Step.error(409, "email_taken"), 1),
    (Step.error(409, "idempotency_in_progress"), 3),
    (Step.error(408, "request_timeout"), 3),
    (Step.error(429, "rate_limited", {"Retry-After": "0"}), 3),
    (Step.error(503, "unavailable", {"X-Should-Retry": "false"}), 1),
    (Step.error(400, "try_again", {"X-Should-Retry": "true"}), 3),
])
def test_what_is_retried(step, attempts):
    with ScriptedServer([], then=step) as server:
        with pytest.raises(Exception) as failed:  # noqa: PT011 - the class is checked below
            _client(server, max_retries=2).webhook_endpoints.create(url="https://hooks.example.com/")
        assert len(server.requests) == attempts
    assert failed.value.status_code == step.status
    assert failed.value.code == step.body["error"]["code"]
    if step.status == 400:
        assert isinstance(failed.value, BadRequestError)
    if step.status == 429:
        assert isinstance(failed.value, RateLimitError) and failed.value.retry_after == 0


def test_dropped_connections_are_retried_then_surface_as_connection_errors():
    with ScriptedServer([Step(drop=True)], then=Step(200, {}, {"slug": "a", "name": "A"})) as server:
        assert _client(server).marketplace.retrieve().slug == "a"
        assert len(server.requests) == 2
    with ScriptedServer([], then=Step(drop=True)) as server:
        with pytest.raises(APIConnectionError) as failed:
            _client(server, max_retries=1).marketplace.retrieve()
        assert len(server.requests) == 2
    assert not isinstance(failed.value, APITimeoutError)
    assert failed.value.request.url.host == "127.0.0.1"


def test_nothing_listening_is_a_connection_error():
    from conftest import free_port

    client = OSDM(base_url=f"http://acme.localhost:{free_port()}", max_retries=1)
    started = time.monotonic()
    with pytest.raises(APIConnectionError):
        client.marketplace.retrieve()
    assert time.monotonic() - started < 5


def test_a_slow_server_times_out_and_the_retry_too():
    with ScriptedServer([], then=Step(200, {}, {}, delay=1.0)) as server:
        with pytest.raises(APITimeoutError):
            _client(server, timeout=0.2, max_retries=1).marketplace.retrieve()
        assert len(server.requests) == 2
    with ScriptedServer([Step(200, {}, {}, delay=1.0)], then=Step(200, {}, {"slug": "a", "name": "A"})) as server:
        assert _client(server).with_options(timeout=0.2).marketplace.retrieve().slug == "a"


def test_max_retries_zero_means_one_attempt():
    with ScriptedServer([], then=Step.error(503, "busy")) as server:
        with pytest.raises(InternalServerError):
            _client(server).with_options(max_retries=0).marketplace.retrieve()
        assert len(server.requests) == 1

"""Webhooks end to end: committed changes, a real Celery worker process, a real HTTP receiver.

These tests commit (the worker is another process), so they run on the `gamma` marketplace and
delete their endpoints when done.
"""

import uuid

import pytest
from standardwebhooks import Webhook

from tenants.services import tenant_run
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.tasks import sweep

from .conftest import register, wait_for


@pytest.fixture
def hook(gamma, committed, api, receiver):
    """An endpoint on gamma subscribed to user.created, created through the API; removed afterwards."""
    path = receiver.path()
    operator = api(gamma, gamma.secret_key)
    endpoint = operator.post("/api/v1/webhook-endpoints/",
                             {"url": receiver.url(path), "event_types": ["user.created"]}).json()
    yield endpoint, path
    operator.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}/")


def _sign_up(api, gamma) -> str:
    email = f"w-{uuid.uuid4().hex[:10]}@example.com"
    register(api(gamma), email)
    return email


def _delivery(gamma, endpoint_id: str) -> Delivery:
    with tenant_run(gamma.tenant):
        return Delivery.objects.filter(endpoint_id=endpoint_id).order_by("-id").first()


def test_a_committed_change_is_delivered_by_the_worker(celery_worker, hook, api, gamma, receiver):
    endpoint, path = hook
    email = _sign_up(api, gamma)
    (got,) = receiver.wait(path)
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "user.created"
    assert payload["data"]["email"] == email
    wait_for(lambda: _delivery(gamma, endpoint["id"]).status == "succeeded")


def test_a_receiver_failing_three_times_gets_the_fourth_attempt_with_the_same_id(celery_worker, hook, api, gamma,
                                                                               receiver):
    endpoint, path = hook
    receiver.script(path, [(500, {}, 0), (502, {}, 0), (503, {}, 0)])
    _sign_up(api, gamma)
    attempts = receiver.wait(path, 4)
    assert len({a.headers["webhook-id"] for a in attempts}) == 1
    for attempt in attempts:
        Webhook(endpoint["secret"]).verify(attempt.body, attempt.headers)
    delivery = wait_for(lambda: (d := _delivery(gamma, endpoint["id"])).status == "succeeded" and d)
    assert delivery.attempt_count == 4


def test_a_worker_killed_mid_delivery_leaves_the_event_delivered_later(celery_worker, hook, api, gamma, receiver):
    endpoint, path = hook
    receiver.script(path, [(200, {}, 10.0)])  # the first request hangs while we pull the plug
    _sign_up(api, gamma)
    (first,) = receiver.wait(path)
    celery_worker.kill()
    celery_worker.start()
    # The crashed attempt's lease runs out; the sweeper (beat in production) hands the delivery out again.
    def delivered():
        sweep.delay()
        return len(receiver.received(path)) >= 2

    wait_for(delivered, timeout=30, interval=1.0)
    second = receiver.received(path)[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    wait_for(lambda: _delivery(gamma, endpoint["id"]).status == "succeeded")


def test_nothing_is_lost_across_a_worker_restart(celery_worker, hook, api, gamma, receiver):
    endpoint, path = hook
    celery_worker.stop()
    emails = {_sign_up(api, gamma) for _ in range(5)}
    assert receiver.received(path) == []
    celery_worker.start()
    received = receiver.wait(path, 5)
    assert {Webhook(endpoint["secret"]).verify(r.body, r.headers)["data"]["email"] for r in received} == emails


def test_endpoints_are_cleaned_up(gamma, committed):
    with tenant_run(gamma.tenant):
        assert not WebhookEndpoint.objects.exists()


def test_a_worker_reusing_connections_never_mixes_two_marketplaces(celery_worker, hook, api, gamma, committed,
                                                                     receiver):
    """The worker keeps its connections between tasks (CELERY_DB_REUSE_MAX) and sets search_path once
    per connection and tenant (TENANT_LIMIT_SET_CALLS): tasks of two marketplaces interleaved on the same
    threads must each read their own schema and reach only their own endpoint."""
    from tenants import services

    from .conftest import Marketplace

    gamma_endpoint, gamma_path = hook
    made = services.tenant_create(slug=f"iso-{uuid.uuid4().hex[:8]}", name="عزل")
    other = Marketplace(made.tenant, made.secret_key)
    try:
        other_path = receiver.path()
        other_endpoint = api(other, other.secret_key).post(
            "/api/v1/webhook-endpoints/", {"url": receiver.url(other_path), "event_types": ["user.created"]}).json()
        gamma_emails, other_emails = set(), set()
        for _ in range(6):
            gamma_emails.add(_sign_up(api, gamma))
            other_emails.add(_sign_up(api, other))
        for endpoint, path, emails, market in ((gamma_endpoint, gamma_path, gamma_emails, gamma),
                                               (other_endpoint, other_path, other_emails, other)):
            got = receiver.wait(path, 6)
            payloads = [Webhook(endpoint["secret"]).verify(g.body, g.headers) for g in got]
            assert {p["data"]["email"] for p in payloads} == emails
            wait_for(lambda e=endpoint, m=market: _delivery(m, e["id"]).status == "succeeded")
        assert len(receiver.received(gamma_path)) == 6 and len(receiver.received(other_path)) == 6
    finally:
        services.tenant_delete(tenant=other.tenant)


def test_disabling_an_endpoint_stops_its_queued_deliveries(celery_worker, hook, api, gamma, receiver):
    """Deliveries already queued when the endpoint is disabled are not sent: the worker reads the
    endpoint at every attempt."""
    endpoint, path = hook
    celery_worker.stop()
    for _ in range(3):
        _sign_up(api, gamma)
    api(gamma, gamma.secret_key).patch(f"/api/v1/webhook-endpoints/{endpoint['id']}/", {"enabled": False})
    celery_worker.start()
    with tenant_run(gamma.tenant):
        deliveries = Delivery.objects.filter(endpoint_id=endpoint["id"], event__type="user.created")
        wait_for(lambda: deliveries.count() == 3 and not deliveries.filter(status="pending").exists())
        assert set(deliveries.values_list("status", "last_error")) == {("failed", "endpoint disabled")}
    assert receiver.received(path) == []


def test_an_edited_or_rotated_endpoint_is_used_as_it_is_now(celery_worker, hook, api, gamma, receiver):
    """The worker keeps no copy of an endpoint: the next delivery after a rotation is signed with the
    new secret only (no grace), and after a URL change it goes to the new URL."""
    endpoint, path = hook
    operator = api(gamma, gamma.secret_key)
    detail = f"/api/v1/webhook-endpoints/{endpoint['id']}/"
    _sign_up(api, gamma)
    Webhook(endpoint["secret"]).verify(*_parts(receiver.wait(path)[0]))
    rotated = operator.post(detail + "rotate-secret", {"grace_hours": 0}).json()
    _sign_up(api, gamma)
    second = receiver.wait(path, 2)[1]
    Webhook(rotated["secret"]).verify(*_parts(second))
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoint["secret"]).verify(*_parts(second))
    moved = receiver.path()
    operator.patch(detail, {"url": receiver.url(moved)})
    email = _sign_up(api, gamma)
    (third,) = receiver.wait(moved)
    assert Webhook(rotated["secret"]).verify(*_parts(third))["data"]["email"] == email
    assert len(receiver.received(path)) == 2


def _parts(received) -> tuple[bytes, dict[str, str]]:
    return received.body, received.headers


def test_a_batch_of_events_in_one_transaction_is_delivered_once_each(celery_worker, hook, gamma, committed, receiver):
    """One commit of many events: they are sent in batches (several deliveries per task) to two endpoints,
    one of which fails once per delivery at first; each event reaches each endpoint, once per attempt."""
    from django.db import transaction

    from osdm.audit.services import Actor
    from webhooks import catalog, services

    endpoint, path = hook
    flaky_path = receiver.path()
    receiver.script(flaky_path, [(503, {}, 0)] * 5)
    count = 45
    with tenant_run(gamma.tenant):
        flaky = services.endpoint_create(actor=Actor.system("test"), url=receiver.url(flaky_path),
                                         event_types=["user.created"])
        try:
            sample = catalog.get("user.created").sample
            with transaction.atomic():
                ids = {services.event_publish(event_type="user.created", data={**sample, "email": f"b{i}@x.test"}).id
                       for i in range(count)}
            got = receiver.wait(path, count)
            assert {g.headers["webhook-id"] for g in got} == ids
            for g in got:
                Webhook(endpoint["secret"]).verify(g.body, g.headers)
            flaky_got = receiver.wait(flaky_path, count + 5)
            assert {g.headers["webhook-id"] for g in flaky_got} == ids
            deliveries = Delivery.objects.filter(event__id__in=ids)
            wait_for(lambda: deliveries.filter(status="succeeded").count() == 2 * count)
            # Every attempt is logged, and nothing was sent without one. (On a loaded machine a request
            # may also fail at the transport level and be retried: counts are not exact.)
            for hook_path, endpoint_id in ((path, endpoint["id"]), (flaky_path, flaky.id)):
                mine = deliveries.filter(endpoint_id=endpoint_id)
                logged = DeliveryAttempt.objects.filter(delivery__in=mine)
                assert sum(mine.values_list("attempt_count", flat=True)) == logged.count()
                assert len(receiver.received(hook_path)) <= logged.count()
                assert logged.filter(response_status=200).count() == count
            assert DeliveryAttempt.objects.filter(delivery__endpoint=flaky, response_status=503).count() == 5
        finally:
            flaky.delete()


def test_a_410_disables_the_endpoint_from_the_worker(celery_worker, hook, api, gamma, receiver):
    endpoint, path = hook
    receiver.script(path, [(410, {}, 0)])
    _sign_up(api, gamma)
    receiver.wait(path)
    with tenant_run(gamma.tenant):
        wait_for(lambda: not WebhookEndpoint.objects.get(pk=endpoint["id"]).enabled)
        assert WebhookEndpoint.objects.get(pk=endpoint["id"]).disabled_reason == "gone"
        assert _delivery(gamma, endpoint["id"]).status == "failed"
        from webhooks.models import Event

        assert Event.objects.filter(type="webhook_endpoint.disabled", data__id=endpoint["id"]).exists()


def test_a_lost_drain_delays_deliveries_but_the_sweeper_sends_them(celery_worker, hook, api, gamma, receiver):
    """The doorbell says a drain is queued, but none is (lost with a node, say): commits do not queue
    another until the key expires, and the sweeper delivers what is due meanwhile."""
    from django.core.cache import cache

    from webhooks import services

    endpoint, path = hook
    with tenant_run(gamma.tenant):
        cache.set(services.DOORBELL.key(gamma.tenant.schema_name), 1, timeout=60)
    try:
        email = _sign_up(api, gamma)
        with tenant_run(gamma.tenant):
            wait_for(lambda: Delivery.objects.filter(endpoint_id=endpoint["id"]).exists())
        assert receiver.received(path) == []

        def delivered():
            sweep.delay()
            return len(receiver.received(path)) >= 1

        wait_for(delivered, timeout=30, interval=1.0)
        (got,) = receiver.received(path)
        assert Webhook(endpoint["secret"]).verify(got.body, got.headers)["data"]["email"] == email
    finally:
        with tenant_run(gamma.tenant):
            cache.delete(services.DOORBELL.key(gamma.tenant.schema_name))

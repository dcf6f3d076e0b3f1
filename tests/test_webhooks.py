"""Outbound webhooks, attempt by attempt, in the test's own process: signatures, retries, 410,
timeouts, SSRF, failing endpoints, redelivery, retention, the endpoint and events APIs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from osdm.audit.services import Actor
from tenants.services import tenant_run
from webhooks import catalog, services
from webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from webhooks.tasks import endpoint_disabled_notify

from .conftest import assert_error, register

pytestmark = pytest.mark.django_db
OPERATOR = Actor("operator", "test")


def _endpoint(receiver, path, **kw) -> WebhookEndpoint:
    return services.endpoint_create(actor=OPERATOR, url=receiver.url(path), **kw)


def _attempt_all(event: Event) -> list:
    return [services.delivery_attempt(delivery_id=d.pk) for d in event.deliveries.all()]


def _verify(received, secret: str) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


def test_a_delivery_is_signed_per_standard_webhooks(receiver, alpha):
    path = receiver.path()
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "hi"})
        result = _attempt_all(event)[0]
    assert result.status == "succeeded"
    (got,) = receiver.wait(path)
    payload = _verify(got, endpoint.secret)  # the reference verifier, not our code
    assert payload["id"] == event.id == got.headers["webhook-id"]
    assert payload["type"] == "ping"
    assert payload["data"] == {"endpoint_id": endpoint.id, "message": "hi"}
    assert payload["version"] == 1
    assert payload["sequence"] == event.sequence
    assert abs(int(got.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 10
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "QUJD" * 8).verify(got.body, got.headers)


def test_both_secrets_sign_during_a_rotation_and_only_the_new_one_after(receiver, alpha):
    path = receiver.path()
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        old = endpoint.secret
        endpoint = services.endpoint_rotate_secret(actor=OPERATOR, endpoint=endpoint, grace=timedelta(hours=1))
        assert endpoint.secret != old
        _attempt_all(services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "1"}))
        first = receiver.wait(path)[-1]
        assert len(first.headers["webhook-signature"].split(" ")) == 2
        _verify(first, old)
        _verify(first, endpoint.secret)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
        _attempt_all(services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "2"}))
        second = receiver.wait(path, 2)[-1]
        _verify(second, endpoint.secret)
        with pytest.raises(Exception, match="signature"):
            _verify(second, old)


def test_failures_are_retried_on_schedule_with_the_same_id_then_given_up(receiver, alpha, settings):
    settings.OSDM_WEBHOOKS_RETRY_SCHEDULE = (10.0, 20.0)
    path = receiver.path()
    receiver.script(path, [(500, {}, 0), (503, {"Retry-After": "120"}, 0), (500, {}, 0)])
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        delivery = event.deliveries.get()
        first = services.delivery_attempt(delivery_id=delivery.pk)
        assert first.status == "pending"
        assert 9 <= (first.next_attempt_at - timezone.now()).total_seconds() <= 11  # 10 s ± 10 % jitter
        assert services.delivery_attempt(delivery_id=delivery.pk) is None  # not due yet: no attempt
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        second = services.delivery_attempt(delivery_id=delivery.pk)
        assert (second.next_attempt_at - timezone.now()).total_seconds() >= 119  # Retry-After honoured
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        third = services.delivery_attempt(delivery_id=delivery.pk)
        assert third.status == "failed"  # the schedule is used up
        delivery.refresh_from_db()
        assert delivery.attempt_count == 3
        assert delivery.last_status_code == 500
        assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3
    ids = {r.headers["webhook-id"] for r in receiver.received(path)}
    assert ids == {event.id}


def test_410_disables_the_endpoint(receiver, alpha):
    path = receiver.path()
    receiver.script(path, [(410, {}, 0)])
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        assert _attempt_all(event)[0].status == "failed"
        endpoint.refresh_from_db()
        assert not endpoint.enabled
        assert endpoint.disabled_reason == "gone"
        assert Event.objects.filter(type="webhook_endpoint.disabled", data__id=endpoint.id).exists()
        later = services.event_publish(event_type="user.created", data=catalog.get("user.created").sample)
        assert not later.deliveries.filter(endpoint=endpoint).exists()


def test_a_batch_attempt_records_each_delivery_by_its_own_outcome(receiver, alpha):
    """One task attempts several deliveries at once: each is leased, sent and logged on its own terms."""
    ok, failing, gone, off, busy = (receiver.path() for _ in range(5))
    receiver.script(failing, [(500, {"Retry-After": "60"}, 0)])
    receiver.script(gone, [(410, {}, 0)])
    with tenant_run(alpha.tenant):
        endpoints = {path: _endpoint(receiver, path) for path in (ok, failing, gone, off, busy)}
        event = services.event_publish(event_type="ping", data={"endpoint_id": "we_x", "message": "batch"},
                                       endpoints=list(endpoints.values()))
        WebhookEndpoint.objects.filter(pk=endpoints[off].pk).update(enabled=False)
        deliveries = {path: event.deliveries.get(endpoint=e) for path, e in endpoints.items()}
        Delivery.objects.filter(pk=deliveries[busy].pk).update(  # another worker holds this one
            leased_until=timezone.now() + timedelta(seconds=30))
        results = {r.delivery_id: r for r in services.deliveries_attempt(
            delivery_ids=[d.pk for d in deliveries.values()])}
        assert {path: results[d.pk].status for path, d in deliveries.items() if d.pk in results} == {
            ok: "succeeded", failing: "pending", gone: "failed", off: "failed"}
        assert results[deliveries[failing].pk].next_attempt_at >= timezone.now() + timedelta(seconds=59)
        for path, delivery in deliveries.items():
            delivery.refresh_from_db()
            assert delivery.attempts.count() == (0 if path in (off, busy) else 1), path
            assert delivery.attempt_count == (0 if path == busy else 1), path
        (logged,) = deliveries[ok].attempts.all()
        assert logged.response_status == 200
        assert logged.request_headers["webhook-id"] == event.id
        assert logged.url == receiver.url(ok)
        assert deliveries[ok].completed_at is not None and deliveries[ok].leased_until is None
        assert deliveries[failing].last_status_code == 500
        assert deliveries[off].last_error == "endpoint disabled"
        assert not WebhookEndpoint.objects.get(pk=endpoints[gone].pk).enabled
        assert deliveries[busy].status == "pending"
    _verify(receiver.wait(ok)[0], endpoints[ok].secret)
    assert receiver.received(off) == receiver.received(busy) == []


def test_a_batch_sends_to_one_endpoint_over_a_few_connections_at_most(receiver, alpha, settings):
    settings.OSDM_WEBHOOKS_TIMEOUT = 1.0  # the lease leaves 1.5 s to start every request of the batch
    path = receiver.path()
    receiver.script(path, [(200, {}, 0.05)] * 12)
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        events = [services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": str(i)})
                  for i in range(12)]
        results = services.deliveries_attempt(delivery_ids=[e.deliveries.get().pk for e in events])
    assert [r.status for r in results] == ["succeeded"] * 12
    assert {r.headers["webhook-id"] for r in receiver.received(path)} == {e.id for e in events}
    assert receiver.most_in_flight(path) <= services.ENDPOINT_LANES


def test_a_drain_sends_the_due_deliveries_nobody_holds(receiver, alpha):
    path = receiver.path()
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path, event_types=["ping"])
        due, later, held = (services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": m})
                            for m in ("due", "later", "held"))
        Delivery.objects.filter(event=later).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
        Delivery.objects.filter(event=held).update(leased_until=timezone.now() + timedelta(seconds=30))
        results = services.deliveries_drain()
        assert [r.delivery_id for r in results] == [due.deliveries.get().pk]
        assert services.deliveries_drain() == []
    assert [r.headers["webhook-id"] for r in receiver.received(path)] == [due.id]


def test_a_hanging_receiver_times_out(receiver, alpha, settings):
    settings.OSDM_WEBHOOKS_TIMEOUT = 0.5
    path = receiver.path()
    receiver.script(path, [(200, {}, 3.0)])
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        result = _attempt_all(event)[0]
        assert result.status == "pending"
        attempt = DeliveryAttempt.objects.get(delivery__event=event)
        assert attempt.error.startswith("timeout")
        assert attempt.response_status is None
        assert attempt.latency_ms < 2500


def test_ssrf_private_addresses_and_redirects_are_refused(receiver, alpha, settings, api):
    settings.OSDM_WEBHOOKS_ALLOW_PRIVATE = False
    operator = api(alpha, alpha.secret_key)
    for url in ("http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://169.254.169.254/latest/meta-data",
                "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x"):
        assert_error(operator.post("/api/v1/webhook-endpoints/", {"url": url}), 400, "private_address")
    with tenant_run(alpha.tenant):
        assert not WebhookEndpoint.objects.exists()
    # A name that resolves to a private address is refused when the request would be sent.
    path = receiver.path()
    created = operator.post("/api/v1/webhook-endpoints/", {"url": receiver.url(path, host="localhost")})
    assert created.status_code == 201
    with tenant_run(alpha.tenant):
        endpoint = WebhookEndpoint.objects.get(pk=created.json()["id"])
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        _attempt_all(event)
        attempt = DeliveryAttempt.objects.get(delivery__event=event, delivery__endpoint=endpoint)
        assert attempt.error.startswith("private_address")
    assert receiver.received(path) == []
    # A redirect, even to a public-looking place, is never followed.
    settings.OSDM_WEBHOOKS_ALLOW_PRIVATE = True
    redirecting = receiver.path()
    receiver.script(redirecting, [(302, {"Location": "http://169.254.169.254/latest/meta-data"}, 0)])
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, redirecting)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        services.delivery_attempt(delivery_id=event.deliveries.get(endpoint=endpoint).pk)
        attempt = DeliveryAttempt.objects.get(delivery__event=event, delivery__endpoint=endpoint)
        assert attempt.response_status == 302
    assert len(receiver.received(redirecting)) == 1


def test_https_is_required_unless_allowed(api, alpha, settings):
    settings.OSDM_WEBHOOKS_ALLOW_HTTP = False
    response = api(alpha, alpha.secret_key).post("/api/v1/webhook-endpoints/", {"url": "http://hooks.example.com/"})
    assert_error(response, 400, "https_required")


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_operator_told(receiver, alpha, settings,
                                                                          django_capture_on_commit_callbacks):
    alpha.tenant.operator_email = "ops@alpha.example"
    alpha.tenant.save(update_fields=["operator_email"])
    path = receiver.path()
    receiver.script(path, [(500, {}, 0), (500, {}, 0)])
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        _attempt_all(event)
        endpoint.refresh_from_db()
        assert endpoint.enabled
        assert endpoint.failing_since is not None
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=5, seconds=1))
        Delivery.objects.filter(event=event).update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks() as callbacks:
            services.delivery_attempt(delivery_id=event.deliveries.get().pk)
        endpoint.refresh_from_db()
        assert not endpoint.enabled
        assert endpoint.disabled_reason == "failing"
        assert event.deliveries.get().status == "failed"
        assert Event.objects.filter(type="webhook_endpoint.disabled", data__id=endpoint.id).exists()
        assert callbacks  # the e-mail task is queued after commit
        assert endpoint_disabled_notify.run(endpoint.id, endpoint.url, "failing") is True
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@alpha.example"]
    assert endpoint.id in mail.outbox[0].body


def test_a_success_clears_failing_since(receiver, alpha):
    path = receiver.path()
    receiver.script(path, [(500, {}, 0)])
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "x"})
        _attempt_all(event)
        Delivery.objects.filter(event=event).update(next_attempt_at=timezone.now())
        _attempt_all(event)
        endpoint.refresh_from_db()
        assert endpoint.failing_since is None


def test_events_reach_only_subscribed_endpoints_of_their_own_tenant(receiver, alpha, beta):
    everything, users_only, pings_only, other_tenant = (receiver.path() for _ in range(4))
    with tenant_run(alpha.tenant):
        a_all = _endpoint(receiver, everything)
        _endpoint(receiver, users_only, event_types=["user.created"])
        _endpoint(receiver, pings_only, event_types=["ping"])
    with tenant_run(beta.tenant):
        _endpoint(receiver, other_tenant)
    with tenant_run(alpha.tenant):
        event = services.event_publish(event_type="user.created", data=catalog.get("user.created").sample)
        assert {d.endpoint.url for d in event.deliveries.select_related("endpoint")} == {
            receiver.url(everything), receiver.url(users_only)}
        _attempt_all(event)
        assert a_all.deliveries.get(event=event).status == "succeeded"
    with tenant_run(beta.tenant):
        assert not Event.objects.filter(id=event.id).exists()
        assert not Delivery.objects.filter(event__type="user.created").exists()
    assert receiver.received(other_tenant) == []
    assert receiver.received(pings_only) == []


def test_event_data_must_match_the_catalog():
    with pytest.raises(catalog.UnknownEventType):
        services.event_publish(event_type="order.teleported", data={})
    from jsonschema import ValidationError

    with pytest.raises(ValidationError):
        services.event_publish(event_type="user.created", data={"id": "x"})


def test_every_catalog_sample_matches_its_schema():
    assert {"ping", "user.created", "webhook_endpoint.disabled"} <= set(catalog.CATALOG)
    for event_type in catalog.CATALOG.values():
        event_type.validator.validate(event_type.sample)


def test_endpoint_api(api, alpha, beta, receiver):
    operator = api(alpha, alpha.secret_key)
    path = receiver.path()
    created = operator.post("/api/v1/webhook-endpoints/", {
        "url": receiver.url(path), "description": "ERP sync — مزامنة", "event_types": ["user.created", "ping"]})
    assert created.status_code == 201, created.content
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["event_types"] == ["ping", "user.created"]
    listed = operator.get("/api/v1/webhook-endpoints/").json()["results"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]
    detail = f"/api/v1/webhook-endpoints/{endpoint['id']}/"
    assert operator.get(detail + "secret").json()["secret"] == endpoint["secret"]
    patched = operator.patch(detail, {"event_types": [], "enabled": False})
    assert patched.json()["event_types"] == []
    assert patched.json()["enabled"] is False
    assert operator.patch(detail, {"enabled": True}).json()["enabled"] is True
    rotated = operator.post(detail + "rotate-secret", {"grace_hours": 2}).json()
    assert rotated["secret"] != endpoint["secret"]
    assert rotated["previous_secret_expires_at"]
    # stored encrypted: the raw column does not hold the secret
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT secret FROM "{alpha.tenant.schema_name}".webhooks_webhookendpoint WHERE id = %s',
                       [endpoint["id"]])
        raw = cursor.fetchone()[0]
    assert rotated["secret"] not in raw
    assert "whsec_" not in raw
    ping = operator.post(detail + "test")
    assert ping.status_code == 202
    assert ping.json()["type"] == "ping"
    # other tenants and users see nothing
    assert_error(api(beta, beta.secret_key).get(detail), 404, "webhook_endpoint_not_found")
    assert_error(api(beta, beta.secret_key).post(detail + "test"), 404)
    token = register(api(alpha), "hooks-user@example.com")["tokens"]["access"]
    assert_error(api(alpha, token).get("/api/v1/webhook-endpoints/"), 403, "permission_denied")
    assert operator.delete(detail).status_code == 204
    assert_error(operator.get(detail), 404)


@pytest.mark.parametrize("body", [
    {"url": "not a url"},
    {"url": "ftp://example.com/x"},
    {"url": "https://user:pass@example.com/x"},
    {"url": "https://example.com/x", "event_types": ["no.such.type"]},
    {"url": "https://example.com/x", "event_types": "user.created"},
    {"url": "https://example.com/x", "enabled": "maybe"},
    {"url": "https://example.com/x", "secret": "whsec_mine"},
    {},
])
def test_bad_endpoint_input_is_refused_and_creates_nothing(api, alpha, body):
    response = api(alpha, alpha.secret_key).post("/api/v1/webhook-endpoints/", body)
    assert_error(response, 400)
    with tenant_run(alpha.tenant):
        assert not WebhookEndpoint.objects.exists()
        assert not Event.objects.filter(type="webhook_endpoint.created").exists()


def test_deliveries_log_and_redelivery(api, alpha, receiver):
    operator = api(alpha, alpha.secret_key)
    path = receiver.path()
    receiver.script(path, [(500, {}, 0)] * 8)
    endpoint = operator.post("/api/v1/webhook-endpoints/", {"url": receiver.url(path)}).json()
    with tenant_run(alpha.tenant):
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint["id"], "message": "x"})
        delivery = event.deliveries.get()
        for _ in range(8):  # use up the whole schedule
            Delivery.objects.filter(pk=delivery.pk, status="pending").update(next_attempt_at=timezone.now())
            services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "failed"
    log = operator.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/?status=failed").json()["results"]
    assert [d["id"] for d in log] == [delivery.pk]
    assert len(log[0]["attempts"]) == 8
    assert log[0]["attempts"][0]["response_status"] == 500
    assert log[0]["attempts"][0]["request_headers"]["webhook-id"] == event.id
    assert_error(operator.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/?status=bogus"), 400)
    again = operator.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver")
    assert again.status_code == 202
    assert again.json()["status"] == "pending"
    assert again.json()["attempt_count"] == 0
    with tenant_run(alpha.tenant):
        assert services.delivery_attempt(delivery_id=delivery.pk).status == "succeeded"
        assert receiver.received(path)[-1].headers["webhook-id"] == event.id
        failed = [services.event_publish(event_type="ping", data={"endpoint_id": endpoint["id"], "message": str(i)})
                  for i in range(3)]
        Delivery.objects.filter(event__in=failed).update(status="failed")
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    bulk = operator.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/redeliver-failed", {"since": since})
    assert bulk.json() == {"redelivered": 3}
    with tenant_run(alpha.tenant):
        assert Delivery.objects.filter(event__in=failed, status="pending").count() == 3
    assert_error(operator.post("/api/v1/webhook-deliveries/999999/redeliver"), 404)
    assert_error(operator.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/redeliver-failed", {"since": "yesterday"}),
                 400)


def test_redelivery_to_a_disabled_endpoint_is_a_conflict(api, alpha, receiver):
    operator = api(alpha, alpha.secret_key)
    endpoint = operator.post("/api/v1/webhook-endpoints/", {"url": receiver.url(receiver.path())}).json()
    with tenant_run(alpha.tenant):
        event = services.event_publish(event_type="ping", data={"endpoint_id": endpoint["id"], "message": "x"})
        delivery = event.deliveries.get()
    operator.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}/", {"enabled": False})
    assert_error(operator.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver"), 409, "endpoint_disabled")


def test_events_api_pages_in_order_after_a_cursor(api, alpha, beta):
    operator = api(alpha, alpha.secret_key)
    with tenant_run(alpha.tenant):
        published = [services.event_publish(event_type="ping", data={"endpoint_id": "we_x", "message": str(i)})
                     for i in range(5)]
    first = operator.get("/api/v1/events/?type=ping&limit=2").json()
    assert [e["id"] for e in first["results"]] == [e.id for e in published[:2]]
    second = operator.get(first["next"].split("testserver")[-1].split(alpha.host)[-1]).json()
    assert [e["id"] for e in second["results"]] == [e.id for e in published[2:4]]
    after = operator.get(f"/api/v1/events/?after={published[2].id}").json()["results"]
    assert [e["id"] for e in after if e["type"] == "ping"] == [e.id for e in published[3:]]
    one = operator.get(f"/api/v1/events/{published[0].id}/").json()
    assert one["data"] == {"endpoint_id": "we_x", "message": "0"}
    assert one["sequence"] == published[0].sequence
    assert api(beta, beta.secret_key).get("/api/v1/events/?type=ping").json()["results"] == []
    assert_error(api(beta, beta.secret_key).get(f"/api/v1/events/{published[0].id}/"), 404, "event_not_found")
    assert_error(operator.get("/api/v1/events/?type=nope"), 400, "validation_error")
    assert_error(operator.get("/api/v1/events/?after=evt_missing"), 404)


def test_state_changes_publish_events(api, alpha, platform):
    with tenant_run(alpha.tenant):
        baseline = Event.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    client = api(alpha)
    user = register(client, "evented@example.com")
    token = user["tokens"]["access"]
    api(alpha, token).put("/api/v1/me/seller-profile", {"display_name": "Evented", "country": "SA"})
    api(alpha, token).patch("/api/v1/me", {"full_name": "Renamed"})
    key = api(alpha, alpha.secret_key).post("/api/v1/secret-keys/", {"name": "x"}).json()
    api(alpha, alpha.secret_key).post(f"/api/v1/secret-keys/{key['id']}/revoke")
    platform.patch(f"/platform/v1/tenants/{alpha.tenant.slug}/", {"commission_bps": 900})
    with tenant_run(alpha.tenant):
        types = list(Event.objects.filter(sequence__gt=baseline).values_list("type", flat=True))
        assert types == ["user.created", "seller_profile.updated", "user.updated", "secret_key.created",
                         "secret_key.revoked", "marketplace.updated"]
        assert Event.objects.get(type="user.created").data["email"] == "evented@example.com"
        assert Event.objects.get(type="marketplace.updated").data["commission_bps"] == 900


def test_retention_purges_old_attempts_and_events(receiver, alpha):
    path = receiver.path()
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path)
        old = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "old"})
        _attempt_all(old)
        recent = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "new"})
        _attempt_all(recent)
        long_ago = timezone.now() - timedelta(days=91)
        Event.objects.filter(pk=old.pk).update(created_at=long_ago)
        DeliveryAttempt.objects.filter(delivery__event=old).update(attempted_at=long_ago)
        services.history_purge()
        assert not Event.objects.filter(pk=old.pk).exists()
        assert Event.objects.filter(pk=recent.pk).exists()
        assert DeliveryAttempt.objects.filter(delivery__event=recent).exists()


def test_the_documented_catalog_is_current():
    from django.core.management import call_command

    call_command("webhook_catalog", "--check")


def test_a_last_writes_blocks_events_are_inserted_together_at_its_end_in_order(receiver, alpha):
    from osdm.core.last_writes import last_writes
    from osdm.notifications.models import Notification

    path = receiver.path()
    with tenant_run(alpha.tenant):
        endpoint = _endpoint(receiver, path, event_types=["ping", "user.created"])
        before = Event.objects.count()
        with last_writes():
            first = services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "1"})
            second = services.event_publish(event_type="user.created", data=catalog.get("user.created").sample)
            assert Event.objects.count() == before  # not yet: at the end of the block
        assert Event.objects.count() == before + 2
        assert first.sequence < second.sequence
        assert [e.id for e in Event.objects.filter(sequence__gte=first.sequence)] == [first.id, second.id]
        assert {d.event_id for d in Delivery.objects.filter(endpoint_id=endpoint.id)} == {first.sequence,
                                                                                         second.sequence}
        result = _attempt_all(second)[0]
        assert result.status == "succeeded"
        assert _verify(receiver.wait(path)[0], endpoint.secret)["sequence"] == second.sequence

        notified = Notification.objects.count()

        def failing_change():
            with last_writes():
                services.event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "lost"})
                raise RuntimeError("the change fails")

        with pytest.raises(RuntimeError):
            failing_change()
        assert Event.objects.count() == before + 2 and Notification.objects.count() == notified  # nothing staged is written

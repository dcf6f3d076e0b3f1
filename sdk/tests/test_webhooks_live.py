"""Webhook endpoints through the SDK, with real deliveries: the live server queues them, a real Celery
worker signs and sends them to a real receiver, and the SDK's `webhooks.verify` checks them."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from osdm_client import NotFoundError, WebhookVerificationError, webhooks
from osdm_client.types import (
    PingEvent,
    RedeliverFailedResult,
    UserCreatedEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
)
from sdk_helpers import wait_for


@pytest.fixture
def endpoint(market, hook_receiver, webhook_worker):
    """An endpoint for user.created and ping, pointed at a fresh mailbox of the receiver; deleted after."""
    path = hook_receiver.path()
    made = market.operator.webhook_endpoints.create(url=hook_receiver.url(path), description="SDK tests",
                                                    event_types=["user.created", "ping"])
    yield made, path
    with contextlib.suppress(NotFoundError):
        market.operator.webhook_endpoints.delete(made.id)


def test_endpoints_are_managed_through_the_sdk(market, endpoint, hook_receiver):
    made, _path = endpoint
    operator = market.operator.webhook_endpoints
    assert isinstance(made, WebhookEndpointWithSecret)
    assert made.secret.startswith("whsec_")
    assert (sorted(made.event_types), made.enabled) == (["ping", "user.created"], True)
    assert made.id in {e.id for e in operator.list()}
    got = operator.retrieve(made.id)
    assert isinstance(got, WebhookEndpoint)
    assert not isinstance(got, WebhookEndpointWithSecret)
    assert operator.secret(made.id).secret == made.secret

    disabled = operator.update(made.id, enabled=False, description="paused")
    assert (disabled.enabled, disabled.description, disabled.url) == (False, "paused", made.url)
    assert operator.update(made.id, enabled=True).enabled

    operator.delete(made.id)
    with pytest.raises(NotFoundError):
        operator.retrieve(made.id)


def test_a_ping_and_a_sign_up_arrive_signed_and_verify_as_typed_events(market, endpoint, hook_receiver):
    made, path = endpoint
    ping = market.operator.webhook_endpoints.test(made.id)
    assert isinstance(ping, PingEvent)
    assert ping.data.endpoint_id == made.id
    email, _ = market.register()

    received = hook_receiver.wait(path, 2)
    events = [webhooks.verify(r.body, r.headers, made.secret) for r in received]
    by_type = {type(e): e for e in events}
    assert by_type[PingEvent].id == ping.id
    signup = by_type[UserCreatedEvent]
    assert isinstance(signup, UserCreatedEvent)
    assert signup.data.email == email
    assert signup.timestamp.tzinfo is not None
    for r in received:  # the reference implementation agrees
        assert Webhook(made.secret).verify(r.body, r.headers)["id"] == r.headers["webhook-id"]
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(received[0].body + b" ", received[0].headers, made.secret)

    def both_succeeded() -> list[WebhookDelivery] | None:
        found = list(market.operator.webhook_endpoints.deliveries.list(made.id, status="succeeded"))
        return found if len(found) == 2 else None

    deliveries = wait_for(both_succeeded)
    assert all(isinstance(d, WebhookDelivery) and d.attempts for d in deliveries)
    assert {d.event_type for d in deliveries} == {"ping", "user.created"}
    (signup_delivery,) = market.operator.webhook_endpoints.deliveries.list(made.id, event_type="user.created")
    assert signup_delivery.attempts[0].response_status == 200

    again = market.operator.webhook_deliveries.redeliver(signup_delivery.id)
    assert isinstance(again, WebhookDelivery)
    assert again.id == signup_delivery.id
    third = hook_receiver.wait(path, 3)[2]
    assert third.headers["webhook-id"] == signup.id
    assert webhooks.verify(third.body, third.headers, made.secret) == signup


def test_during_a_rotation_both_secrets_verify(market, endpoint, hook_receiver):
    made, path = endpoint
    rotated = market.operator.webhook_endpoints.rotate_secret(made.id, grace_hours=1)
    assert rotated.secret != made.secret
    assert rotated.previous_secret_expires_at is not None
    market.operator.webhook_endpoints.test(made.id)
    (delivery,) = hook_receiver.wait(path)
    assert len(delivery.headers["webhook-signature"].split()) == 2
    for secret in (rotated.secret, made.secret, [made.secret, rotated.secret]):
        assert isinstance(webhooks.verify(delivery.body, delivery.headers, secret), PingEvent)


def test_failed_deliveries_are_redelivered_on_request(market, endpoint, hook_receiver):
    made, path = endpoint
    since = datetime.now(UTC) - timedelta(seconds=5)
    hook_receiver.script(path, [(500, {}, 0.0)] * 8)  # every scheduled attempt fails
    market.operator.webhook_endpoints.test(made.id)
    wait_for(lambda: list(market.operator.webhook_endpoints.deliveries.list(made.id, status="failed")))
    result = market.operator.webhook_endpoints.redeliver_failed(made.id, since=since)
    assert isinstance(result, RedeliverFailedResult)
    assert result.redelivered == 1
    wait_for(lambda: list(market.operator.webhook_endpoints.deliveries.list(made.id, status="succeeded")))
    attempts = hook_receiver.received(path)
    assert len(attempts) == 9
    assert len({a.headers["webhook-id"] for a in attempts}) == 1

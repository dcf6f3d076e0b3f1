"""Outbound webhooks: publishing events (the outbox), delivering them, and managing endpoints.

Delivery guarantees: at least once, never lost. An event and its deliveries are rows written with
the change they describe; a Celery task is queued after commit for each delivery, and a sweeper
re-queues whatever is due and not leased (a lost task, a crashed worker, a retry whose time came).
An attempt leases its delivery first, so two workers never send the same attempt twice at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from osdm.audit.services import Actor, audit_record
from osdm.core.errors import Conflict, ValidationFailed

from . import catalog, safety, signing
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

FAILING_DISABLE_AFTER = timedelta(days=5)
RESPONSE_BODY_CAP = 4096
MAX_RETRY_AFTER = 24 * 3600


# --- publishing --------------------------------------------------------------------------------

# Called with each event inside its transaction (notifications register here): same all-or-nothing.
EVENT_HOOKS: list = []


# The event and its deliveries (one per enabled endpoint subscribed to the type) in one statement.
_PUBLISH = (
    "WITH event AS (INSERT INTO webhooks_event (id, type, version, data, created_at) "
    "VALUES (%(id)s, %(type)s, %(version)s, %(data)s::jsonb, %(now)s) RETURNING sequence), "
    "delivery AS (INSERT INTO webhooks_delivery (event_id, endpoint_id, status, attempt_count, next_attempt_at, "
    "last_error, created_at) SELECT event.sequence, endpoint.id, 'pending', 0, %(now)s, '', %(now)s "
    "FROM event, webhooks_webhookendpoint AS endpoint "
    "WHERE endpoint.enabled AND (endpoint.event_types = '{}' OR %(type)s = ANY(endpoint.event_types)) RETURNING id) "
    "SELECT (SELECT sequence FROM event), ARRAY(SELECT id FROM delivery)")


def event_publish(*, event_type: str, data: dict[str, Any], endpoints: list[WebhookEndpoint] | None = None) -> Event:
    """Record an event and its deliveries in the caller's transaction; send after commit.

    `endpoints` limits the delivery to those endpoints (the `test` action); by default every
    enabled endpoint subscribed to the type receives it. Inside a transaction, no savepoint: an
    event that cannot be recorded fails the whole change it describes.
    """
    spec = catalog.get(event_type)
    text = json.dumps(data, default=str)
    data = json.loads(text)  # what is stored is exactly what is sent
    spec.validator.validate(data)
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        event = Event(id=f"evt_{uuid.uuid4().hex}", type=event_type, version=spec.version, data=data, created_at=now)
        if endpoints is None:
            with connection.cursor() as cursor:
                cursor.execute(_PUBLISH, {"id": event.id, "type": event_type, "version": spec.version, "data": text,
                                          "now": now})
                event.sequence, delivery_ids = cursor.fetchone()
            event._state.adding, event._state.db = False, connection.alias
        else:
            event.save(force_insert=True)
            delivery_ids = [d.pk for d in Delivery.objects.bulk_create(
                [Delivery(event=event, endpoint=endpoint, next_attempt_at=now) for endpoint in endpoints])]
        for hook in EVENT_HOOKS:
            hook(event)
        if delivery_ids:
            schema = connection.schema_name
            transaction.on_commit(lambda: deliveries_dispatch(list(delivery_ids), schema=schema))
    return event


def deliveries_dispatch(delivery_ids: list[int], *, schema: str) -> None:
    """Queue one task per delivery, to run in `schema` (the schema a task is published from is the
    one it runs in). A broker outage loses nothing: the sweeper finds the deliveries still pending."""
    from .tasks import delivery_send

    with schema_context(schema):
        for delivery_id in delivery_ids:
            try:
                delivery_send.apply_async((delivery_id,))
            except Exception:  # the broker is down; the sweeper will pick these up
                logger.warning("could not queue delivery %s; the sweeper will retry", delivery_id, exc_info=True)
                return


# --- delivering --------------------------------------------------------------------------------

_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        # One pooled client per process (thread-safe). Redirects are never followed: a redirect to
        # a private address would otherwise walk around the address check.
        _client = httpx.Client(follow_redirects=False, trust_env=False,
                               limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    return _client


@dataclass(frozen=True)
class AttemptResult:
    delivery_id: int
    status: str
    response_status: int | None
    next_attempt_at: datetime | None


def _lease_seconds() -> float:
    return max(settings.OSDM_WEBHOOKS_LEASE_SECONDS, settings.OSDM_WEBHOOKS_TIMEOUT + 1)


def delivery_attempt(*, delivery_id: int) -> AttemptResult | None:
    """Make one attempt if the delivery is due and nobody else holds it. Returns None otherwise."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("event", "endpoint")
                    .filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
                    .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now)).first())
        if delivery is None:
            return None
        delivery.leased_until = now + timedelta(seconds=_lease_seconds())
        delivery.attempt_count += 1
        delivery.save(update_fields=["leased_until", "attempt_count"])

    endpoint = delivery.endpoint
    if not endpoint.enabled:
        return _finish(delivery, status=Delivery.Status.FAILED, error="endpoint disabled")

    body = json.dumps(delivery.event.payload(), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    live_secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        live_secrets.append(endpoint.previous_secret)
    headers = {
        "content-type": "application/json",
        "user-agent": "OSDM-Webhooks/1.0",
        **signing.headers(secrets_=live_secrets, msg_id=delivery.event.id, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    response_status, response_body, error, retry_after = None, "", "", None
    try:
        target = safety.resolve(endpoint.url)
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        request = _http().build_request("POST", target.url, content=body,
                                        headers={**headers, "host": target.host_header},
                                        timeout=settings.OSDM_WEBHOOKS_TIMEOUT, extensions=extensions)
        response = _http().send(request, stream=True)
        try:
            response_status = response.status_code
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= RESPONSE_BODY_CAP:
                    break
            response_body = b"".join(chunks)[:RESPONSE_BODY_CAP].decode("utf-8", "replace")
            retry_after = _retry_after(response.headers.get("retry-after"))
        finally:
            response.close()
    except safety.UnsafeURL as exc:
        error = f"{exc.code}: {exc}"
    except httpx.TimeoutException:
        error = f"timeout after {settings.OSDM_WEBHOOKS_TIMEOUT}s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    latency_ms = int((time.monotonic() - started) * 1000)

    DeliveryAttempt.objects.create(
        delivery=delivery, url=endpoint.url, request_headers=_loggable(headers), response_status=response_status,
        response_body=response_body, latency_ms=latency_ms, error=error)
    if response_status is not None and 200 <= response_status < 300:
        return _finish(delivery, status=Delivery.Status.SUCCEEDED, response_status=response_status)
    if response_status == 410:
        endpoint_disable(endpoint=endpoint, reason="gone")
        return _finish(delivery, status=Delivery.Status.FAILED, response_status=410,
                       error="410 Gone: endpoint disabled")
    return _failure(delivery, response_status=response_status, error=error or f"HTTP {response_status}",
                    retry_after=retry_after)


def _loggable(headers: dict[str, str]) -> dict[str, str]:
    # Signatures are safe to keep (they are per message); nothing secret is in these headers.
    return dict(headers)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return min(max((parsedate_to_datetime(value) - timezone.now()).total_seconds(), 0.0), MAX_RETRY_AFTER)
        except (TypeError, ValueError):
            return None


def _finish(delivery: Delivery, *, status: str, response_status: int | None = None, error: str = "") -> AttemptResult:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, completed_at=now, leased_until=None, next_attempt_at=None,
            last_status_code=response_status, last_error=error[:500])
        if status == Delivery.Status.SUCCEEDED:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
                failing_since=None)
    return AttemptResult(delivery.pk, status, response_status, None)


def _failure(delivery: Delivery, *, response_status: int | None, error: str, retry_after: float | None) -> AttemptResult:
    now = timezone.now()
    endpoint = delivery.endpoint
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        endpoint.refresh_from_db(fields=["failing_since", "enabled"])
        if endpoint.enabled and now - endpoint.failing_since >= FAILING_DISABLE_AFTER:
            endpoint_disable(endpoint=endpoint, reason="failing")
        schedule = settings.OSDM_WEBHOOKS_RETRY_SCHEDULE
        if delivery.attempt_count > len(schedule) or not endpoint.enabled:
            return _finish(delivery, status=Delivery.Status.FAILED, response_status=response_status, error=error)
        delay = schedule[delivery.attempt_count - 1] * random.uniform(0.9, 1.1)  # noqa: S311 (jitter)
        if retry_after is not None:
            delay = max(delay, retry_after)
        next_at = now + timedelta(seconds=delay)
        Delivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=next_at, leased_until=None, last_status_code=response_status, last_error=error[:500])
    if delay <= settings.OSDM_WEBHOOKS_SWEEP_GRACE:
        # Short waits are queued directly; longer ones are picked up by the sweeper when due.
        from .tasks import delivery_send

        try:
            delivery_send.apply_async((delivery.pk,), countdown=delay)
        except Exception:
            logger.warning("could not queue retry of delivery %s", delivery.pk, exc_info=True)
    return AttemptResult(delivery.pk, Delivery.Status.PENDING, response_status, next_at)


def deliveries_due(*, limit: int = 1000) -> list[int]:
    """Pending deliveries whose time has come (with a grace period for ones already queued) and
    that nobody holds: lost tasks, crashed attempts, long retries."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.OSDM_WEBHOOKS_SWEEP_GRACE)
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=cutoff)
                .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


# --- endpoints ---------------------------------------------------------------------------------


def _endpoint_data(endpoint: WebhookEndpoint) -> dict:
    return {"id": endpoint.id, "url": endpoint.url, "enabled": endpoint.enabled,
            "event_types": list(endpoint.event_types), "disabled_reason": endpoint.disabled_reason}


def _check_url(url: str) -> str:
    try:
        return safety.url_validate(url)
    except safety.UnsafeURL as exc:
        raise ValidationFailed(str(exc), code=exc.code, fields={"url": [str(exc)]}) from exc


def _check_types(event_types: list[str]) -> list[str]:
    unknown = sorted({t for t in event_types if t not in catalog.CATALOG})
    if unknown:
        raise ValidationFailed(_("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)},
                               code="unknown_event_type", fields={"event_types": unknown})
    return sorted(set(event_types))


def endpoint_create(*, actor: Actor, url: str, description: str = "", event_types: list[str] | None = None,
                    enabled: bool = True) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=_check_url(url), description=description, event_types=_check_types(event_types or []),
            enabled=enabled, secret=signing.secret_generate())
        audit_record(actor=actor, action="webhook_endpoint.created", object_type="webhook_endpoint",
                     object_id=endpoint.id, after=_endpoint_data(endpoint))
        event_publish(event_type="webhook_endpoint.created", data=_endpoint_data(endpoint))
    return endpoint


def endpoint_update(*, actor: Actor, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = _endpoint_data(endpoint)
        if "url" in changes:
            endpoint.url = _check_url(changes["url"])
        if "event_types" in changes:
            endpoint.event_types = _check_types(changes["event_types"])
        if "description" in changes:
            endpoint.description = changes["description"]
        if "enabled" in changes:
            endpoint.enabled = changes["enabled"]
            if endpoint.enabled:
                endpoint.disabled_reason = ""
                endpoint.failing_since = None
        endpoint.save()
        audit_record(actor=actor, action="webhook_endpoint.updated", object_type="webhook_endpoint",
                     object_id=endpoint.id, before=before, after=_endpoint_data(endpoint))
        event_publish(event_type="webhook_endpoint.updated", data=_endpoint_data(endpoint))
    return endpoint


def endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        data = _endpoint_data(endpoint)
        endpoint.delete()
        audit_record(actor=actor, action="webhook_endpoint.deleted", object_type="webhook_endpoint",
                     object_id=data["id"], before=data)
        event_publish(event_type="webhook_endpoint.deleted", data=data)


def endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint, grace: timedelta) -> WebhookEndpoint:
    """A new secret signs from now on; the old one keeps signing too until `grace` has passed."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + grace
        endpoint.secret = signing.secret_generate()
        endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
        audit_record(actor=actor, action="webhook_endpoint.secret_rotated", object_type="webhook_endpoint",
                     object_id=endpoint.id, after={"previous_secret_expires_at": endpoint.previous_secret_expires_at
                                                   .isoformat()})
        event_publish(event_type="webhook_endpoint.updated", data=_endpoint_data(endpoint))
    return endpoint


def endpoint_test(*, actor: Actor, endpoint: WebhookEndpoint) -> Event:
    with transaction.atomic():
        audit_record(actor=actor, action="webhook_endpoint.tested", object_type="webhook_endpoint",
                     object_id=endpoint.id)
        return event_publish(event_type="ping", data={"endpoint_id": endpoint.id, "message": "Hello from OSDM"},
                             endpoints=[endpoint])


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Disable an endpoint that is gone (410) or kept failing, and tell the operator: an event, and an
    e-mail when the marketplace has an operator address."""
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
            enabled=False, disabled_reason=reason)
        if not updated:
            return
        endpoint.enabled, endpoint.disabled_reason = False, reason
        audit_record(actor=Actor.system("webhooks"), action="webhook_endpoint.disabled",
                     object_type="webhook_endpoint", object_id=endpoint.id, after=_endpoint_data(endpoint))
        event_publish(event_type="webhook_endpoint.disabled", data=_endpoint_data(endpoint))
        schema = connection.schema_name
        transaction.on_commit(lambda: _notify_disabled(schema, endpoint.id, endpoint.url, reason))


def _notify_disabled(schema: str, endpoint_id: str, url: str, reason: str) -> None:
    from .tasks import endpoint_disabled_notify

    try:
        endpoint_disabled_notify.apply_async((endpoint_id, url, reason))
    except Exception:
        logger.warning("could not queue the disabled-endpoint e-mail for %s in %s", endpoint_id, schema)


# --- redelivery --------------------------------------------------------------------------------


def delivery_redeliver(*, actor: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again, with a fresh retry schedule, under the same webhook-id."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
        if not delivery.endpoint.enabled:
            raise Conflict(_("The endpoint is disabled: enable it first."), code="endpoint_disabled")
        if delivery.status == Delivery.Status.PENDING and delivery.leased_until and \
                delivery.leased_until > timezone.now():
            raise Conflict(_("This delivery is being attempted right now."), code="delivery_in_progress")
        _reset([delivery.pk])
        audit_record(actor=actor, action="webhook_delivery.redelivered", object_type="webhook_delivery",
                     object_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def deliveries_redeliver_failed(*, actor: Actor, endpoint: WebhookEndpoint, since: datetime) -> int:
    with transaction.atomic():
        if not endpoint.enabled:
            raise Conflict(_("The endpoint is disabled: enable it first."), code="endpoint_disabled")
        ids = list(Delivery.objects.select_for_update().filter(
            endpoint=endpoint, status=Delivery.Status.FAILED, created_at__gte=since).values_list("pk", flat=True))
        _reset(ids)
        audit_record(actor=actor, action="webhook_endpoint.redelivered_failed", object_type="webhook_endpoint",
                     object_id=endpoint.id, after={"since": since.isoformat(), "count": len(ids)})
    return len(ids)


def _reset(ids: list[int]) -> None:
    if not ids:
        return
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, attempt_count=0, next_attempt_at=timezone.now(), leased_until=None,
        completed_at=None)
    schema = connection.schema_name
    transaction.on_commit(lambda: deliveries_dispatch(ids, schema=schema))


# --- retention ---------------------------------------------------------------------------------


def history_purge(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete attempts older than the log retention and events older than the event retention
    (their deliveries with them). Returns (attempts, events) deleted."""
    now = now or timezone.now()
    attempts, _ = DeliveryAttempt.objects.filter(
        attempted_at__lt=now - timedelta(days=settings.OSDM_WEBHOOK_LOG_RETENTION_DAYS)).delete()
    old_events = Event.objects.filter(created_at__lt=now - timedelta(days=settings.OSDM_EVENT_RETENTION_DAYS)).exclude(
        deliveries__status=Delivery.Status.PENDING)
    events, _ = old_events.delete()
    return attempts, events

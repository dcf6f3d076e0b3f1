"""Outbound webhooks: publishing events (the outbox), delivering them, and managing endpoints.

Delivery guarantees: at least once, never lost. An event and its deliveries are rows written with
the change they describe; after commit a Celery task is queued that sends the marketplace's due
deliveries (the doorbell below), and a sweeper re-queues whatever is due and not leased (a lost
task, a crashed worker, a retry whose time came).
An attempt leases its delivery first, so two workers never send the same attempt twice at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import import_module
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from osdm.audit.services import Actor, audit_record
from osdm.core import crypto
from osdm.core.doorbell import Doorbell
from osdm.core.errors import Conflict, ValidationFailed
from osdm.core.last_writes import stage_last

from . import catalog, safety, signing
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

FAILING_DISABLE_AFTER = timedelta(days=5)
RESPONSE_BODY_CAP = 4096
MAX_RETRY_AFTER = 24 * 3600


# --- publishing --------------------------------------------------------------------------------

# Called with each event inside its transaction (notifications register here): same all-or-nothing.
EVENT_HOOKS: list = []


# Events (one, or a `last_writes` block's) and the deliveries of each (one per enabled endpoint
# subscribed to its type), in one statement.
_PUBLISH_MANY = (
    "WITH staged AS (SELECT * FROM unnest(%(ids)s::text[], %(types)s::text[], %(versions)s::int[], %(data)s::text[], "
    "%(times)s::timestamptz[]) WITH ORDINALITY AS s(id, type, version, data, created_at, n)), "
    "event AS (INSERT INTO webhooks_event (id, type, version, data, created_at) "
    "SELECT id, type, version, data::jsonb, created_at FROM staged ORDER BY n RETURNING id, sequence, type), "
    "delivery AS (INSERT INTO webhooks_delivery (event_id, endpoint_id, status, attempt_count, next_attempt_at, "
    "last_error, created_at) SELECT event.sequence, endpoint.id, 'pending', 0, %(now)s, '', %(now)s "
    "FROM event JOIN webhooks_webhookendpoint AS endpoint ON endpoint.enabled "
    "AND (endpoint.event_types = '{}' OR event.type = ANY(endpoint.event_types)) RETURNING id) "
    "SELECT ARRAY(SELECT id FROM event), ARRAY(SELECT sequence FROM event), EXISTS(SELECT FROM delivery)")


def event_publish(*, event_type: str, data: dict[str, Any], endpoints: list[WebhookEndpoint] | None = None) -> Event:
    """Record an event and its deliveries in the caller's transaction; send after commit.

    `endpoints` limits the delivery to those endpoints (the `test` action); by default every
    enabled endpoint subscribed to the type receives it. Inside a transaction, no savepoint: an
    event that cannot be recorded fails the whole change it describes. Inside a `last_writes`
    block (the payment state machine's) the block's events are inserted together at its end, in
    the order they were published; the event returned gets its `sequence` then.
    """
    spec = catalog.get(event_type)
    text = json.dumps(data, default=str)
    data = json.loads(text)  # what is stored is exactly what is sent
    spec.validator.validate(data)
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        event = Event(id=f"evt_{uuid.uuid4().hex}", type=event_type, version=spec.version, data=data, created_at=now)
        if endpoints is None:
            if not stage_last("webhooks.events", [(event, text)], _events_insert):
                _events_insert([(event, text)])
        else:
            event.save(force_insert=True)
            Delivery.objects.bulk_create([Delivery(event=event, endpoint=endpoint, next_attempt_at=now)
                                          for endpoint in endpoints])
            if endpoints:
                DOORBELL.ring_on_commit()
        for hook in EVENT_HOOKS:
            hook(event)
    return event


def _events_insert(staged: list[tuple[Event, str]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_PUBLISH_MANY, {
            "ids": [event.id for event, _text in staged], "types": [event.type for event, _text in staged],
            "versions": [event.version for event, _text in staged], "data": [text for _event, text in staged],
            "times": [event.created_at for event, _text in staged], "now": timezone.now()})
        ids, sequences, delivered = cursor.fetchone()
    numbers = dict(zip(ids, sequences, strict=True))
    for event, _text in staged:
        event.sequence = numbers[event.id]
        event._state.adding, event._state.db = False, connection.alias
    if delivered:
        DOORBELL.ring_on_commit()


# New deliveries ring a doorbell after commit (osdm.core.doorbell): one `deliveries_drain` task is
# queued per marketplace unless one is queued and not started yet; the sweeper sends whatever is due
# and unleased whatever happened to the bell.
DOORBELL = Doorbell("webhooks", lambda: import_module("webhooks.tasks").deliveries_drain)


def deliveries_ring(schema: str) -> None:
    """Queue a drain of `schema`'s due deliveries unless one is queued already."""
    DOORBELL.ring(schema)


def deliveries_drain() -> list[AttemptResult]:
    """What a rung drain does, in its marketplace's schema: answer the bell (deleting the key first, so
    a commit from now on rings again), then attempt the longest-due deliveries nobody holds, a batch."""
    DOORBELL.answer()
    return deliveries_attempt()


def deliveries_dispatch(delivery_ids: list[int], *, schema: str) -> None:
    """Queue these deliveries (the sweeper's, redeliveries): one task per DISPATCH_BATCH of them, to run
    in `schema` (the schema a task is published from is the one it runs in). A broker outage loses
    nothing: the sweeper finds the deliveries still pending."""
    from .tasks import deliveries_send

    with schema_context(schema):
        for first in range(0, len(delivery_ids), DISPATCH_BATCH):
            batch = list(delivery_ids[first:first + DISPATCH_BATCH])
            try:
                deliveries_send.apply_async((batch,))
            except Exception:  # the broker is down; the sweeper will pick these up
                logger.warning("could not queue deliveries %s; the sweeper will retry", batch, exc_info=True)
                return


# --- delivering --------------------------------------------------------------------------------
#
# A worker task attempts a batch of deliveries (`deliveries_attempt`): ONE statement leases every
# due, unleased delivery of the batch and returns what is needed to send it (the event, and the
# endpoint as it is at that moment: URL, enabled, secrets), the requests go out concurrently, and
# the successes are recorded (their attempts, their deliveries, the endpoints' failing_since) in one
# more statement. Failures take the slower ORM path: they are rare, and they retry, disable and tell.
# Endpoints are read at every lease, never cached, so a disabled, edited or rotated endpoint is
# honoured from the next lease on.

DISPATCH_BATCH = 20  # deliveries per task
ENDPOINT_LANES = 4  # requests in flight to one endpoint from one task: a receiver is not flooded
_PARALLEL = 128  # requests in flight per process at most (threads are made as needed)

_client: httpx.Client | None = None
_pool: ThreadPoolExecutor | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        # One pooled client per process (thread-safe). Redirects are never followed: a redirect to
        # a private address would otherwise walk around the address check.
        _client = httpx.Client(follow_redirects=False, trust_env=False,
                               limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    return _client


def _senders() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_PARALLEL, thread_name_prefix="webhook-send")
    return _pool


@dataclass(frozen=True)
class AttemptResult:
    delivery_id: int
    status: str
    response_status: int | None
    next_attempt_at: datetime | None


def _lease_seconds() -> float:
    return max(settings.OSDM_WEBHOOKS_LEASE_SECONDS, settings.OSDM_WEBHOOKS_TIMEOUT + 1)


@dataclass(eq=False)
class _Leased:
    """A delivery this worker holds the lease of, with what its attempt needs."""

    delivery_id: int
    attempt_count: int
    leased_until: datetime  # our lease: a release matches on it
    event: Event
    endpoint_id: str
    url: str
    enabled: bool
    secrets: list[str]  # the live signing secrets, clear text


@dataclass
class _Outcome:
    headers: dict[str, str]
    response_status: int | None = None
    response_body: str = ""
    error: str = ""
    retry_after: float | None = None
    latency_ms: int = 0
    sent: bool = True  # False: not sent at all (the lease ran too short before a sender was free)

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


def _tables() -> dict[str, str]:
    return {"delivery": Delivery._meta.db_table, "event": Event._meta.db_table,
            "endpoint": WebhookEndpoint._meta.db_table, "attempt": DeliveryAttempt._meta.db_table}


# Leases due, unleased deliveries (skipping any another worker is leasing right now): those among
# %(ids)s, or the longest-due %(limit)s. Returns each with its event and its endpoint as committed now.
_LEASE = """
UPDATE {delivery} d SET leased_until = %(lease)s, attempt_count = d.attempt_count + 1
  FROM (SELECT id FROM {delivery}
         WHERE {which} status = 'pending' AND next_attempt_at <= %(now)s
           AND (leased_until IS NULL OR leased_until < %(now)s)
         ORDER BY {order} LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due,
       {event} e, {endpoint} w
 WHERE d.id = due.id AND e.sequence = d.event_id AND w.id = d.endpoint_id
RETURNING d.id, d.attempt_count, e.id, e.type, e.version, e.sequence, e.created_at, e.data,
          w.id, w.url, w.enabled, w.secret, w.previous_secret, w.previous_secret_expires_at
"""

# Records successful attempts: the attempts, the deliveries succeeded, their endpoints not failing.
_SUCCEEDED = """
WITH done (id, endpoint_id, url, headers, status, body, latency) AS (
  SELECT * FROM unnest(%(ids)s::bigint[], %(endpoints)s::text[], %(urls)s::text[], %(headers)s::jsonb[],
                       %(statuses)s::int[], %(bodies)s::text[], %(latencies)s::int[])),
attempts AS (
  INSERT INTO {attempt} (delivery_id, attempted_at, url, request_headers, response_status, response_body,
                         latency_ms, error)
  SELECT id, %(now)s, url, headers, status, body, latency, '' FROM done),
recovered AS (
  UPDATE {endpoint} SET failing_since = NULL
   WHERE id IN (SELECT endpoint_id FROM done) AND failing_since IS NOT NULL)
UPDATE {delivery} d SET status = 'succeeded', completed_at = %(now)s, leased_until = NULL, next_attempt_at = NULL,
                        last_status_code = done.status, last_error = ''
  FROM done WHERE d.id = done.id
"""

# Gives back a lease that was never used (no request went out), as if it had not been taken.
_RELEASE = """
UPDATE {delivery} SET leased_until = NULL, attempt_count = attempt_count - 1
 WHERE id = %(id)s AND leased_until = %(lease)s
"""

# A ciphertext always decrypts to the same secret, so clear texts are kept by ciphertext: a rotated
# secret is a new ciphertext, used from its first lease on.
_clear_text = lru_cache(maxsize=1024)(crypto.decrypt)


def _lease(delivery_ids: list[int] | None, now: datetime) -> list[_Leased]:
    lease = now + timedelta(seconds=_lease_seconds())
    if delivery_ids is None:
        sql = _LEASE.format(which="", order="next_attempt_at", **_tables())
        params = {"limit": DISPATCH_BATCH}
    else:
        sql = _LEASE.format(which="id = ANY(%(ids)s) AND", order="id", **_tables())
        params = {"ids": list(delivery_ids), "limit": len(delivery_ids)}
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "now": now, "lease": lease})
        rows = cursor.fetchall()
    leased = []
    for (delivery_id, attempt_count, event_id, event_type, version, sequence, created_at, data,
         endpoint_id, url, enabled, secret, previous_secret, previous_expires_at) in rows:
        secrets_ = [_clear_text(secret)]
        if previous_secret and previous_expires_at and previous_expires_at > now:
            secrets_.append(_clear_text(previous_secret))
        event = Event(sequence=sequence, id=event_id, type=event_type, version=version, created_at=created_at,
                      data=json.loads(data) if isinstance(data, str) else data)
        leased.append(_Leased(delivery_id, attempt_count, lease, event, endpoint_id, url, enabled, secrets_))
    return sorted(leased, key=lambda d: d.delivery_id)


def _sign(delivery: _Leased) -> tuple[dict[str, str], bytes]:
    body = json.dumps(delivery.event.payload(), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "OSDM-Webhooks/1.0",
        **signing.headers(secrets_=delivery.secrets, msg_id=delivery.event.id, timestamp=int(time.time()),
                          body=body),
    }
    return headers, body


def _send(url: str, headers: dict[str, str], body: bytes, *, timeout: float, start_by: float) -> _Outcome:
    """One POST (any thread; no database). Not sent if it could not start by `start_by` (monotonic):
    the lease must outlast the request."""
    if time.monotonic() > start_by:
        return _Outcome(headers, sent=False)
    outcome = _Outcome(headers)
    started = time.monotonic()
    try:
        target = safety.resolve(url)
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        request = _http().build_request("POST", target.url, content=body,
                                        headers={**headers, "host": target.host_header},
                                        timeout=timeout, extensions=extensions)
        response = _http().send(request, stream=True)
        try:
            outcome.response_status = response.status_code
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= RESPONSE_BODY_CAP:
                    break
            outcome.response_body = b"".join(chunks)[:RESPONSE_BODY_CAP].decode("utf-8", "replace")
            outcome.retry_after = _retry_after(response.headers.get("retry-after"))
        finally:
            response.close()
    except safety.UnsafeURL as exc:
        outcome.error = f"{exc.code}: {exc}"
    except httpx.TimeoutException:
        outcome.error = f"timeout after {timeout}s"
    except httpx.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:500]
    outcome.latency_ms = int((time.monotonic() - started) * 1000)
    return outcome


def delivery_attempt(*, delivery_id: int) -> AttemptResult | None:
    """Make one attempt if the delivery is due and nobody else holds it. Returns None otherwise."""
    results = deliveries_attempt(delivery_ids=[delivery_id])
    return results[0] if results else None


def deliveries_attempt(*, delivery_ids: list[int] | None = None) -> list[AttemptResult]:
    """One attempt of each delivery among `delivery_ids` (by default: the DISPATCH_BATCH longest due)
    that is due and that nobody else holds, concurrently but at most ENDPOINT_LANES at a time to one
    endpoint. Returns their results (the others are skipped)."""
    now = timezone.now()
    leased_at = time.monotonic()
    leased = _lease(delivery_ids, now)
    if delivery_ids is None and len(leased) == DISPATCH_BATCH:  # there may be more: another drain helps
        schema = connection.schema_name
        transaction.on_commit(lambda: deliveries_ring(schema))
    results = [_finish(_row(d), status=Delivery.Status.FAILED, error="endpoint disabled")
               for d in leased if not d.enabled]
    queues: dict[str, deque[_Leased]] = defaultdict(deque)
    for delivery in leased:
        if delivery.enabled:
            queues[delivery.endpoint_id].append(delivery)
    timeout = settings.OSDM_WEBHOOKS_TIMEOUT
    # A request must start early in the lease, so that the lease outlasts it and its recording; one
    # that could not (its endpoint's lanes were busy) is handed back unsent.
    start_by = leased_at + (_lease_seconds() - timeout) / 2

    def send(delivery: _Leased) -> _Outcome:
        headers, body = _sign(delivery)
        return _send(delivery.url, headers, body, timeout=timeout, start_by=start_by)

    if sum(map(len, queues.values())) == 1:  # no thread hand-off for a batch of one
        (queue,) = queues.values()
        return results + _record({queue[0]: send(queue[0])})
    jobs: dict[Future, _Leased] = {}
    in_flight: Counter[str] = Counter()

    def start_more() -> set[Future]:
        started = set()
        for endpoint_id, queue in queues.items():
            while queue and in_flight[endpoint_id] < ENDPOINT_LANES:
                delivery = queue.popleft()
                future = _senders().submit(send, delivery)
                jobs[future] = delivery
                started.add(future)
                in_flight[endpoint_id] += 1
        return started

    pending = start_more()
    while pending:
        # Record what has arrived so far together, while the slower requests are still out.
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        finished = sorted((jobs[f] for f in done), key=lambda d: d.delivery_id)
        outcomes = {jobs[f]: f.result() for f in done}
        for delivery in finished:
            in_flight[delivery.endpoint_id] -= 1
        pending |= start_more()
        results += _record({d: outcomes[d] for d in finished})
    return results


def _row(delivery: _Leased) -> Delivery:
    return Delivery(pk=delivery.delivery_id, attempt_count=delivery.attempt_count, endpoint_id=delivery.endpoint_id,
                    event_id=delivery.event.sequence)


def _record(outcomes: dict[_Leased, _Outcome]) -> list[AttemptResult]:
    """Write down the attempts just made: the successes in one statement, the rest one by one."""
    successes = [(d, o) for d, o in outcomes.items() if o.sent and o.succeeded]
    results = []
    if successes:
        with connection.cursor() as cursor:
            cursor.execute(_SUCCEEDED.format(**_tables()), {
                "now": timezone.now(),
                "ids": [d.delivery_id for d, _ in successes], "endpoints": [d.endpoint_id for d, _ in successes],
                "urls": [d.url for d, _ in successes],
                "headers": [json.dumps(_loggable(o.headers)) for _, o in successes],
                "statuses": [o.response_status for _, o in successes], "bodies": [o.response_body for _, o in successes],
                "latencies": [o.latency_ms for _, o in successes]})
        results += [AttemptResult(d.delivery_id, Delivery.Status.SUCCEEDED, o.response_status, None)
                    for d, o in successes]
    released = []
    for delivery, outcome in outcomes.items():
        if not outcome.sent:
            with connection.cursor() as cursor:
                cursor.execute(_RELEASE.format(**_tables()), {"id": delivery.delivery_id,
                                                              "lease": delivery.leased_until})
            released.append(delivery.delivery_id)
        elif not outcome.succeeded:
            try:
                results.append(_record_failure(delivery, outcome))
            except Exception:  # the rest of the batch is still recorded; this lease runs out and it is retried
                logger.exception("could not record the failed attempt of delivery %s", delivery.delivery_id)
    if released:
        schema = connection.schema_name
        transaction.on_commit(lambda: deliveries_dispatch(released, schema=schema))
    return results


def _record_failure(leased: _Leased, outcome: _Outcome) -> AttemptResult:
    delivery = _row(leased)
    delivery.endpoint = WebhookEndpoint.objects.get(pk=leased.endpoint_id)
    DeliveryAttempt.objects.create(
        delivery=delivery, url=leased.url, request_headers=_loggable(outcome.headers),
        response_status=outcome.response_status, response_body=outcome.response_body,
        latency_ms=outcome.latency_ms, error=outcome.error)
    if outcome.response_status == 410:
        endpoint_disable(endpoint=delivery.endpoint, reason="gone")
        return _finish(delivery, status=Delivery.Status.FAILED, response_status=410,
                       error="410 Gone: endpoint disabled")
    return _failure(delivery, response_status=outcome.response_status,
                    error=outcome.error or f"HTTP {outcome.response_status}", retry_after=outcome.retry_after)


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
        # Always an update, so the row stays locked until commit: a success elsewhere clearing
        # failing_since cannot slip in between it and the read.
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=Coalesce("failing_since", Value(now)))
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

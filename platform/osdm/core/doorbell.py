"""Doorbells: after a commit, queue one task that works through a marketplace's outbox rows, unless
one is queued already and has not started.

An outbox (webhook deliveries, notification e-mails) is rows written in the transaction of the change
they come from. Queuing a Celery task per commit costs a request most of a millisecond and, under
load, queues far more tasks than there is work for. A bell instead sets a Redis key (`SET NX`, with a
short expiry) and queues the task only if it was not set; the task deletes the key as it starts,
before it looks for work, so a commit from then on rings again. Under load one drain finds many rows
and takes a batch; a drain that takes a full batch rings again, so several run side by side; when
the worker keeps up, every commit still gets its own drain at once.

Nothing relies on the bell: the rows are the truth, and each outbox has a periodic sweeper that
drains whatever is due (a lost task, an expired key, Redis or the broker down).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from functools import partial

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

logger = logging.getLogger(__name__)

SECONDS = 5.0  # a queued drain that has not started by then no longer holds back another


class Doorbell:
    """The bell of one outbox: `task()` gives the Celery task that drains it (imported late: tasks
    import the services that ring)."""

    def __init__(self, name: str, task: Callable[[], object]) -> None:
        self.name, self._task = name, task

    def key(self, schema: str) -> str:
        return f"{self.name}:drain-queued:{schema}"

    def ring_on_commit(self, schema: str | None = None) -> None:
        """Ring once after this transaction commits, however many rows it adds. A savepoint rolled
        back takes its callback with it, so a later row registers again."""
        schema = schema or connection.schema_name
        mark = (self.name, schema)
        if any(getattr(callback, "doorbell", None) == mark for _, callback, _ in connection.run_on_commit):
            return
        callback = partial(self.ring, schema)
        callback.doorbell = mark
        transaction.on_commit(callback)

    def ring(self, schema: str) -> None:
        """Queue a drain in `schema` unless one is queued and not started yet."""
        with schema_context(schema):  # the task runs in the schema it is queued from
            key = self.key(schema)
            try:
                if not cache.add(key, 1, timeout=SECONDS):
                    return  # the queued drain has not started yet: it will find these rows
            except Exception:  # no Redis for the key: queue one anyway
                logger.warning("%s doorbell unavailable; queuing a drain", self.name, exc_info=True)
            try:
                self._task().apply_async()
            except Exception:  # the broker is down; the sweeper will drain these
                logger.warning("could not queue a %s drain in %s; the sweeper will", self.name, schema, exc_info=True)
                with contextlib.suppress(Exception):  # if Redis is down too, the key expires by itself
                    cache.delete(key)  # so the next commit tries again

    def answer(self) -> None:
        """What a drain does first, in its schema: delete the key, so that a commit from now on rings again."""
        try:
            cache.delete(self.key(connection.schema_name))
        except Exception:  # the key expires by itself
            logger.warning("%s doorbell unavailable", self.name, exc_info=True)

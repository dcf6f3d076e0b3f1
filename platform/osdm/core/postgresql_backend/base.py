"""django-tenants' PostgreSQL backend, sending `SET search_path` only when the session's path changes.

With TENANT_LIMIT_SET_CALLS, django-tenants sets the path once per tenant switch; but a request
switches twice (public to look the host up, then the tenant), so a pooled connection serving one
marketplace still sent two `SET`s per request, each a round trip. This backend remembers the path
the session really has and skips a `SET` to that same path. The remembered path is forgotten
whenever PostgreSQL may have dropped it: on connect and close, and on rollback and savepoint rollback
(a `SET` is transactional). `shared_tables_only()` marks queries that name only public-schema tables
(the tenant and domain lookup of every request): those resolve the same on any path that ends with
the public schema, so they run on the tenant's path rather than setting public first.

It also skips the per-request health check of a connection used within the last half second
(ALIVE_BYPASS_SECONDS below).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django_tenants.postgresql_backend import base as tenant_backend
from django_tenants.utils import get_limit_set_calls, get_public_schema_name

# A connection used this recently skips the health check (CONN_HEALTH_CHECKS) of its next request:
# HikariCP's `aliveBypassWindowMs`, with its default. Under load a connection serves request after
# request within milliseconds, and the check was one `SELECT 1` round trip per request (four per
# checkout); a connection idle for longer is checked before use, as Django does.
ALIVE_BYPASS_SECONDS = 0.5


class DatabaseWrapper(tenant_backend.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        self._session_search_path: list[str] | None = None
        self._shared_tables_only = False
        self._last_used = float("-inf")
        super().__init__(*args, **kwargs)

    def connect(self):
        self._session_search_path = None
        super().connect()
        self._last_used = time.monotonic()

    def close_if_health_check_failed(self):
        if self.connection is not None and time.monotonic() - self._last_used < ALIVE_BYPASS_SECONDS:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _cursor(self, name=None):
        cursor = super()._cursor(name)
        self._last_used = time.monotonic()
        return cursor

    def close(self):
        self._session_search_path = None
        super().close()

    def rollback(self):
        self._session_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid):
        try:
            super().savepoint_rollback(sid)
        finally:
            self._session_search_path = None

    @contextmanager
    def shared_tables_only(self) -> Iterator[None]:
        """Queries inside name only tables of the public schema (shared apps), never a tenant's."""
        previous, self._shared_tables_only = self._shared_tables_only, True
        try:
            yield
        finally:
            self._shared_tables_only = previous

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path or not get_limit_set_calls():
            return super()._handle_search_path(cursor)
        if self.search_path_set_schemas:
            return None
        session = self._session_search_path
        if session is not None:
            if self._get_cursor_search_paths() == session:
                self.search_path_set_schemas = session
                return None
            if self._shared_tables_only and session[-1] == get_public_schema_name():
                return None  # public tables resolve the same on this path
        super()._handle_search_path(cursor)
        self._session_search_path = self.search_path_set_schemas
        return None

"""The database backend's connection handling: health checks, as a request cycle drives them."""

import time

import pytest
from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections

from osdm.core.postgresql_backend.base import ALIVE_BYPASS_SECONDS


def _pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    other = connections.create_connection("default")  # a second session of its own
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def test_a_connection_idle_past_the_bypass_window_is_checked_and_replaced_when_dead(committed):
    close_old_connections()  # a request starts
    first = _pid()
    _terminate(first)  # the server closes it (a restart, an idle timeout) between two requests
    time.sleep(ALIVE_BYPASS_SECONDS + 0.1)
    close_old_connections()  # the next request
    assert _pid() != first  # checked, found dead, replaced: the request did not fail


def test_within_the_window_a_dead_connection_fails_one_request_and_is_replaced(committed):
    """The trade-off of skipping the check (as HikariCP does): a server-side close in the half
    second after a request fails the next request's first query; the connection is dropped at the
    end of that request and the one after gets a new one."""
    close_old_connections()
    first = _pid()
    _terminate(first)
    close_old_connections()  # the next request, within the window: no SELECT 1 first
    with pytest.raises((OperationalError, InterfaceError)):
        _pid()
    close_old_connections()  # that request ends: its broken connection is closed
    assert _pid() != first

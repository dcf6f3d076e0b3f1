"""Shared fixtures: the real PostgreSQL and Redis that `make test` starts.

Three marketplaces are provisioned once per test session (cloned from the template, committed) and
reused by every test. `alpha` and `beta` serve tests that run in a transaction rolled back at the end,
so what such a test creates never leaks into the next. `gamma` serves tests whose writes a real
Celery worker must see: they commit, and clean up what they made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from tenants import provisioning, sample_data, services

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Marketplace:
    tenant: Any
    secret_key: str

    @property
    def host(self) -> str:
        return self.tenant.host


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database, always (pytest-django's own fixture sets it up only when some collected test
    is marked django_db, and would otherwise leave the suite on the development database), with the
    session's marketplaces."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"].startswith("test_"), "not on the test database"
        provisioning.template_ensure()
        made = {slug: services.tenant_create(slug=slug, name=slug.title()) for slug in ("alpha", "beta", "gamma")}
        for provisioned in made.values():
            sample_data.categories(tenant=provisioned.tenant)
        connection.set_schema_to_public()
    yield {slug: Marketplace(p.tenant, p.secret_key) for slug, p in made.items()}
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture
def alpha(django_db_setup, db) -> Marketplace:
    return django_db_setup["alpha"]


@pytest.fixture
def beta(django_db_setup, db) -> Marketplace:
    return django_db_setup["beta"]


@pytest.fixture
def gamma(django_db_setup) -> Marketplace:
    """A marketplace for tests that commit (real worker, real receiver): no test transaction."""
    return django_db_setup["gamma"]


def _clear_run_cache() -> None:
    """Delete this run's cache keys only (another run may share the Redis database)."""
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"*:{cache.key_prefix}:*", count=1000))  # schema:prefix:version:key
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _fresh_cache_and_schema():
    """Throttle counters and cached values belong to one test (the process's host → marketplace
    cache too: a test's rolled-back changes must not outlive it); every test starts in public."""
    from tenants.middleware import _hosts

    _clear_run_cache()
    _hosts.clear()
    yield
    _hosts.clear()
    connection.set_schema_to_public()


class WorkerProcess:
    """A real Celery worker process on the test database and the suite's own broker database, that a
    test may stop, kill and start again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen | None = None
        self.name = ""
        self._starts = 0

    def start(self) -> None:
        from osdm.celery import app

        self._starts += 1
        self.name = f"suite-{os.getpid()}-{self._starts}@localhost"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "osdm", "worker", "--pool", "threads", "--concurrency", "8",
             "--without-mingle", "--without-gossip", "-n", self.name, "-l", "warning"],
            env=self.env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=0.5):
            assert self.process.poll() is None, "the Celery worker exited"
            assert time.monotonic() < deadline, "the Celery worker did not start"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acks, no cleanup, like a node that loses power."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def ensure_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()


@pytest.fixture(scope="session")
def _worker_process(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "osdm.settings_test",
           "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name}
    worker = WorkerProcess(env)
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker(_worker_process):
    """The suite's worker, running. Tests that use it must commit what the worker is to see
    (`committed` below) and clean up after themselves."""
    _worker_process.ensure_running()
    return _worker_process


@pytest.fixture(scope="session")
def receiver():
    from .receiver import Receiver

    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Autocommit database access, for tests whose writes another process must see."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(interval)


class Api:
    """A test client bound to one host, speaking JSON, with optional bearer credentials."""

    def __init__(self, host: str, token: str | None = None, language: str | None = None) -> None:
        self.client = Client()
        self.host = host
        self.token = token
        self.language = language

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"HTTP_HOST": self.host}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        if self.language:
            headers["HTTP_ACCEPT_LANGUAGE"] = self.language
        for name, value in (extra or {}).items():
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        return headers

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None,
                headers: dict[str, str] | None = None, content_type: str = "application/json"):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is None and method.upper() in ("POST", "PUT", "PATCH"):
            data = ""  # an empty body, as curl -X POST sends it (Django's client would send multipart)
        kwargs: dict[str, Any] = {"content_type": content_type} if data is not None else {}
        call = getattr(self.client, method.lower())
        if data is not None:
            return call(path, data, **kwargs, **self._headers(headers))
        return call(path, **self._headers(headers))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def as_(self, token: str | None) -> Api:
        return Api(self.host, token, self.language)


@pytest.fixture
def api():
    def make(market: Marketplace | str, token: str | None = None, language: str | None = None) -> Api:
        host = market if isinstance(market, str) else market.host
        return Api(host, token, language)

    return make


@pytest.fixture
def platform(settings):
    return Api(settings.OSDM_BASE_DOMAIN, settings.OSDM_PLATFORM_KEY)


def register(api_client: Api, email: str, password: str = PASSWORD, **extra) -> dict:
    response = api_client.as_(None).post("/api/v1/auth/register",
                                         {"email": email, "password": password, "full_name": "Test User", **extra})
    assert response.status_code == 201, response.content
    return response.json()


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one documented error shape, with the given status and code."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"type", "code", "message"} <= set(error), error
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


# The sandbox gateway simulator, for money tests outside tests/payments/.
from .payments.conftest import sandbox, sandbox_sim  # noqa: E402,F401


@pytest.fixture(scope="session")
def moyasar_sim():
    """The Moyasar simulator (payments and payouts), for the money tests."""
    from osdm.payments.simulators.moyasar import MoyasarSimulator

    sim = MoyasarSimulator(payout_delay=None).start()
    yield sim
    sim.stop()


@pytest.fixture
def moyasar(moyasar_sim):
    """Fresh; callbacks queued, payouts settled only when the test says so."""
    moyasar_sim.reset()
    moyasar_sim.deliver_callbacks = False
    moyasar_sim.payout_delay = None
    return moyasar_sim

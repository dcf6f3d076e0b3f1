"""Fixtures for the SDK's tests: a live OSDM (gunicorn, real HTTP) on the suite's test database, a
real Celery worker, a real webhook receiver, and a marketplace made through the SDK.

The SDK is tested the way developers use it: over HTTP against the real platform, never against
mocks. The tests share one marketplace, created through the SDK's platform client and deleted at the
end (each test makes its own users, endpoints and keys, with unique e-mails, so they commit freely);
a test that needs a pristine marketplace makes one with `make_market` (provisioning costs seconds,
so not one per module).

The test database is the one the root suite uses (`tests/conftest.py`). Its fixtures are not imported
here: a conftest fixture imported into a second conftest is a second fixture, and the session would
set the database up twice. When the root suite ran first in this session its `django_db_setup` has
made the database and keeps it (the connection already points at `test_...`), and the one here only
reuses it; when the SDK's tests run alone, the one here makes it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from osdm_client import OSDM, AsyncOSDM, AsyncOSDMPlatform, OSDMPlatform
from osdm_client.types import TenantCreated
from sdk_helpers import PASSWORD, unique_email

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database with a migrated tenant template, whoever asks first."""
    from django.test.utils import setup_databases, teardown_databases
    from tenants import provisioning

    with django_db_blocker.unblock():
        reused = connection.settings_dict["NAME"].startswith("test_")
        db_cfg = None if reused else setup_databases(verbosity=0, interactive=False, aliases={"default"})
        provisioning.template_ensure()
        connection.set_schema_to_public()
    yield
    if db_cfg is not None:
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(scope="session")
def platform_env(django_db_setup, django_db_blocker) -> dict[str, str]:
    """The environment of the server and worker processes: the test database, the test settings."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    paths = [str(ROOT / "platform"), str(ROOT)]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "osdm.settings_test",
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name,
        "OSDM_PLATFORM_KEY": settings.OSDM_PLATFORM_KEY,
        "OSDM_BASE_DOMAIN": settings.OSDM_BASE_DOMAIN,
        # The suite signs everyone up from 127.0.0.1 and shares one operator key: only the login limit
        # (per e-mail) is under test, so the others must not throttle a fast suite.
        "OSDM_THROTTLE_REGISTER": "100000/hour",
        "OSDM_THROTTLE_ANON": "100000/min",
        "OSDM_THROTTLE_KEY": "100000/min",
        "OSDM_THROTTLE_USER": "100000/min",
        "PYTHONPATH": os.pathsep.join(paths + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
    }


@dataclass
class LiveServer:
    port: int
    platform_key: str
    base_domain: str

    @property
    def platform_url(self) -> str:
        return f"http://{self.base_domain}:{self.port}"

    def marketplace_url(self, slug: str) -> str:
        return f"http://{slug}.{self.base_domain}:{self.port}"


@pytest.fixture(scope="session")
def live_osdm(platform_env, tmp_path_factory) -> Iterator[LiveServer]:
    """OSDM served by gunicorn on a free port of 127.0.0.1, as `make run` serves it."""
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "osdm.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--log-level", "warning"],
            env=platform_env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)
        yield LiveServer(port, platform_env["OSDM_PLATFORM_KEY"], platform_env["OSDM_BASE_DOMAIN"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def osdm_platform(live_osdm) -> Iterator[OSDMPlatform]:
    with OSDMPlatform(base_url=live_osdm.platform_url, platform_key=live_osdm.platform_key) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def async_platform(live_osdm) -> AsyncIterator[AsyncOSDMPlatform]:
    async with AsyncOSDMPlatform(base_url=live_osdm.platform_url, platform_key=live_osdm.platform_key) as client:
        yield client


@dataclass
class Market:
    """A marketplace made for one test module: its slug, what creating it returned, and an operator
    client (its first secret key)."""

    slug: str
    created: TenantCreated
    operator: OSDM
    url: str

    @property
    def secret_key(self) -> str:
        return self.created.secret_key.secret

    def anonymous(self, **options) -> OSDM:
        return OSDM(base_url=self.url, **options)

    def async_operator(self, **options) -> AsyncOSDM:
        return AsyncOSDM(base_url=self.url, api_key=self.secret_key, **options)

    def register(self, email: str | None = None) -> tuple[str, OSDM]:
        """A new buyer: their e-mail and a user-mode client."""
        email = email or unique_email()
        shop = self.anonymous()
        registration = shop.auth.register(email=email, password=PASSWORD, full_name="Test Buyer")
        return email, shop.as_user(registration.tokens)


def make_market(platform: OSDMPlatform, live: LiveServer, prefix: str) -> Market:
    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    created = platform.tenants.create(slug=slug, name=f"SDK {slug}")
    return Market(slug, created, platform.marketplace(created), live.marketplace_url(slug))


@pytest.fixture(scope="session")
def market(osdm_platform, live_osdm) -> Iterator[Market]:
    made = make_market(osdm_platform, live_osdm, "sdk")
    yield made
    osdm_platform.tenants.delete(made.slug)


class SdkWorker:
    """A real Celery worker process for the deliveries the live server queues, under a node name of
    its own (the root suite's worker may be running in the same session)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.name = f"sdk-suite-{os.getpid()}@localhost"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from osdm.celery import app

        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "osdm", "worker", "--pool", "threads", "--concurrency", "4",
             "--without-mingle", "--without-gossip", "-n", self.name, "-l", "warning"],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=0.5):
            assert self.process.poll() is None, "the Celery worker exited"
            assert time.monotonic() < deadline, "the Celery worker did not start"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def webhook_worker(platform_env) -> Iterator[SdkWorker]:
    worker = SdkWorker(platform_env)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def hook_receiver():
    from tests.receiver import Receiver

    server = Receiver()
    yield server
    server.close()


SANDBOX_KEY, SANDBOX_WEBHOOK_SECRET = "sk_sandbox_test", "whsec_sandbox_test"


@pytest.fixture(scope="session")
def sandbox_simulator():
    """The sandbox gateway simulator `make run` starts, here a real HTTP server in this process. With the
    live server it delivers its signed callbacks itself, so a checkout completes as in production."""
    from osdm.payments.simulators.sandbox import SandboxSimulator

    sim = SandboxSimulator(secret_key=SANDBOX_KEY, webhook_secret=SANDBOX_WEBHOOK_SECRET).start()
    sim.deliver_callbacks = True
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def sandbox_gateway(market, sandbox_simulator):
    """The sandbox simulator configured as the shared marketplace's gateway for every method, through
    the SDK."""
    market.operator.payment_gateways.configure(
        "sandbox", enabled=True, mode="test", base_url=sandbox_simulator.url,
        credentials={"secret_key": SANDBOX_KEY, "webhook_secret": SANDBOX_WEBHOOK_SECRET})
    for method in ("mada", "visa", "mastercard", "applepay", "googlepay", "stcpay", "paypal"):
        market.operator.payment_methods.route(method, gateway="sandbox")
    return sandbox_simulator

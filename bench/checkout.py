"""Checkout: complete checkouts per second through the real HTTP stack, and the latency of the gateway
callback handler.

Targets (per the issue): at least 100 complete checkouts per second on this machine with the
embedded database, and a 95th percentile under 30 ms for the callback handler
(POST /api/v1/payments/webhooks/sandbox/).

Set-up (not timed): a tenant `bench-checkout` with the default taxonomy; the sandbox gateway enabled
through the operator API (PUT /api/v1/payment-gateways/sandbox, mada routed to it) against an
in-process SandboxSimulator, a real HTTP server on 127.0.0.1; one seller registered through the API
with one published product (--products to spread orders over more) whose file was uploaded through
POST /api/v1/files/; --buyers buyers (rows written directly, access tokens issued with
accounts.tokens.token_pair_issue, as the login endpoint would). Each checkout takes the next buyer
of the pool in turn, so no buyer comes near the per-user rate limit (600/min), which stays on and
unchanged: a single buyer per client thread would be throttled within seconds at these rates.

1. Checkouts/s over HTTP: gunicorn (`python -m gunicorn osdm.wsgi:application --workers 2
   --threads 8`, on a free port of 127.0.0.1, on the bench database, production settings
   (OSDM_DEBUG=0) when the secrets are in the environment) driven by --levels concurrent client
   threads (default 1, 8, 32), each with its own keep-alive connections (the bench's KeepAlive, on
   http.client; see below), connecting to 127.0.0.1 with `Host: bench-checkout.localhost:<port>`.
   One checkout is:
     order     POST /api/v1/orders/ (buyer's token)                                 -> 201, pending_payment
     process   POST /api/v1/payments/{id}/process {method: mada, gateway: sandbox}  -> 200, requires_action
               (the platform creates the payment at the simulator over HTTP)
     pay       POST <next_action.url> outcome=paid, as the browser's "Pay" button   -> 303 to return_url
     callback  the simulator POSTs its signed callback to the callback URL the platform gave it
               (http://bench-checkout.localhost:<port>/api/v1/payments/webhooks/sandbox/, reached on
               127.0.0.1 by the simulator's loopback()), from a thread of its own, as it always does;
               `callback wait` is from the pay response until the simulator has the platform's answer,
               `callback HTTP` the simulator-side round trip of that POST alone
     confirm   GET /api/v1/orders/{id}/ (what the storefront does when the buyer returns): must say
               completed (a product order completes when paid); polled if not yet
   Each level runs --duration seconds (or --max-checkouts), after a warm-up of both workers.
   Checkouts/s = completed checkouts / wall time from the first start to the last completion.
   CPU per checkout is read from /proc: the gunicorn master and workers, the PostgreSQL backends
   connected to the bench database (plus, for backends that ended during the level, their CPU as the
   postmaster's reaped children: the postmaster's other children that end meanwhile count too), and
   this process (client threads and the simulator together;
   the simulator stands in for the gateway, whose CPU is not ours in production). "Machine busy" is
   all CPUs from /proc/stat, other programs included: other benchmarks may run at the same time.
   "CPU ceiling" is the rate the machine's cores would allow at the gunicorn + PostgreSQL CPU
   measured per checkout. While each level runs, pg_stat_activity is sampled every 50 ms: how many
   of the bench database's sessions are running a statement, how many of those wait for a lock
   (and on which statements), how many sit idle inside a transaction.

2. Callback handler latency: --callbacks distinct callbacks per way, each a valid, signed first
   delivery made by the simulator (payments processed in-process with the simulator's callbacks
   queued, deliver_callbacks=False, and taken with pending_callbacks()), timed
     a. `payments.services.callback_handle()` alone, in-process, on the tenant (as the middleware sets it);
     b. the whole Django stack in-process (django.test.Client: middleware, tenant resolution, view);
     c. over HTTP to gunicorn, one at a time on a keep-alive connection (no other load from the bench);
   then each set again: duplicates (acknowledged, change nothing). a and b run before gunicorn
   starts, c right after its warm-up, so they see different moments of whatever else the machine
   runs. Under load, the callback HTTP column of part 1 is the same request while checkouts run.

3. SQL queries per step (CaptureQueriesContext, in-process, django.test.Client), median over
   --query-samples whole checkouts made before part 2: order create, process, callback, duplicate
   callback, order read; with the median wall time and this thread's CPU time of each.

The load generator is not the platform: the client threads, the simulator and the samplers run in
this process, on the same 2 cores as gunicorn and PostgreSQL, and every millisecond of CPU they
spend is one the platform does not get, so the checkouts/s figure pays for it ("bench+sim" in the
table). Hence the bench's HTTP client, KeepAlive: keep-alive HTTP/1.1 connections on the standard
library's http.client, one per host:port and thread, JSON or form bodies in, bytes out. With httpx
clients this process took 6–8 ms of CPU per checkout (13–15% of a checkout's whole CPU); with
KeepAlive 3–3.5 ms, of which about 1 ms is the simulator's own HTTP server (a thread per
connection) and 0.2 ms the pg_stat_activity sampler. It sends the same requests with the same Host,
Authorization and Content-Type headers (not httpx's User-Agent, Accept: */* and Accept-Encoding:
gzip, which the platform does not use), follows no redirect (the pay POST's 303 is checked, not
followed), reopens once a connection the server closed while it sat idle (gunicorn's keep-alive
timeout is 2 s) when that request got no answer, and raises OSError or http.client.HTTPException
otherwise (counted as errors by type).

Bench-side departures from the stock simulator, all to keep the simulator's own cost (a gateway's
cost, not the platform's) off this 2-core machine: its listening socket gets a backlog of 1024 (a
ThreadingHTTPServer listens with 5, and the platform opens a new connection per gateway call), and
callbacks are POSTed with KeepAlive connections kept in a pool (each callback has a thread of its
own; the connections outlive it) instead of `httpx.post()` per callback (which builds a client, and
its TLS context, each time), with the same three attempts and the same 10 s timeout (per socket
operation, as httpx's). Part 2c POSTs with KeepAlive too, so that it and 2d time the same client.

Everything is in the throwaway database `osdm_bench_checkout` (see bench/_support.py), not the
shared `osdm_bench`, so this can run beside the other benchmarks. OSDM_BASE_DOMAIN is forced to
`localhost` (the simulator's loopback() maps *.localhost to 127.0.0.1).

Run:  .venv/bin/python scripts/devenv.py bench checkout
  or: eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"; export OSDM_DEBUG=1
      .venv/bin/python bench/checkout.py [--levels 1,8,32] [--duration 30] [--callbacks 200]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import _support

SLUG = "bench-checkout"
BENCH_DB = "osdm_bench_checkout"  # not the shared `osdm_bench`, which other benchmarks drop when they start
BASE_DOMAIN = "localhost"
HOST = f"{SLUG}.{BASE_DOMAIN}"
SANDBOX_KEY, WEBHOOK_SECRET = "sk_sandbox_bench", "whsec_sandbox_bench"
RETURN_URL = "https://shop.example.com/checkout/return"
CALLBACK_PATH = "/api/v1/payments/webhooks/sandbox/"
PRICE = 12345
TARGET_RATE = 100.0  # checkouts/s
TARGET_P95_MS = 30.0  # callback handler
STEPS = ["order", "process", "pay", "callback wait", "callback HTTP", "confirm", "total"]


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (as _support.p95)."""
    ordered = sorted(values)
    rank = max(1, -(-q * len(ordered) // 100))
    return ordered[int(rank) - 1]


def ms(values: list[float], q: float) -> str:
    return f"{pct(values, q) * 1000:.1f}" if values else "-"


# --- the load generator's HTTP client -------------------------------------------------------------


@dataclass
class Reply:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


class KeepAlive:
    """Keep-alive HTTP/1.1 connections on http.client, one per host:port, for one thread at a time (see the
    docstring: the load generator's CPU is not the platform's). No redirect is followed; a connection the
    server closed while it sat idle is reopened once; any other failure raises OSError or HTTPException."""

    TRANSPORT_ERRORS = (OSError, http.client.HTTPException)

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.connections: dict[str, http.client.HTTPConnection] = {}

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                *, host: str | None = None) -> Reply:
        """`url` is absolute; `host`, if given, is sent as the Host header instead of the URL's."""
        parts = urlsplit(url)
        netloc, path = parts.netloc, parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"host": host or netloc, **(headers or {})}
        conn = self.connections.get(netloc)
        reopen = conn is not None and conn.sock is not None  # an idle connection, which the server may have closed
        while True:
            if netloc not in self.connections:
                self.connections[netloc] = http.client.HTTPConnection(netloc, timeout=self.timeout)
            conn = self.connections[netloc]
            answered = False
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                answered = True
                return Reply(response.status, response.read())
            except BaseException as exc:
                self.drop(netloc)
                # Unanswered on a reused connection: the server's keep-alive timeout closed it; once more.
                if reopen and not answered and isinstance(exc, ConnectionError):
                    reopen = False
                    continue
                raise

    def drop(self, netloc: str) -> None:
        conn = self.connections.pop(netloc, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for netloc in list(self.connections):
            self.drop(netloc)


# --- the simulator --------------------------------------------------------------------------------


def bench_simulator():
    """The stock SandboxSimulator, recording when each callback was answered (see the docstring)."""
    from osdm.payments.simulators.base import loopback
    from osdm.payments.simulators.sandbox import SandboxSimulator

    class BenchSandbox(SandboxSimulator):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            self._server.socket.listen(1024)
            # Each callback is POSTed from a thread of its own: the connections outlive it, in this pool.
            self.idle: list[KeepAlive] = []
            self.idle_lock = threading.Lock()
            self.answered: dict[str, tuple] = {}  # pid -> (answered at, seconds, status, outcome, attempts)
            self.answered_cond = threading.Condition()

        def _post(self, callback) -> None:
            if self.callback_delay:
                time.sleep(self.callback_delay)
            url, headers = loopback(callback.url, callback.headers)
            seconds = outcome = None
            attempts = 0
            with self.idle_lock:
                client = self.idle.pop() if self.idle else KeepAlive(timeout=10)
            try:
                for attempt in range(3):  # as Simulator._post
                    attempts += 1
                    start = time.perf_counter()
                    try:
                        response = client.request("POST", url, callback.body, headers)
                        seconds = time.perf_counter() - start
                        callback.status = response.status_code
                        if response.status_code < 500:
                            outcome = response.json().get("outcome") if response.status_code == 200 else None
                            break
                    except KeepAlive.TRANSPORT_ERRORS:
                        callback.status = None
                    time.sleep(0.2 * (attempt + 1))
            finally:
                with self.idle_lock:
                    self.idle.append(client)
            pid = json.loads(callback.body)["data"]["id"]
            with self.answered_cond:
                self.answered[pid] = (time.perf_counter(), seconds, callback.status, outcome, attempts)
                self.answered_cond.notify_all()

        def wait_answered(self, pid: str, timeout: float) -> tuple | None:
            with self.answered_cond:
                self.answered_cond.wait_for(lambda: pid in self.answered, timeout=timeout)
                return self.answered.pop(pid, None)

        def stop(self) -> None:
            super().stop()
            with self.idle_lock:
                for client in self.idle:
                    client.close()

    return BenchSandbox(secret_key=SANDBOX_KEY, webhook_secret=WEBHOOK_SECRET).start()


# --- set-up through the API, in-process -------------------------------------------------------------


class InProcess:
    """django.test.Client on the tenant's host, JSON in and out."""

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client()
        self.addresses = itertools.count(1)

    def call(self, method: str, path: str, body=None, *, token: str | None = None, raw: bytes | None = None,
             headers: dict[str, str] | None = None, content_type: str = "application/json"):
        n = next(self.addresses)
        extra = {"HTTP_HOST": HOST, "REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        if method == "GET":
            return self.client.get(path, **extra)
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method.lower())(path, data, content_type=content_type, **extra)

    def ok(self, expected: int, method: str, path: str, body=None, **kwargs) -> dict:
        response = self.call(method, path, body, **kwargs)
        if response.status_code != expected:
            raise RuntimeError(f"{method} {path}: {response.status_code}, not {expected}: {response.content[:400]!r}")
        return response.json()


def set_up(api: InProcess, provisioned, sim, products: int, buyers: int) -> tuple[list[str], list[str]]:
    """Gateway, seller, products, buyers. Returns (product ids, buyer access tokens)."""
    from django.contrib.auth.hashers import make_password
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tenants.utils import schema_context

    from osdm.accounts.models import User
    from osdm.accounts.tokens import token_pair_issue
    from osdm.catalog.models import Category

    operator = provisioned.secret_key
    api.ok(200, "PUT", "/api/v1/payment-gateways/sandbox", {
        "enabled": True, "mode": "test", "base_url": sim.url,
        "credentials": {"secret_key": SANDBOX_KEY, "webhook_secret": WEBHOOK_SECRET}}, token=operator)
    api.ok(200, "PUT", "/api/v1/payment-methods/mada", {"gateway": "sandbox", "fallback_gateway": ""}, token=operator)

    seller = api.ok(201, "POST", "/api/v1/auth/register", {
        "email": "seller@bench.osdm.dev", "password": "bench-seller-password-0123", "full_name": "متجر الكتب"})
    seller_token = seller["tokens"]["access"]
    api.ok(200, "PUT", "/api/v1/me/seller-profile", {"display_name": "Bench Books", "country": "SA"},
           token=seller_token)
    schema = provisioned.tenant.schema_name
    with schema_context(schema):
        category_id = Category.objects.get(market="products", slug="tech-ebooks").pk
    product_ids = []
    for i in range(products):
        upload = api.client.post("/api/v1/files/", {"file": SimpleUploadedFile(f"guide-{i}.pdf", b"%PDF-1.4\n% bench\n"),
                                                    "purpose": "product"},
                                 HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Bearer {seller_token}")
        if upload.status_code != 201:
            raise RuntimeError(f"upload: {upload.status_code} {upload.content[:300]!r}")
        listing = api.ok(201, "POST", "/api/v1/listings/", {
            "market": "products", "category_id": category_id, "title": f"دليل التجارة الإلكترونية {i + 1}",
            "description": "A practical e-commerce guide.", "price": PRICE, "file_ids": [upload.json()["id"]],
            "publish": True}, token=seller_token)
        product_ids.append(listing["id"])

    with schema_context(schema):
        password = make_password(None)
        users = [User(email=f"buyer{i}@bench.osdm.dev", full_name=f"Buyer {i}", password=password)
                 for i in range(buyers)]
        User.objects.bulk_create(users, batch_size=1000)
        tokens = [token_pair_issue(user=u, schema_name=schema).access for u in users]
    return product_ids, tokens


# --- part 2 and 3: in-process ---------------------------------------------------------------------


@dataclass
class Prepared:
    body: bytes
    signature: str


@dataclass
class QueryCounts:
    queries: dict[str, list[int]] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    last_sql: dict[str, list[str]] = field(default_factory=dict)


def _checkout_in_process(api: InProcess, sim, listing_id: str, token: str, counts: QueryCounts | None):
    """Order and process in-process; the simulator's callback for "Pay" queued, and returned."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def step(name: str, method: str, path: str, body=None, *, expected: int, **kwargs) -> dict:
        connection.queries_log.clear()  # a full log (9000) would make the capture come out empty
        with CaptureQueriesContext(connection) as captured:
            start, cpu_start = time.perf_counter(), time.thread_time()
            response = api.call(method, path, body, **kwargs)
            elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        if response.status_code != expected:
            raise RuntimeError(f"{name}: {response.status_code}, not {expected}: {response.content[:400]!r}")
        if counts is not None:
            counts.queries.setdefault(name, []).append(len(captured.captured_queries))
            counts.times.setdefault(name, []).append(elapsed)
            counts.cpu.setdefault(name, []).append(cpu)
            sql = Counter(q["sql"].split()[0].upper() for q in captured.captured_queries)
            counts.kinds[name] = " ".join(f"{k}×{v}" for k, v in sql.most_common())
            counts.last_sql[name] = [q["sql"] for q in captured.captured_queries]
        return response.json()

    order = step("order create", "POST", "/api/v1/orders/", {"listing_id": listing_id}, token=token, expected=201)
    payment = step("process", "POST", f"/api/v1/payments/{order['payment']['id']}/process",
                   {"method": "mada", "gateway": "sandbox", "return_url": RETURN_URL}, token=token, expected=200)
    if payment["status"] != "requires_action":
        raise RuntimeError(f"process: {payment}")
    sim.complete(payment["gateway_payment_id"], "paid")
    (callback,) = sim.pending_callbacks()
    item = Prepared(callback.body, callback.headers["x-sandbox-signature"])
    if counts is not None:
        headers = {"X-Sandbox-Signature": item.signature}
        for name, outcome in (("callback", "applied"), ("callback, duplicate", "duplicate")):
            answer = step(name, "POST", CALLBACK_PATH, raw=item.body, headers=headers, expected=200)
            if answer.get("outcome") != outcome:
                raise RuntimeError(f"{name}: {answer}")
        final = step("order read", "GET", f"/api/v1/orders/{order['id']}/", token=token, expected=200)
        if final["status"] != "completed":
            raise RuntimeError(f"order not completed after its callback: {final['status']}")
    return item


def count_queries(api: InProcess, sim, product_ids: list[str], tokens, samples: int) -> QueryCounts:
    """`samples` whole checkouts in-process, counting each step's queries (callbacks delivered twice)."""
    sim.deliver_callbacks = False
    counts = QueryCounts()
    products = itertools.cycle(product_ids)
    for _ in range(samples):
        _checkout_in_process(api, sim, next(products), next(tokens), counts)
    return counts


def prepare_callbacks(api: InProcess, sim, product_ids: list[str], tokens, count: int) -> list[Prepared]:
    """`count` checkouts in-process up to the simulator's signed callback, which is kept, not delivered."""
    sim.deliver_callbacks = False
    products = itertools.cycle(product_ids)
    return [_checkout_in_process(api, sim, next(products), next(tokens), None) for _ in range(count)]


def time_callback_handle(tenant, prepared: list[Prepared], expected: str) -> list[float]:
    """callback_handle() alone, on the tenant's connection as TenantHostMiddleware leaves it."""
    from django.db import connection

    from osdm.payments import services

    times = []
    connection.set_tenant(tenant)
    try:
        for item in prepared:
            headers = {"Content-Type": "application/json", "X-Sandbox-Signature": item.signature}
            start = time.perf_counter()
            status, outcome = services.callback_handle(slug="sandbox", body=item.body, headers=headers)
            times.append(time.perf_counter() - start)
            if (status, outcome) != (200, expected):
                raise RuntimeError(f"callback_handle: {status} {outcome}, expected {expected}")
    finally:
        connection.set_schema_to_public()
    return times


def profile_callbacks(tenant, prepared: list[Prepared]) -> None:
    """cProfile over callback_handle() for first deliveries: where a callback's CPU goes."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    times = time_callback_handle(tenant, prepared, "applied")
    profiler.disable()
    print(f"\ncallback_handle() under cProfile: {len(times)} first deliveries, median {ms(times, 50)} ms "
          "(inflated by the profiler)")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    for name in ("event_publish", "escrow_hold", "order_mark_paid", "_succeed", "audit_record"):
        stats.sort_stats("cumulative").print_callees(name)


def time_test_client(api: InProcess, prepared: list[Prepared], expected: str) -> list[float]:
    times = []
    for item in prepared:
        start = time.perf_counter()
        response = api.call("POST", CALLBACK_PATH, raw=item.body, headers={"X-Sandbox-Signature": item.signature})
        times.append(time.perf_counter() - start)
        if response.status_code != 200 or response.json().get("outcome") != expected:
            raise RuntimeError(f"callback: {response.status_code} {response.content[:300]!r}")
    return times


def time_http(port: int, prepared: list[Prepared], expected: str) -> list[float]:
    times = []
    session = KeepAlive(timeout=30)  # the client the simulator POSTs its callbacks with, as in part 1
    try:
        for item in prepared:
            start = time.perf_counter()
            response = session.request("POST", f"http://127.0.0.1:{port}{CALLBACK_PATH}", item.body,
                                       {"content-type": "application/json", "x-sandbox-signature": item.signature},
                                       host=f"{HOST}:{port}")
            times.append(time.perf_counter() - start)
            if response.status_code != 200 or response.json().get("outcome") != expected:
                raise RuntimeError(f"callback over HTTP: {response.status_code} {response.text[:300]}")
    finally:
        session.close()
    return times


# --- gunicorn and CPU accounting --------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(bench_url: str) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=bench_url, DJANGO_SETTINGS_MODULE="osdm.settings", OSDM_LOG_LEVEL="WARNING",
               OSDM_BASE_DOMAIN=BASE_DOMAIN,
               PYTHONPATH=os.pathsep.join([str(_support.ROOT / "platform"), str(_support.ROOT)]
                                          + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])))
    if all(env.get(name) for name in ("SECRET_KEY", "OSDM_PLATFORM_KEY", "OSDM_FIELD_ENCRYPTION_KEYS")):
        env["OSDM_DEBUG"] = "0"  # as in production: no query log
        return env, "OSDM_DEBUG=0"
    env["OSDM_DEBUG"] = "1"  # the development secrets, which this process has too
    return env, "OSDM_DEBUG=1 (the secrets are not in the environment)"


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int, threads: int) -> None:
        import httpx

        self.port = free_port()
        self.log = os.path.join(tempfile.gettempdir(), f"bench-checkout-gunicorn-{os.getpid()}.log")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "osdm.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
                env=env, cwd=_support.ROOT, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start; its log:\n{self.log_tail()}")
            time.sleep(0.2)

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def log_tail(self, lines: int = 30) -> str:
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cpu_of(pids) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each pid still alive."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            continue
    return out


def reaped_cpu(pid: int) -> float:
    """CPU seconds of `pid`'s children that exited and were waited for (cutime + cstime)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def backend_pids() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row[0] for row in cursor.fetchall()]


def machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds spent by gunicorn, the bench database's backends and this process between start and stop."""

    def __init__(self, server: Gunicorn) -> None:
        self.server = server

    def __enter__(self) -> CpuMeter:
        self.pg_pids = set(backend_pids())
        self.g0, self.p0 = cpu_of(self.server.pids()), cpu_of(self.pg_pids)
        # Sessions that end during the level (CONN_MAX_AGE) take their CPU out of /proc/<pid>: it
        # reappears in the postmaster's reaped-children counters.
        self.postmaster = next((parent_of(pid) for pid in self.pg_pids if parent_of(pid)), None)
        self.reaped0 = reaped_cpu(self.postmaster) if self.postmaster else 0.0
        self.self0 = sum(os.times()[:2])
        self.busy0, self.total0 = machine_ticks()
        return self

    def __exit__(self, *exc) -> None:
        self.self1 = sum(os.times()[:2])
        self.busy1, self.total1 = machine_ticks()
        g1 = cpu_of(self.server.pids())
        pids = self.pg_pids | set(backend_pids())
        p1 = cpu_of(pids)
        self.gunicorn = sum(v - self.g0.get(pid, 0.0) for pid, v in g1.items())
        self.postgres = sum(v - self.p0.get(pid, 0.0) for pid, v in p1.items())
        if self.postmaster:  # the sessions that ended: their whole CPU, less what they had used before
            gone = sum(v for pid, v in self.p0.items() if pid not in p1)
            self.postgres += reaped_cpu(self.postmaster) - self.reaped0 - gone
        self.bench = self.self1 - self.self0
        self.machine_busy = (self.busy1 - self.busy0) / max(1, self.total1 - self.total0)


def ceiling(level) -> float:
    cpu = level.cpu
    spent = (cpu.gunicorn + cpu.postgres) / level.checkouts if level.checkouts else 0
    return (os.cpu_count() or 1) / spent if spent else 0.0


class LockSampler:
    """Samples pg_stat_activity for the bench database's client sessions (other than its own) every 50 ms."""

    def __init__(self, bench_url: str) -> None:
        self.url = bench_url
        self.samples = 0
        self.counts: Counter = Counter()
        self.waiting: Counter = Counter()
        self._stop = threading.Event()

    def __enter__(self) -> LockSampler:
        self._thread = threading.Thread(target=self._run, name="lock-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.05):
                rows = conn.execute(
                    "SELECT state, wait_event_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'").fetchall()
                self.samples += 1
                for state, wait_type, query in rows:
                    if state == "active":
                        self.counts["active"] += 1
                        if wait_type == "Lock":
                            self.counts["lock"] += 1
                            self.waiting[query] += 1
                    elif state == "idle in transaction":
                        self.counts["idle in transaction"] += 1

    def avg(self, key: str) -> float:
        return self.counts[key] / self.samples if self.samples else 0.0

    def top_lock_waits(self, n: int = 3) -> str:
        total = sum(self.waiting.values())
        if not total:
            return "-"
        return "; ".join(f"{q} ({c / total:.0%})" for q, c in self.waiting.most_common(n))


# --- part 1: checkouts over HTTP ---------------------------------------------------------------------


@dataclass
class Level:
    concurrency: int
    checkouts: int = 0
    seconds: float = 0.0
    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    errors: Counter = field(default_factory=Counter)
    confirm_polls: int = 0
    callback_retries: int = 0
    waits: LockSampler | None = None
    cpu: CpuMeter | None = None

    @property
    def rate(self) -> float:
        return self.checkouts / self.seconds if self.seconds else 0.0


class Driver:
    def __init__(self, port: int, sim, product_ids: list[str], tokens: list[str], bench_url: str) -> None:
        self.port, self.sim, self.bench_url = port, sim, bench_url
        self.origin, self.host = f"http://127.0.0.1:{port}", f"{HOST}:{port}"
        self.products = itertools.cycle(product_ids)
        self.tokens = itertools.cycle(tokens)
        self.lock = threading.Lock()

    def _next(self) -> tuple[str, str]:
        with self.lock:
            return next(self.tokens), next(self.products)

    def checkout(self, session: KeepAlive, level: Level) -> None:
        token, product = self._next()

        def api(method: str, path: str, body: dict | None = None) -> Reply:
            headers = {"authorization": f"Bearer {token}"}
            if body is not None:
                headers["content-type"] = "application/json"
            data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
            return session.request(method, self.origin + path, data, headers, host=self.host)

        t0 = time.perf_counter()
        response = api("POST", "/api/v1/orders/", {"listing_id": product})
        t1 = time.perf_counter()
        if response.status_code != 201:
            raise StepFailed(f"order {response.status_code}", response.text)
        order = response.json()
        response = api("POST", f"/api/v1/payments/{order['payment']['id']}/process",
                       {"method": "mada", "gateway": "sandbox", "return_url": RETURN_URL})
        t2 = time.perf_counter()
        if response.status_code != 200 or response.json()["status"] != "requires_action":
            raise StepFailed(f"process {response.status_code}", response.text)
        payment = response.json()
        # The browser's "Pay" button: a form POST to the simulator, whose 303 is not followed.
        response = session.request("POST", payment["next_action"]["url"], urlencode({"outcome": "paid"}).encode(),
                                {"content-type": "application/x-www-form-urlencoded"})
        t3 = time.perf_counter()
        if response.status_code != 303:
            raise StepFailed(f"pay {response.status_code}", response.text)
        answered = self.sim.wait_answered(payment["gateway_payment_id"], timeout=30)
        if answered is None:
            raise StepFailed("callback not answered in 30 s", "")
        t4, callback_seconds, callback_status, outcome, attempts = answered
        if attempts > 1:
            with self.lock:
                level.callback_retries += 1  # the first attempt timed out (10 s) or failed; the order check decides
        elif callback_status != 200 or outcome != "applied":
            raise StepFailed(f"callback {callback_status} {outcome}", "")
        polls = 0
        while True:
            response = api("GET", f"/api/v1/orders/{order['id']}/")
            if response.status_code != 200:
                raise StepFailed(f"confirm {response.status_code}", response.text)
            if response.json()["status"] == "completed":
                break
            polls += 1
            if polls > 100:
                raise StepFailed(f"order still {response.json()['status']}", "")
            time.sleep(0.01)
        t5 = time.perf_counter()
        with self.lock:
            for name, value in (("order", t1 - t0), ("process", t2 - t1), ("pay", t3 - t2),
                                ("callback wait", max(0.0, t4 - t3)), ("callback HTTP", callback_seconds),
                                ("confirm", t5 - max(t4, t3)), ("total", t5 - t0)):
                level.steps[name].append(value)
            level.checkouts += 1
            level.confirm_polls += polls

    def run(self, concurrency: int, duration: float, max_checkouts: int, server: Gunicorn | None = None) -> Level:
        level = Level(concurrency)
        started = itertools.count()
        deadline = time.perf_counter() + duration
        last_end = [0.0]

        def client() -> None:
            session = KeepAlive(timeout=60)
            try:
                while time.perf_counter() < deadline and next(started) < max_checkouts:
                    try:
                        self.checkout(session, level)
                    except StepFailed as exc:
                        with self.lock:
                            level.errors[exc.args[0]] += 1
                            if sum(level.errors.values()) == 1:
                                print(f"    first failure: {exc.args[0]}: {exc.args[1][:300]}", flush=True)
                    except KeepAlive.TRANSPORT_ERRORS as exc:
                        with self.lock:
                            level.errors[type(exc).__name__] += 1
                    end = time.perf_counter()
                    with self.lock:
                        last_end[0] = max(last_end[0], end)
            finally:
                session.close()

        threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(concurrency)]
        meter = CpuMeter(server) if server else None
        waits = LockSampler(self.bench_url)
        if meter:
            meter.__enter__()
        start = time.perf_counter()
        with waits:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if meter:
            meter.__exit__(None, None, None)
        level.seconds = last_end[0] - start
        level.cpu, level.waits = meter, waits
        return level


class StepFailed(Exception):
    pass


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients per run (default 1,8,32)")
    parser.add_argument("--duration", type=float, default=30, help="seconds per level (default 30)")
    parser.add_argument("--max-checkouts", type=int, default=2000, help="checkouts per level at most (2000)")
    parser.add_argument("--callbacks", type=int, default=200, help="distinct callbacks per timing way (200)")
    parser.add_argument("--query-samples", type=int, default=20, help="checkouts whose queries are counted (20)")
    parser.add_argument("--buyers", type=int, default=2000, help="buyers, used in turn (default 2000)")
    parser.add_argument("--products", type=int, default=1, help="published products, ordered in turn (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (default 8)")
    parser.add_argument("--show-queries", action="store_true",
                        help="only print every statement of one counted checkout's steps, and stop")
    parser.add_argument("--profile-checkouts", type=int, default=0, metavar="N",
                        help="only profile N whole checkouts in-process (django.test.Client) with cProfile, and stop")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="only profile callback_handle() over N first deliveries with cProfile, and stop")
    args = parser.parse_args()
    os.environ["OSDM_BASE_DOMAIN"] = BASE_DOMAIN  # before django.setup(), in bench_database()
    _support.BENCH_DB = BENCH_DB  # read by bench_database() when called
    with _support.bench_database() as bench_url:
        run(args, bench_url)


def run(args, bench_url: str) -> None:
    from django.conf import settings

    from tenants import sample_data, services

    levels = [int(n) for n in args.levels.split(",")]
    env, debug_mode = server_env(bench_url)
    print(_support.environment())
    print("Load average (1, 5, 15 min) at start: {:.1f} {:.1f} {:.1f} (other programs share the CPUs)".format(
        *os.getloadavg()))
    settings.OSDM_SPARE_POOL_SIZE = 0
    # The in-process parts run as production does: no query log (CaptureQueriesContext forces its own).
    settings.DEBUG = False
    services._schedule_pool_refill = lambda: None  # no spare-pool task queued from the bench

    start = time.perf_counter()
    provisioned = services.tenant_create(slug=SLUG, name="Bench checkout")
    sample_data.categories(tenant=provisioned.tenant)
    sim = bench_simulator()
    server = None
    try:
        api = InProcess()
        product_ids, tokens = set_up(api, provisioned, sim, args.products, args.buyers)
        token_cycle = itertools.cycle(tokens)
        print(f"Set-up: tenant {SLUG!r}, sandbox gateway at {sim.url}, {args.products} product(s), "
              f"{args.buyers} buyers, in {time.perf_counter() - start:.1f} s")

        # --- parts 2 and 3, in-process (first deliveries) ----------------------------------------
        start = time.perf_counter()
        counts = count_queries(api, sim, product_ids, token_cycle, args.query_samples)
        sets = [prepare_callbacks(api, sim, product_ids, token_cycle, args.callbacks) for _ in range(3)]
        print(f"Prepared {args.query_samples} counted checkouts and 3 × {args.callbacks} distinct signed callbacks "
              f"in-process in {time.perf_counter() - start:.1f} s")
        if args.show_queries:
            for name, statements in counts.last_sql.items():
                print(f"\n{name}: {len(statements)} statements")
                for sql in statements:
                    print("   ", sql[:220])
            return
        if args.profile_checkouts:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            count_queries(api, sim, product_ids, token_cycle, args.profile_checkouts)
            profiler.disable()
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)
            return
        if args.profile:
            profile_callbacks(provisioned.tenant, prepare_callbacks(api, sim, product_ids, token_cycle, args.profile))
            return
        handle_first = time_callback_handle(provisioned.tenant, sets[0], "applied")
        handle_dup = time_callback_handle(provisioned.tenant, sets[0], "duplicate")
        client_first = time_test_client(api, sets[1], "applied")
        client_dup = time_test_client(api, sets[1], "duplicate")

        # --- part 1, and 2c, over HTTP --------------------------------------------------------------
        sim.deliver_callbacks = True
        server = Gunicorn(env, args.workers, args.threads)
        print(f"gunicorn on 127.0.0.1:{server.port}: {args.workers} workers × {args.threads} threads, {debug_mode}")
        driver = Driver(server.port, sim, product_ids, tokens, bench_url)
        warm = driver.run(max(levels), duration=30, max_checkouts=4 * max(levels) + 20)
        print(f"Warm-up: {warm.checkouts} checkouts, {sum(warm.errors.values())} errors {dict(warm.errors) or ''}", flush=True)
        if not warm.checkouts or sum(warm.errors.values()) > warm.checkouts / 10:
            raise RuntimeError(f"the warm-up failed ({dict(warm.errors)}); gunicorn's log:\n{server.log_tail(40)}")
        http_first = time_http(server.port, sets[2], "applied")
        http_dup = time_http(server.port, sets[2], "duplicate")
        results = []
        for concurrency in levels:
            level = driver.run(concurrency, args.duration, args.max_checkouts, server)
            results.append(level)
            print(f"  {concurrency:>3} clients: {level.checkouts} checkouts in {level.seconds:.1f} s = "
                  f"{level.rate:.1f}/s, {sum(level.errors.values())} errors", flush=True)
    finally:
        if server:
            server.stop()
        sim.stop()
    if any(level.errors for level in results):
        print(f"gunicorn's log (warnings and errors): {server.log}")
    else:
        os.unlink(server.log)

    report(args, results, counts, {
        "a. callback_handle() in-process": (handle_first, handle_dup),
        "b. django.test.Client, whole stack": (client_first, client_dup),
        "c. HTTP to gunicorn, one at a time": (http_first, http_dup),
    })


def report(args, results: list[Level], counts: QueryCounts, callback_ways) -> None:
    print("\n1. Complete checkouts over HTTP (order → process → pay → signed callback → order completed)")
    rows = []
    for lv in results:
        cpu, n = lv.cpu, lv.checkouts

        def per(seconds: float, n: int = n) -> str:
            return f"{seconds / n * 1000:.1f}" if n else "-"

        total = lv.steps["total"]
        rows.append([str(lv.concurrency), str(lv.checkouts), f"{lv.seconds:.1f}", f"{lv.rate:.1f}",
                     str(sum(lv.errors.values())), ms(total, 50), ms(total, 95),
                     per(cpu.gunicorn), per(cpu.postgres), per(cpu.bench),
                     per(cpu.gunicorn + cpu.postgres + cpu.bench), f"{cpu.machine_busy * 100:.0f}%"])
    print(_support.table(["clients", "checkouts", "seconds", "checkouts/s", "errors", "total p50 ms",
                          "total p95 ms", "CPU ms/co gunicorn", "postgres", "bench+sim", "sum",
                          "machine busy"], rows))
    errors = Counter()
    for lv in results:
        errors.update(lv.errors)
    if errors:
        print("Errors: " + ", ".join(f"{k}: {v}" for k, v in errors.most_common()))
    polls = sum(lv.confirm_polls for lv in results)
    retries = sum(lv.callback_retries for lv in results)
    print(f"Order reads that did not yet say completed after the callback's answer: {polls}; callbacks the "
          f"simulator had to send again (first attempt failed or timed out after 10 s): {retries}")
    print("CPU ceiling: checkouts/s if gunicorn and PostgreSQL had every core to themselves at the CPU per "
          "checkout measured (the bench and simulator excluded): "
          + ", ".join(f"{lv.concurrency} clients {ceiling(lv):.0f}/s" for lv in results))

    print("\nPostgreSQL sessions of the bench database while the checkouts ran (pg_stat_activity every 50 ms, "
          "averages):")
    rows = []
    for lv in results:
        w = lv.waits
        rows.append([str(lv.concurrency), f"{w.avg('active'):.1f}", f"{w.avg('lock'):.1f}",
                     f"{w.avg('idle in transaction'):.1f}", w.top_lock_waits()])
    print(_support.table(["clients", "running a statement", "of which waiting for a lock",
                          "idle in transaction", "statements waiting for a lock (share of lock-wait samples)"],
                         rows))

    print("\nPer step, ms (median / p95):")
    headers = ["step"] + [f"{lv.concurrency} clients" for lv in results]
    rows = [[step] + [f"{ms(lv.steps[step], 50)} / {ms(lv.steps[step], 95)}" for lv in results] for step in STEPS]
    print(_support.table(headers, rows))
    print("(callback wait: from the pay response until the simulator had the platform's answer to its callback;\n"
          " callback HTTP: that POST's round trip alone, timed by the simulator; confirm: the order read after it)")

    print(f"\n2. Callback handler latency, ms ({args.callbacks} distinct signed callbacks per way; "
          "then the same again as duplicates)")
    rows = []
    for label, (first, dup) in callback_ways.items():
        for kind, values in (("first delivery", first), ("duplicate", dup)):
            rows.append([f"{label}, {kind}", str(len(values)), ms(values, 50), ms(values, 95), ms(values, 99),
                         ms(values, 100)])
    for lv in results:
        values = lv.steps["callback HTTP"]
        rows.append([f"d. HTTP under load, {lv.concurrency} clients, first delivery", str(len(values)),
                     ms(values, 50), ms(values, 95), ms(values, 99), ms(values, 100)])
    print(_support.table(["way", "n", "p50", "p95", "p99", "max"], rows))

    print(f"\n3. SQL queries per step (in-process, django.test.Client, {args.query_samples} checkouts; CPU is this "
          "thread's, i.e. Django's side without PostgreSQL's)")
    rows = []
    for name, values in counts.queries.items():
        rows.append([name, f"{statistics.median(values):g}", f"{min(values)}–{max(values)}",
                     f"{statistics.median(counts.times[name]) * 1000:.1f}",
                     f"{statistics.median(counts.cpu[name]) * 1000:.1f}", counts.kinds[name]])
    print(_support.table(["step", "queries", "range", "wall ms (median)", "CPU ms (median)",
                          "statements (last sample)"], rows))

    best = max(results, key=lambda lv: lv.rate)
    http_first = callback_ways["c. HTTP to gunicorn, one at a time"][0]
    handle_first = callback_ways["a. callback_handle() in-process"][0]
    p95_http = pct(http_first, 95) * 1000
    print("\nLoad average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print(f"\nTargets: >= {TARGET_RATE:g} checkouts/s; callback p95 < {TARGET_P95_MS:g} ms")
    print(f"  checkouts/s: best {best.rate:.1f} at {best.concurrency} clients: "
          f"{'met' if best.rate >= TARGET_RATE else 'NOT met'}")
    print(f"  callback p95 over HTTP, first deliveries, one at a time: {p95_http:.1f} ms: "
          f"{'met' if p95_http < TARGET_P95_MS else 'NOT met'} "
          f"(callback_handle() alone: {pct(handle_first, 95) * 1000:.1f} ms)")
    for lv in results:
        p95_load = pct(lv.steps["callback HTTP"], 95) * 1000 if lv.steps["callback HTTP"] else float("nan")
        print(f"  callback p95 over HTTP under load, {lv.concurrency} clients: {p95_load:.1f} ms: "
              f"{'met' if p95_load < TARGET_P95_MS else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Webhook delivery: deliveries per second per worker process, and commit-to-receipt latency.

Everything real: events are published with `webhooks.services.event_publish` in committed
transactions (which ring the delivery doorbell on commit: a `webhooks.deliveries_drain` task unless one
is queued already; a drain takes up to 20 due deliveries), a real Celery
worker process (started like the suite's WorkerProcess) delivers them, and a real HTTP receiver on
127.0.0.1 records each request's arrival time (time.time(), the same clock as the bench's commit
stamps) and its `webhook-id`, and answers 200 at once.

  receiver   The receiver runs in a process of its own (this file with `--receiver`): a raw asyncio
             HTTP/1.1 server. Its capacity alone is measured first, next to a plain threaded
             http.server (what tests/receiver.py is), so the receiver is known not to be the limit.
  worker     ONE worker process per configuration (--pools): the threads pool at a concurrency (one
             process), and the prefork pool with --concurrency 1 (a parent that consumes plus one
             child that runs tasks: two processes). Per-process figures divide by the processes.
  live       --events events published in transactions of --batch (by 4 publisher threads, so the
             bench's publishing keeps ahead of the worker) while the worker consumes; from the first
             commit until the receiver has them all.
  backlog    the same number queued while the worker's consumer is cancelled, then the consumer is
             added back: from then until the receiver has them all. The worker alone, without the
             publisher competing for the CPU.
  latency    events published one per transaction at a fixed rate (--rates, for --duration s each;
             the same 4 threads share the schedule): commit (an on_commit hook registered before
             event_publish's own, so it runs right after COMMIT) to arrival at the receiver. Median,
             p95, p99, max; "achieved" is the rate the commits really came at.

Every run checks that each event arrived exactly once (by webhook-id), that every Delivery row ended
`succeeded` with exactly one DeliveryAttempt. The worker's CPU time (user + system of its processes,
from /proc) per delivery is printed too: on a machine shared with PostgreSQL, the receiver, the
publishers and whatever else runs, it says what one process could do with a core to itself
(1000 / CPU ms). PostgreSQL's own counters (pg_stat_database: sessions and commits in the bench
database) give connections and transactions per delivery in backlog runs. Last, in this process, the
statements one `delivery_attempt` makes (CaptureQueriesContext). The load average is printed at the
start and the end: other work on the machine shows in every wall-clock figure.

The broker is a Redis database of its own (12, flushed at start; `make run` uses 0, the suite 14, the
other benchmarks' cache 13), so a running `make run` worker cannot take these tasks. Everything is in
the throwaway database `osdm_bench` (see bench/_support.py). The worker runs with OSDM_DEBUG=0 (as in
production) and OSDM_WEBHOOKS_ALLOW_HTTP/ALLOW_PRIVATE=1, when the secrets are in the environment.

Run:  .venv/bin/python scripts/devenv.py bench webhooks
  or: eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"; export OSDM_DEBUG=1
      .venv/bin/python bench/webhooks.py [--events 3000] [--pools threads:16,threads:32,prefork:1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import _support

BROKER_DB = "12"
EVENT_TYPE = "user.created"
TARGET_RATE = 300.0  # deliveries/s per worker process
TARGET_P99 = 1.0  # seconds, commit to receipt


# --- the receiver (a process of its own) -------------------------------------------------------


def receiver_main(kind: str) -> None:
    """Serve on 127.0.0.1 (port printed on stdout) until stdin closes. POSTs are recorded as
    (time.time(), webhook-id) and answered 200; GET /_count, GET /_dump and POST /_reset control it."""
    records: list[tuple[float, str]] = []
    lock = threading.Lock()

    def control(path: str) -> bytes | None:
        if path == "/_count":
            return str(len(records)).encode()
        if path == "/_dump":
            with lock:
                return json.dumps(records).encode()
        if path == "/_reset":
            with lock:
                records.clear()
            return b"ok"
        return None

    def record(hook_id: str) -> None:
        with lock:
            records.append((time.time(), hook_id))

    if kind == "threaded":
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer(control(self.path) or b"")

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                answer = control(self.path)
                if answer is None:
                    record(self.headers.get("webhook-id", ""))
                self._answer(answer or b"")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], flush=True)
        sys.stdin.read()
        return

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.buffer = b""

        def data_received(self, data):
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                lines = self.buffer[:end].split(b"\r\n")
                length, hook_id = 0, ""
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"webhook-id":
                        hook_id = value.strip().decode()
                total = end + 4 + length
                if len(self.buffer) < total:
                    return
                self.buffer = self.buffer[total:]
                path = lines[0].split(b" ")[1].decode()
                answer = control(path)
                if answer is None:
                    records.append((time.time(), hook_id))  # one thread: no lock needed
                    answer = b""
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(answer), answer))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Protocol, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # until the bench closes our stdin
        server.close()

    asyncio.run(serve())


class ReceiverProcess:
    def __init__(self, kind: str) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--receiver", kind],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/hooks/bench"
        import httpx

        self._control = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", trust_env=False, timeout=30)

    def count(self) -> int:
        return int(self._control.get("/_count").text)

    def dump(self) -> list[tuple[float, str]]:
        return [tuple(r) for r in self._control.get("/_dump").json()]

    def reset(self) -> None:
        self._control.post("/_reset")

    def wait(self, count: int, stall: float = 30.0) -> bool:
        """Until `count` requests have arrived; False if none arrived for `stall` seconds."""
        seen, progress_at = -1, time.monotonic()
        while (now_seen := self.count()) < count:
            if now_seen != seen:
                seen, progress_at = now_seen, time.monotonic()
            elif time.monotonic() - progress_at > stall:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        self._control.close()
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def receiver_capacity(kind: str, connections: int, seconds: float) -> float:
    """Requests/s the receiver answers alone: `connections` keep-alive connections from a raw asyncio
    client in this process, each sending a delivery-sized POST and waiting for the answer."""
    body = json.dumps({"id": "evt_" + "0" * 32, "type": EVENT_TYPE, "version": 1, "sequence": 1,
                       "timestamp": "2026-11-27T09:30:00.123456Z", "data": _event_data()}).encode()
    request = (b"POST /hooks/capacity HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
               b"user-agent: OSDM-Webhooks/1.0\r\nwebhook-id: evt_capacity\r\nwebhook-timestamp: 1795755600\r\n"
               b"webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=\r\n"
               b"content-length: %d\r\n\r\n" % len(body)) + body
    length_re = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
    receiver = ReceiverProcess(kind)

    async def hammer() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def one() -> int:
            reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
            done = 0
            while loop.time() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(length_re.search(head).group(1))
                if length:
                    await reader.readexactly(length)
                done += 1
            writer.close()
            return done

        start = loop.time()
        counts = await asyncio.gather(*(one() for _ in range(connections)))
        return sum(counts), loop.time() - start

    try:
        done, elapsed = asyncio.run(hammer())
        if receiver.count() != done:
            raise RuntimeError(f"{kind} receiver recorded {receiver.count()} of {done} requests")
    finally:
        receiver.close()
    return done / elapsed


# --- the worker --------------------------------------------------------------------------------


class WorkerProcess:
    """One Celery worker process on the bench database and broker (like tests/conftest.py's)."""

    def __init__(self, env: dict[str, str], pool: str, concurrency: int) -> None:
        self.env, self.pool, self.concurrency = env, pool, concurrency
        self.name = f"bench-webhooks-{os.getpid()}-{pool}-{concurrency}@localhost"
        self.log = Path(tempfile.gettempdir()) / f"bench-webhooks-worker-{os.getpid()}-{pool}-{concurrency}.log"
        self.process: subprocess.Popen | None = None

    @property
    def processes(self) -> int:
        """OS processes: a threads worker is one; prefork is the parent plus its children."""
        return 1 if self.pool in ("threads", "solo") else 1 + self.concurrency

    @property
    def label(self) -> str:
        return f"{self.pool} -c {self.concurrency}"

    def start(self) -> None:
        from osdm.celery import app

        with open(self.log, "wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "osdm", "worker", "--pool", self.pool,
                 "--concurrency", str(self.concurrency), "--without-mingle", "--without-gossip",
                 "-n", self.name, "-l", "warning"],
                env=self.env, cwd=_support.ROOT, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Celery worker did not start; its log:\n{self.log_tail()}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU the worker's processes (the parent and any pool children) have used so
        far, from /proc (None where there is no /proc)."""
        try:
            ticks = os.sysconf("SC_CLK_TCK")
            pids = [self.process.pid]
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/stat") as f:
                            if int(f.read().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                                pids.append(int(entry))
                    except (OSError, IndexError, ValueError):
                        continue
            total = 0
            for pid in pids:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / ticks
        except OSError:
            return None

    def consume(self, on: bool) -> None:
        from osdm.celery import app

        queue = app.conf.task_default_queue
        call = app.control.add_consumer if on else app.control.cancel_consumer
        if not call(queue, destination=[self.name], reply=True, timeout=10):
            raise RuntimeError(f"the worker did not answer {call.__name__}")

    def log_tail(self, lines: int = 30) -> str:
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def worker_env(bench_url: str, broker_url: str) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=bench_url, CELERY_BROKER_URL=broker_url, DJANGO_SETTINGS_MODULE="osdm.settings",
               OSDM_WEBHOOKS_ALLOW_HTTP="1", OSDM_WEBHOOKS_ALLOW_PRIVATE="1", OSDM_LOG_LEVEL="WARNING",
               PYTHONPATH=os.pathsep.join([str(_support.ROOT / "platform"), str(_support.ROOT)]
                                          + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])))
    if all(env.get(name) for name in ("SECRET_KEY", "OSDM_PLATFORM_KEY", "OSDM_FIELD_ENCRYPTION_KEYS")):
        env["OSDM_DEBUG"] = "0"  # as in production: no query log, no DEBUG warning
        return env, "OSDM_DEBUG=0"
    env["OSDM_DEBUG"] = "1"  # the development secrets, as the bench process has them
    return env, "OSDM_DEBUG=1 (the secrets are not in the environment)"


# --- publishing and checking -------------------------------------------------------------------


def _event_data() -> dict:
    return {"id": str(uuid.uuid4()), "email": f"b-{uuid.uuid4().hex[:12]}@example.com",
            "full_name": "سارة الحربي", "locale": "ar", "is_seller": False, "created_at": "2026-11-27T09:30:00Z"}


def publish(count: int) -> tuple[list[str], float]:
    """`count` events in one transaction; returns their ids and the time right after COMMIT (an
    on_commit hook registered before event_publish's, so it runs before the tasks are queued)."""
    from django.db import transaction

    from webhooks.services import event_publish

    stamp: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: stamp.append(time.time()))
        ids = [event_publish(event_type=EVENT_TYPE, data=_event_data()).id for _ in range(count)]
    return ids, stamp[0]


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the value q % of the samples are at or below."""
    ordered = sorted(values)
    rank = max(1, -(-int(q * 100) * len(ordered) // 10000))  # ceil(q/100 * n), q with two decimals
    return ordered[rank - 1]


def check(ids: list[str], records: list[tuple[float, str]], *, timeout: float = 60) -> str:
    """'ok', or what is wrong: every id received exactly once, nothing else received, every Delivery
    succeeded with one attempt (waits for the worker to record the outcome after the POST)."""
    from webhooks.models import Delivery, DeliveryAttempt

    problems = []
    seen = Counter(hook_id for _, hook_id in records)
    wanted = set(ids)
    if missing := len(wanted - set(seen)):
        problems.append(f"{missing} missing")
    if twice := sum(1 for hook_id, n in seen.items() if n > 1):
        problems.append(f"{twice} received more than once")
    if stray := len(set(seen) - wanted):
        problems.append(f"{stray} unexpected ids")
    deliveries = Delivery.objects.filter(event__id__in=ids)
    deadline = time.monotonic() + timeout
    while deliveries.exclude(status=Delivery.Status.SUCCEEDED).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if (total := deliveries.count()) != len(ids):
        problems.append(f"{total} delivery rows for {len(ids)} events")
    if not_ok := deliveries.exclude(status=Delivery.Status.SUCCEEDED).count():
        problems.append(f"{not_ok} deliveries not succeeded")
    if (attempts := DeliveryAttempt.objects.filter(delivery__event__id__in=ids).count()) != len(ids):
        problems.append(f"{attempts} attempts for {len(ids)} deliveries")
    return "; ".join(problems) or "ok"


def pg_counters() -> tuple[int, int]:
    """(sessions, commits) of the bench database so far, from PostgreSQL's statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()


# --- the runs ----------------------------------------------------------------------------------


class Incomplete(RuntimeError):
    """A run whose deliveries did not all arrive: what is left in the queue would spoil the next runs."""


@dataclass
class Throughput:
    mode: str
    events: int
    publish_s: float
    seconds: float
    check: str
    cpu_ms: float | None  # worker CPU (all its processes) per delivery
    sessions: float | None = None
    commits: float | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _wait_all(receiver: ReceiverProcess, worker: WorkerProcess, count: int) -> list[tuple[float, str]]:
    if not receiver.wait(count):
        raise Incomplete(f"only {receiver.count()} of {count} deliveries arrived, none for 30 s; worker log:\n"
                         f"{worker.log_tail()}")
    return receiver.dump()


def _per_delivery(before: float | None, after: float | None, count: int) -> float | None:
    return None if before is None or after is None else (after - before) * 1000 / count


PUBLISHERS = 4


def in_publishers(count: int, job) -> None:
    """job(i) for every i in range(count), spread over PUBLISHERS threads, each in the current schema
    with a database connection of its own: one slow commit does not hold up the others, and the
    publishing keeps ahead of the worker on a busy machine."""
    from django.db import connection
    from django_tenants.utils import schema_context

    schema, errors = connection.schema_name, []

    def loop(first: int) -> None:
        try:
            with schema_context(schema):
                for i in range(first, count, PUBLISHERS):
                    job(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(PUBLISHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def publish_batches(events: int, batch: int) -> tuple[list[str], float, float]:
    """`events` events in transactions of `batch`; (ids, first commit time, seconds it took)."""
    batches: list[tuple[list[str], float]] = [([], 0.0)] * -(-events // batch)

    def job(i: int) -> None:
        batches[i] = publish(min(batch, events - i * batch))

    started = time.perf_counter()
    in_publishers(len(batches), job)
    return [i for ids, _ in batches for i in ids], min(at for _, at in batches), time.perf_counter() - started


def run_live(receiver: ReceiverProcess, worker: WorkerProcess, events: int, batch: int) -> Throughput:
    receiver.reset()
    cpu0 = worker.cpu_seconds()
    ids, first_commit, publish_s = publish_batches(events, batch)
    records = _wait_all(receiver, worker, events)
    last = max(at for at, _ in records)
    verdict = check(ids, records)
    return Throughput("live", events, publish_s, last - first_commit, verdict,
                      _per_delivery(cpu0, worker.cpu_seconds(), events))


def run_backlog(receiver: ReceiverProcess, worker: WorkerProcess, events: int, batch: int) -> Throughput:
    receiver.reset()
    worker.consume(False)
    ids, _, publish_s = publish_batches(events, batch)
    time.sleep(1.5)  # PostgreSQL flushes its statistics at most once a second
    sessions0, commits0 = pg_counters()
    cpu0 = worker.cpu_seconds()
    t0 = time.time()
    worker.consume(True)
    records = _wait_all(receiver, worker, events)
    last = max(at for at, _ in records)
    time.sleep(1.5)
    cpu1 = worker.cpu_seconds()
    sessions1, commits1 = pg_counters()
    return Throughput("backlog", events, publish_s, last - t0, check(ids, records), _per_delivery(cpu0, cpu1, events),
                      (sessions1 - sessions0) / events, (commits1 - commits0) / events)


@dataclass
class Latency:
    rate: float
    achieved: float
    latencies: list[float]
    check: str


def run_latency(receiver: ReceiverProcess, worker: WorkerProcess, rate: float, duration: float) -> Latency:
    """One event per transaction, the i-th due at start + i/rate (the PUBLISHERS threads share the
    schedule)."""
    receiver.reset()
    count = int(rate * duration)
    committed: dict[str, float] = {}
    start = time.perf_counter() + 0.1

    def job(i: int) -> None:
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        (event_id,), committed_at = publish(1)
        committed[event_id] = committed_at

    in_publishers(count, job)
    stamps = sorted(committed.values())
    achieved = (count - 1) / (stamps[-1] - stamps[0])
    records = _wait_all(receiver, worker, count)
    first_arrival: dict[str, float] = {}
    for at, hook_id in records:
        first_arrival.setdefault(hook_id, at)
    latencies = [first_arrival[i] - committed[i] for i in committed if i in first_arrival]
    return Latency(rate, achieved, latencies, check(list(committed), records))


def queries_per_attempt(endpoint, samples: int = 20) -> tuple[float, float, list[str]]:
    """In this process: the queries and wall time of one `delivery_attempt` (the task's body, without
    Celery's per-task work), median over `samples` fresh deliveries. Returns (queries, ms, SQL kinds)."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webhooks.models import Delivery, Event
    from webhooks.services import delivery_attempt

    counts, times, kinds = [], [], []
    for _ in range(samples):
        event = Event.objects.create(type=EVENT_TYPE, version=1, data=_event_data())
        delivery = Delivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=event.created_at)
        with CaptureQueriesContext(connection) as captured:
            elapsed, result = _support.timed(delivery_attempt, delivery_id=delivery.pk)
        if result is None or result.status != Delivery.Status.SUCCEEDED:
            raise RuntimeError(f"in-process attempt did not succeed: {result}")
        counts.append(len(captured.captured_queries))
        times.append(elapsed * 1000)
        kinds = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    return statistics.median(counts), statistics.median(times), kinds


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


@contextmanager
def broker(url: str):
    """The bench's own Redis database as the broker, empty before and after."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=3000, help="events per throughput run (default 3000)")
    parser.add_argument("--batch", type=int, default=100, help="events per transaction when publishing (100)")
    parser.add_argument("--pools", default="threads:16,threads:32,prefork:1",
                        help="worker configurations, pool:concurrency (default threads:16,threads:32,prefork:1)")
    parser.add_argument("--rates", default="100,200", help="steady publishing rates, events/s (default 100,200)")
    parser.add_argument("--duration", type=float, default=12, help="seconds per steady rate (default 12)")
    parser.add_argument("--receiver", choices=["asyncio", "threaded"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        receiver_main(args.receiver)
        return
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        sys.exit("REDIS_URL is not set: run `make bench`, or first "
                 "eval \"$(.venv/bin/python scripts/devenv.py env 2>/dev/null)\"")
    # Read by Celery itself (it wins over the settings), in this process and in the worker.
    os.environ["CELERY_BROKER_URL"] = redis_url.rsplit("/", 1)[0] + "/" + BROKER_DB
    pools = [(pool, int(n)) for pool, n in (item.split(":") for item in args.pools.split(","))]
    rates = [float(r) for r in args.rates.split(",")]

    print("Receiver alone (16 keep-alive connections, 2 s, a raw asyncio client in the bench process):")
    capacity = {kind: receiver_capacity(kind, 16, 2.0) for kind in ("threaded", "asyncio")}
    print(f"  http.server (ThreadingHTTPServer) {capacity['threaded']:7.0f} requests/s")
    print(f"  raw asyncio (used below)          {capacity['asyncio']:7.0f} requests/s")

    with _support.bench_database() as bench_url:
        run(args, bench_url, pools, rates)


def measure(worker: WorkerProcess, receiver: ReceiverProcess, args, rates: list[float],
            throughput_rows: list, latency_rows: list) -> tuple[str, float, float, bool]:
    """Every run on one worker: adds table rows, returns (label, best rate per process, worst p99, all ok)."""
    receiver.reset()
    ids, _ = publish(50)  # warm-up: imports, connections, first requests
    if check(ids, _wait_all(receiver, worker, 50)) != "ok":
        raise Incomplete(f"warm-up failed; worker log:\n{worker.log_tail()}")
    results = []
    for run_one in (run_live, run_backlog):
        r = run_one(receiver, worker, args.events, args.batch)
        results.append(r)
        throughput_rows.append([
            worker.label, str(worker.processes), r.mode, str(r.events), f"{r.publish_s:.1f}", f"{r.seconds:.2f}",
            f"{r.rate:.0f}", f"{r.rate / worker.processes:.0f}", "-" if r.cpu_ms is None else f"{r.cpu_ms:.1f}",
            "-" if r.sessions is None else f"{r.sessions:.2f}", "-" if r.commits is None else f"{r.commits:.2f}",
            r.check])
        print(f"  {worker.label}, {r.mode}: {r.rate:.0f} deliveries/s ({r.check})", flush=True)
    lats = []
    for rate in rates:
        lat = run_latency(receiver, worker, rate, args.duration)
        lats.append(lat)
        ms = [x * 1000 for x in lat.latencies]
        latency_rows.append([
            worker.label, f"{lat.rate:g}", f"{lat.achieved:.0f}", str(len(ms)), f"{percentile(ms, 50):.0f}",
            f"{percentile(ms, 95):.0f}", f"{percentile(ms, 99):.0f}", f"{max(ms):.0f}", lat.check])
        print(f"  {worker.label}, {rate:g}/s: p99 {percentile(ms, 99):.0f} ms ({lat.check})", flush=True)
    best = max(r.rate for r in results) / worker.processes
    worst_p99 = max(percentile(lat.latencies, 99) for lat in lats)
    ok = all(r.check == "ok" for r in results) and all(lat.check == "ok" for lat in lats)
    return worker.label, best, worst_p99, ok


def run(args, bench_url: str, pools: list[tuple[str, int]], rates: list[float]) -> None:
    from osdm.audit.services import Actor
    from osdm.celery import app
    from tenants import services as tenant_services
    from webhooks.services import endpoint_create

    tenant_services._schedule_pool_refill = lambda: None  # no spare-pool task on the bench broker
    broker_url = os.environ["CELERY_BROKER_URL"]
    if app.connection().as_uri(include_password=False).rsplit("/", 1)[-1] != BROKER_DB:
        raise RuntimeError(f"Celery is not on broker database {BROKER_DB}: {app.connection().as_uri()}")
    env, worker_mode = worker_env(bench_url, broker_url)
    print(f"\n{_support.environment()}; load average {_load()} at the start")
    print(f"Broker: Redis db {BROKER_DB}; worker {worker_mode}; {args.events} events per throughput run "
          f"in transactions of {args.batch}; steady rates {', '.join(f'{r:g}/s' for r in rates)} for "
          f"{args.duration:g} s each\n")

    receiver = ReceiverProcess("asyncio")
    tenant = tenant_services.tenant_create(slug="hooks", name="Bench Webhooks").tenant
    throughput_rows, latency_rows, verdicts = [], [], []
    try:
        with tenant_services.tenant_run(tenant), broker(broker_url) as broker_client:
            endpoint = endpoint_create(actor=Actor.system("bench"), url=receiver.url, event_types=[EVENT_TYPE])
            for pool, concurrency in pools:
                worker = WorkerProcess(env, pool, concurrency)
                worker.start()
                try:
                    verdicts.append(measure(worker, receiver, args, rates, throughput_rows, latency_rows))
                except Incomplete as exc:
                    print(f"{worker.label}: {exc}", flush=True)
                    verdicts.append((worker.label, 0.0, float("inf"), False))
                finally:
                    worker.stop()
                    broker_client.flushdb()  # whatever an incomplete run left queued
            queries, attempt_ms, kinds = queries_per_attempt(endpoint)
    finally:
        receiver.close()

    print("\nThroughput: deliveries/s from the first commit (live) or from re-adding the consumer (backlog) to the")
    print("last arrival. Worker CPU: user+system of all its processes per delivery (1000/that = deliveries/s it")
    print("could do with a core to itself). PG sessions and commits per delivery: pg_stat_database, backlog runs.")
    print(_support.table(
        ["worker", "procs", "mode", "events", "publish s", "seconds", "deliv/s", "per proc", "CPU ms/deliv",
         "PG sess/deliv", "PG commits/deliv", "check"], throughput_rows))
    print("\nCommit to receipt at a steady rate (ms):")
    print(_support.table(["worker", "rate/s", "achieved/s", "events", "median", "p95", "p99", "max", "check"],
                         latency_rows))
    print(f"\nOne delivery_attempt in-process (no Celery): {queries:g} queries, {attempt_ms:.1f} ms "
          f"(median of 20): {' '.join(kinds)}")
    print(f"\nLoad average {_load()} at the end (other work on this machine competes for its CPUs).")
    print(f"Targets: >= {TARGET_RATE:g} deliveries/s per worker process, p99 < {TARGET_P99 * 1000:g} ms")
    for label, rate, p99, ok in verdicts:
        print(f"  {label:<14} best {rate:5.0f}/s per process: {'met' if rate >= TARGET_RATE else 'NOT met'}; "
              f"worst p99 {p99 * 1000:5.0f} ms: {'met' if p99 < TARGET_P99 else 'NOT met'}; "
              f"every event exactly once, every delivery succeeded: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()

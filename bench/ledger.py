"""The ledger: posted transfers per second through `ledger.services.transfers_apply`, with concurrent
writers on different accounts and on one hot wallet, two-phase pairs, and what `verify()` costs.

Target (per the issue): "posted transfers per second with concurrent writers on different wallets and
on one hot wallet; aim for 2,000/s on different wallets. Record the figures."

One transfer is one call of `transfers_apply([Move(...)])` on autocommit: one database transaction
holding one transfer, as a real money movement (a capture, a withdrawal) is. N writer threads (each
with its own database connection, closed when the thread ends; each inside
`schema_context(<tenant schema>)`) call it in a loop for --duration seconds per level, after a few
warm-up calls each (not counted; they open the connection and the schema). Levels: --levels writers.

  a. different accounts   writer i: gateway_clearing `bench-i` → buyer i (posted)
                          every writer locks its own two rows; nothing is shared
  b. one hot wallet       writer i: gateway_clearing `bench-i` → the same seller wallet (posted)
                          every transaction locks that one wallet row: they queue on it. The real
                          flows have such rows too: every capture locks `gateway_clearing:<gateway>`,
                          every hold and release locks `commission:marketplace`
  c. two-phase            writer i: buyer i → wallet i pending, then a post_pending of it in full:
                          two transactions per pair (an escrow hold, then its release); transfers/s
                          counts both, latencies are per call

transfers/s = transfers of the level / wall time from the start signal until the last writer's last
call returned. Latency = one `transfers_apply` call as the writer saw it (p50 and nearest-rank p95).
CPU per transfer is read from /proc over the timed window: this process (the writers' Python, one
process under the GIL) and the PostgreSQL client backends of the writers' connections. "CPU
ceiling" = CPUs / (client + database CPU per transfer): the rate this machine's cores would allow at
that cost, however many writers. "Machine busy" is all CPUs from /proc/stat during the level;
"of it others" is what other programs used (busy less this process and its backends): other
benchmarks may run at the same time; rerun when it is high. The
development server runs with fsync=off and synchronous_commit=off (printed on the first line): no
commit waits for a disk here, as it would in production.

Then: the SQL statements one call makes (CaptureQueriesContext) for a posted transfer, a pending one,
its post, and a replayed id (the no-op); `verify()` over everything written (must be []), timed; and
the hot wallet's counters checked against the number of transfers (b) made.

Set-up (not timed): a tenant `bench-ledger` made with tenants.services.tenant_create; users and
accounts made with `ledger.services.account_get`; each buyer account funded once (clearing → buyer)
so the pendings of (c) never meet InsufficientFunds.

Everything is in the throwaway database `osdm_bench_ledger` (see bench/_support.py), not the shared
`osdm_bench`, so this can run beside the other benchmarks.

Run:  .venv/bin/python scripts/devenv.py bench ledger
  or: eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"; export OSDM_DEBUG=1
      .venv/bin/python bench/ledger.py [--levels 1,2,4,8,16] [--duration 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import threading
import time
from dataclasses import dataclass, field

import _support

SLUG = "bench-ledger"
BENCH_DB = "osdm_bench_ledger"  # not the shared `osdm_bench`, which other benchmarks drop when they start
TARGET_RATE = 2000.0  # posted transfers/s on different accounts
AMOUNT = 100
WARMUP_CALLS = 5
FUNDING = 10**15  # each buyer account's starting balance, minor units


def ms(values: list[float], q: int) -> str:
    if not values:
        return "-"
    if q == 50:
        return f"{statistics.median(values) * 1000:.2f}"
    return f"{_support.p95(values) * 1000:.2f}"


# --- CPU from /proc -------------------------------------------------------------------------------


def cpu_of(pids) -> float:
    """CPU seconds (user + system) used so far by the pids still alive, together."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def writer_backends(main_pid: int) -> list[int]:
    """The bench database's backends other than the main thread's own connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s "
                       "AND backend_type = 'client backend'", [main_pid])
        return [row[0] for row in cursor.fetchall()]


# --- the writers ----------------------------------------------------------------------------------


@dataclass
class Level:
    scenario: str
    writers: int
    latencies: list[list[float]] = field(default_factory=list)  # per step of the op (1, or 2 for pairs)
    ops: int = 0
    errors: int = 0
    first_error: str = ""
    wall: float = 0.0
    client_cpu: float = 0.0
    db_cpu: float = 0.0
    busy: float = 0.0
    others: float = 0.0


def make_op(scenario: str, writers: int, index: int, accounts: dict):
    """The callable a writer runs: op(seq) makes one transfer (a, b) or one pending + post pair (c),
    and returns the seconds each transfers_apply call took."""
    from osdm.ledger.models import Transfer, transfer_id
    from osdm.ledger.services import Move, transfers_apply

    clearing, buyer, wallet = accounts["clearing"][index], accounts["buyer"][index], accounts["wallet"][index]
    credit = {"different": buyer, "hot": accounts["hot"]}.get(scenario)

    if scenario in ("different", "hot"):
        def op(seq: int) -> list[float]:
            move = Move(id=transfer_id("bench", scenario, writers, index, seq), kind=Transfer.Kind.POSTED,
                        code="bench.posted", amount=AMOUNT, debit=clearing, credit=credit, reference="bench")
            start = time.perf_counter()
            transfers_apply([move])
            return [time.perf_counter() - start]
        return op

    def pair(seq: int) -> list[float]:
        pending_id = transfer_id("bench", scenario, writers, index, seq, "pending")
        hold = Move(id=pending_id, kind=Transfer.Kind.PENDING, code="bench.hold", amount=AMOUNT, debit=buyer,
                    credit=wallet, reference="bench")
        post = Move(id=transfer_id("bench", scenario, writers, index, seq, "post"), kind=Transfer.Kind.POST_PENDING,
                    code="bench.release", amount=AMOUNT, pending_id=pending_id)
        start = time.perf_counter()
        transfers_apply([hold])
        middle = time.perf_counter()
        transfers_apply([post])
        return [middle - start, time.perf_counter() - middle]
    return pair


def run_level(schema: str, scenario: str, writers: int, duration: float, accounts: dict) -> Level:
    from django.db import connection
    from django_tenants.utils import schema_context

    level = Level(scenario, writers)
    ready = threading.Barrier(writers + 1)
    go = threading.Barrier(writers + 1)
    done = threading.Barrier(writers + 1)
    measured = threading.Event()  # the writers' backends stay until their CPU has been read
    state: dict = {}
    results: list = [None] * writers

    def writer(index: int) -> None:
        latencies: list[list[float]] = []
        errors, first_error, ops = 0, "", 0
        try:
            with schema_context(schema):
                op = make_op(scenario, writers, index, accounts)
                for k in range(WARMUP_CALLS):
                    op(-1 - k)
                ready.wait()
                go.wait()
                deadline = state["deadline"]
                seq = 0
                while time.perf_counter() < deadline:
                    try:
                        latencies.append(op(seq))
                        ops += 1
                    except Exception as exc:  # counted and shown, never hidden
                        errors += 1
                        first_error = first_error or f"{type(exc).__name__}: {exc}"
                    seq += 1
        except threading.BrokenBarrierError:
            first_error = first_error or "barrier broken"
        finally:
            results[index] = (latencies, ops, errors, first_error, time.perf_counter())
            with contextlib.suppress(threading.BrokenBarrierError):
                done.wait(timeout=duration + 120)
            measured.wait(timeout=120)
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=120)
    connection.ensure_connection()
    backends = writer_backends(connection.connection.info.backend_pid)
    client0, db0, (busy0, all0) = time.process_time(), cpu_of(backends), machine_ticks()
    state["start"] = time.perf_counter()
    state["deadline"] = state["start"] + duration
    go.wait(timeout=120)
    done.wait(timeout=duration + 120)
    client1, db1, (busy1, all1) = time.process_time(), cpu_of(backends), machine_ticks()
    measured.set()
    for thread in threads:
        thread.join()
    steps = 2 if scenario == "two-phase" else 1
    level.latencies = [[] for _ in range(steps)]
    end = state["start"]
    for latencies, ops, errors, first_error, finished in results:
        for sample in latencies:
            for step, seconds in enumerate(sample):
                level.latencies[step].append(seconds)
        level.ops += ops
        level.errors += errors
        level.first_error = level.first_error or first_error
        end = max(end, finished)
    level.wall = end - state["start"]
    level.client_cpu, level.db_cpu = client1 - client0, db1 - db0
    level.busy = (busy1 - busy0) / max(1, all1 - all0)
    # What other programs used meanwhile: the machine's busy CPU seconds less this process and its backends.
    busy_seconds = (busy1 - busy0) / os.sysconf("SC_CLK_TCK")
    level.others = max(0.0, busy_seconds - level.client_cpu - level.db_cpu) / ((os.cpu_count() or 1) * level.wall)
    return level


# --- set-up ---------------------------------------------------------------------------------------


def setup(writers: int) -> dict:
    from django.db import transaction

    from osdm.accounts.models import User
    from osdm.ledger.models import Account, Transfer, transfer_id
    from osdm.ledger.services import Move, account_get, transfers_apply

    def person(name: str) -> User:
        return User.objects.create_user(f"{name}@bench.example", None, full_name=name)

    people = [person(f"writer-{i}") for i in range(writers)]
    hot_seller = person("hot-seller")
    accounts = {
        "clearing": [account_get(kind=Account.Kind.GATEWAY_CLEARING, currency="SAR", scope=f"bench-{i}")
                     for i in range(writers)],
        "buyer": [account_get(kind=Account.Kind.BUYER, currency="SAR", owner_id=p.pk) for p in people],
        "wallet": [account_get(kind=Account.Kind.WALLET, currency="SAR", owner_id=p.pk) for p in people],
        "hot": account_get(kind=Account.Kind.WALLET, currency="SAR", owner_id=hot_seller.pk),
    }
    with transaction.atomic():
        transfers_apply([Move(id=transfer_id("bench", "funding", i), kind=Transfer.Kind.POSTED, code="bench.funding",
                              amount=FUNDING, debit=accounts["clearing"][i], credit=accounts["buyer"][i])
                         for i in range(writers)])
    return accounts


def queries_per_call(accounts: dict) -> list[tuple[str, list[str]]]:
    """The statements one transfers_apply call sends, per kind of call, as psycopg sends them (the
    ledger's own raw, pipelined statements included; a pipelined one is marked "[pipelined]": the
    statements so marked in a row go to the server in one round trip)."""
    import psycopg
    from django.db import connection

    from osdm.ledger.models import Transfer, transfer_id
    from osdm.ledger.services import Move, transfers_apply

    clearing, buyer, wallet = accounts["clearing"][0], accounts["buyer"][0], accounts["wallet"][0]
    posted = Move(id=transfer_id("bench", "queries", "posted"), kind=Transfer.Kind.POSTED, code="bench.posted",
                  amount=AMOUNT, debit=clearing, credit=buyer)
    pending = Move(id=transfer_id("bench", "queries", "pending"), kind=Transfer.Kind.PENDING, code="bench.hold",
                   amount=AMOUNT, debit=buyer, credit=wallet)
    post = Move(id=transfer_id("bench", "queries", "post"), kind=Transfer.Kind.POST_PENDING, code="bench.release",
                amount=AMOUNT, pending_id=pending.id)
    seen: list[str] = []
    real_execute, real_commit = psycopg.Cursor.execute, psycopg.Connection.commit

    def execute(self, query, params=None, **kwargs):
        text = query if isinstance(query, str) else query.as_string(self)
        seen.append(text + (" [pipelined]" if getattr(self.connection, "_pipeline", None) else ""))
        return real_execute(self, query, params, **kwargs)

    def commit(self):
        seen.append("COMMIT")
        return real_commit(self)

    out = []
    psycopg.Cursor.execute, psycopg.Connection.commit = execute, commit
    try:
        connection.ensure_connection()
        for name, move in (("posted", posted), ("pending", pending), ("post_pending", post),
                           ("replayed id (no-op)", posted)):
            seen.clear()
            transfers_apply([move])
            out.append((name, ["BEGIN (sent with the first statement)", *seen]))
    finally:
        psycopg.Cursor.execute, psycopg.Connection.commit = real_execute, real_commit
    return out


def short_sql(sql: str) -> str:
    """A statement shortened to its shape: column lists and values elided."""
    sql = " ".join(sql.split())
    if sql.startswith("SELECT") and " FROM " in sql:
        sql = "SELECT … FROM " + sql.split(" FROM ", 1)[1]
    elif sql.startswith("INSERT"):
        sql = sql.split(" (", 1)[0] + " (…) VALUES (…)"
    elif sql.startswith("UPDATE"):
        sql = sql.split(" SET ", 1)[0] + " SET … WHERE " + sql.rsplit(" WHERE ", 1)[-1]
    return sql if len(sql) <= 150 else sql[:147] + "..."


# --- main -----------------------------------------------------------------------------------------


SCENARIOS = {
    "different": "a. posted transfers, each writer on its own accounts (clearing i → buyer i)",
    "hot": "b. posted transfers, every writer crediting one hot wallet (clearing i → the same wallet)",
    "two-phase": "c. two-phase pairs: pending buyer i → wallet i, then its post_pending (two transactions)",
}


def report(level: Level) -> list[str]:
    transfers = level.ops * (2 if level.scenario == "two-phase" else 1)
    rate = transfers / level.wall if level.wall else 0.0
    per_client = level.client_cpu / transfers * 1000 if transfers else 0.0
    per_db = level.db_cpu / transfers * 1000 if transfers else 0.0
    ceiling = (os.cpu_count() or 1) / ((level.client_cpu + level.db_cpu) / transfers) if transfers else 0.0
    row = [str(level.writers), str(transfers), f"{level.wall:.1f}", f"{rate:,.0f}"]
    if level.scenario == "two-phase":
        row += [f"{level.ops / level.wall:,.0f}" if level.wall else "-",
                ms(level.latencies[0], 50), ms(level.latencies[0], 95),
                ms(level.latencies[1], 50), ms(level.latencies[1], 95)]
    else:
        row += [ms(level.latencies[0], 50), ms(level.latencies[0], 95)]
    return [*row, str(level.errors), f"{per_client:.2f}", f"{per_db:.2f}", f"{ceiling:,.0f}", f"{level.busy:.0%}",
            f"{level.others:.0%}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--levels", default="1,2,4,8,16", help="writer threads per level (default 1,2,4,8,16)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per level (default 5)")
    parser.add_argument("--scenarios", default="different,hot,two-phase",
                        help="which of different, hot, two-phase (default all)")
    args = parser.parse_args()
    _support.BENCH_DB = BENCH_DB  # read by bench_database() when called
    with _support.bench_database():
        run(args)


def run(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django_tenants.utils import schema_context

    from osdm.ledger.models import Account, Transfer
    from osdm.ledger.services import verify
    from tenants import services

    levels = [int(n) for n in args.levels.split(",")]
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    print(_support.environment())
    settings.OSDM_SPARE_POOL_SIZE = 0
    # As production runs: no query log (`make bench` starts the benches with OSDM_DEBUG=1).
    settings.DEBUG = False
    services._schedule_pool_refill = lambda: None  # no spare-pool task queued from the bench
    print(f"django-tenants TENANT_LIMIT_SET_CALLS={getattr(settings, 'TENANT_LIMIT_SET_CALLS', False)}, "
          f"CONN_MAX_AGE={settings.DATABASES['default'].get('CONN_MAX_AGE')}, DEBUG={settings.DEBUG}")
    made = services.tenant_create(slug=SLUG, name="Bench ledger")
    schema = made.tenant.schema_name
    with schema_context(schema):
        accounts = setup(max(levels))
    connection.close()  # the writers' backends are found as "every backend but the main one"

    made_by_hot = 0
    for scenario in scenarios:
        print(f"\n{SCENARIOS[scenario]}; {args.duration:g} s per level")
        rows = []
        for writers in levels:
            level = run_level(schema, scenario, writers, args.duration, accounts)
            if scenario == "hot":
                made_by_hot += level.ops
            rows.append(report(level))
            if level.errors:
                print(f"  {writers} writers: {level.errors} errors, first: {level.first_error}")
        headers = ["writers", "transfers", "seconds", "transfers/s"]
        if scenario == "two-phase":
            headers += ["pairs/s", "pending p50 ms", "pending p95 ms", "post p50 ms", "post p95 ms"]
        else:
            headers += ["p50 ms", "p95 ms"]
        headers += ["errors", "client CPU ms/transfer", "DB CPU ms/transfer", "CPU ceiling /s", "machine busy",
                    "of it others"]
        print(_support.table(headers, rows))
        if scenario == "different":
            best = max(float(r[3].replace(",", "")) for r in rows)
            print(f"best: {best:,.0f} transfers/s; target {TARGET_RATE:,.0f}/s: "
                  f"{'met' if best >= TARGET_RATE else 'NOT met'}")

    with schema_context(schema):
        print("\nSQL statements per transfers_apply call, in autocommit (its own transaction), as psycopg sends "
              "them:")
        for name, statements in queries_per_call(accounts):
            piped = sum(1 for sql in statements if sql.endswith("[pipelined]"))
            trips = len(statements) - 1 - piped + (1 if piped else 0)  # BEGIN rides with the first
            print(f"  {name}: {len(statements)} statements, {trips} round trips")
            for sql in statements:
                print(f"    {short_sql(sql)}")

        transfers = Transfer.objects.count()
        account_rows = Account.objects.count()
        seconds, problems = _support.timed(verify)
        print(f"\nverify(): {seconds:.2f} s over {transfers:,} transfers and {account_rows} accounts; "
              f"problems: {problems if problems else '[] (none)'}")
        if "hot" in scenarios:
            hot = Account.objects.get(pk=accounts["hot"].pk)
            expected = (made_by_hot + WARMUP_CALLS * sum(levels)) * AMOUNT
            print(f"hot wallet: credits_posted {hot.credits_posted:,} = {expected:,} expected "
                  f"({'ok' if hot.credits_posted == expected else 'MISMATCH'})")
    connection.close()
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

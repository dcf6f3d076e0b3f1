"""Shared set-up for the benchmarks: a throwaway database, Django, and small statistics helpers.

Not a benchmark itself (`devenv.py bench` skips files starting with an underscore).

Every benchmark runs in a database of its own, `osdm_bench`, on the PostgreSQL server that
DATABASE_URL points at (same host, port and user): it is dropped and recreated at the start and
dropped at the end, so the developer's `osdm` database is never touched. The Django cache uses a
Redis database of its own too (db 13; the suite uses 14 and 15, `make run` uses 0), so throttle
counters and cached values of bench tenants never land next to the developer's.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "osdm_bench"
BENCH_REDIS_DB = "13"

for _path in (ROOT, ROOT / "platform"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_execute(admin_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@contextmanager
def bench_database() -> Iterator[str]:
    """Create `osdm_bench` (dropping a leftover one), set up Django on it, migrate the public schema;
    on exit close Django's connections and drop the database. Yields the bench DATABASE_URL."""
    source = os.environ.get("DATABASE_URL")
    if not source:
        sys.exit("DATABASE_URL is not set: run `make bench`, or first "
                 "eval \"$(.venv/bin/python scripts/devenv.py env 2>/dev/null)\"")
    if urlsplit(source).path.lstrip("/") == BENCH_DB:
        sys.exit(f"DATABASE_URL already points at {BENCH_DB}; point it at the developer database instead.")
    bench_url = _with_db(source, BENCH_DB)
    admin_url = _with_db(source, "postgres")
    drop = f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'
    _admin_execute(admin_url, drop, f'CREATE DATABASE "{BENCH_DB}"')

    # Before django.setup(): settings read these once.
    os.environ["DATABASE_URL"] = bench_url
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/" + BENCH_REDIS_DB
    os.environ["DJANGO_SETTINGS_MODULE"] = "osdm.settings"
    os.environ["OSDM_DEBUG"] = "1"  # development defaults for the secrets
    os.environ.setdefault("OSDM_LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        # OSDM_DEBUG=1 turns DEBUG on, which makes Django keep every query in memory; production
        # runs without it, and so do the measurements.
        settings.DEBUG = False
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        yield bench_url
    finally:
        try:
            from django.core.cache import cache
            from django.db import connections

            cache.clear()  # the bench's own Redis database
            connections.close_all()
        except Exception as exc:  # Django never got set up; nothing of it to close
            print(f"(cleanup: {exc})", file=sys.stderr)
        _admin_execute(admin_url, drop)
        print(f"\nDatabase {BENCH_DB} dropped.")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile: the value 95 % of the samples are at or below."""
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 n)
    return ordered[rank - 1]


def summary(values: list[float]) -> tuple[int, float, float, float]:
    return len(values), statistics.median(values), p95(values), max(values)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: first column left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    out = [fmt.format(*headers), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*row) for row in rows]
    return "\n".join(out)


def environment() -> str:
    """One line on what the numbers were measured on."""
    import platform

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
        fsync, sync_commit = cursor.fetchone()
    return (f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit}), "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")

"""What a deploy's `migrate_schemas` costs when there is nothing to migrate, across many tenants.

Measured:
  1. `migrate_schemas --noinput` (call_command("migrate_schemas", interactive=False, verbosity=0))
     over --tenants tenants (default 100, provisioned by cloning the template; not timed) plus the
     template schema and public, all already up to date. Run --runs times (default 3): each run,
     best and median. This is our executor (tenants/migration.py), which checks each schema's
     `django_migrations` against the code and skips the schemas that are current.
  2. That per-schema check alone (provisioning.schema_is_current over every tenant schema).
  3. django-tenants' own behaviour, without the skip: its StandardExecutor, which runs Django's
     `migrate` in each schema, over a subset of the tenants (--standard-subset, default 10) with
     the exact args and options migrate_schemas hands its executor (captured from a real
     call_command), then extrapolated per schema to all tenant schemas. Extrapolated, not measured.
  4. The catalog footprint of one empty tenant (a fresh clone): its relations (pg_class rows in
     its schema, by kind) and the bytes of its tables (sum of pg_total_relation_size: heap,
     indexes and TOAST).

Everything happens in a throwaway database of its own, `osdm_bench_migrate_many` (see
bench/_support.py); the developer's `osdm` database is not touched.

Run:  make bench
  or: eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"; export OSDM_DEBUG=1
      .venv/bin/python bench/migrate_many.py [--tenants 100] [--runs 3] [--standard-subset 10]
"""

from __future__ import annotations

import argparse
import statistics

import _support

BENCH_DB = "osdm_bench_migrate_many"  # not _support's shared `osdm_bench`: other benchmarks may run at once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tenants", type=int, default=100, help="tenants to provision (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="no-op migrate_schemas runs (default 3)")
    parser.add_argument("--standard-subset", type=int, default=10,
                        help="schemas to run django-tenants' StandardExecutor over (default 10)")
    args = parser.parse_args()
    _support.BENCH_DB = BENCH_DB  # read by bench_database() when called
    with _support.bench_database():
        run(args.tenants, args.runs, args.standard_subset)


def _capture_executor_call() -> tuple[tuple, dict]:
    """The (args, options) `migrate_schemas --noinput` gives its executor, from a real call whose
    executor only records them."""
    from django.core.management import call_command
    from django_tenants.management.commands import migrate_schemas
    from django_tenants.migration_executors.base import MigrationExecutor

    seen: list[tuple[tuple, dict]] = []

    class Recorder(MigrationExecutor):
        codename = "bench-recorder"

        def run_migrations(self, tenants=None):
            seen.append((self.args, dict(self.options)))

    original = migrate_schemas.GET_EXECUTOR_FUNCTION
    migrate_schemas.GET_EXECUTOR_FUNCTION = lambda codename=None: Recorder
    try:
        call_command("migrate_schemas", interactive=False, verbosity=0)
    finally:
        migrate_schemas.GET_EXECUTOR_FUNCTION = original
    return seen[-1]


def run(n_tenants: int, runs: int, subset: int) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.migration_executors.standard import StandardExecutor
    from django_tenants.utils import get_public_schema_name

    from tenants import provisioning, services
    from tenants.migration import SkipCurrentExecutor
    from tenants.models import Tenant

    print(_support.environment())
    settings.OSDM_SPARE_POOL_SIZE = 0  # every tenant a clone of the template; no spares, no Celery
    provisioning.template_ensure()

    clone_times = []
    for i in range(n_tenants):
        seconds, _made = _support.timed(services.tenant_create, slug=f"bench-{i:03d}", name=f"Bench {i}")
        clone_times.append(seconds)
    provision_seconds = sum(clone_times)
    tenant_schemas = list(Tenant.objects.exclude(schema_name=get_public_schema_name())
                          .order_by("id").values_list("schema_name", flat=True))
    bench_schemas = [s for s in tenant_schemas if s != settings.OSDM_TEMPLATE_SCHEMA]
    n_schemas = len(tenant_schemas)
    print(f"\nProvisioned {n_tenants} tenants by cloning the template in {provision_seconds:.1f} s "
          f"({provision_seconds / n_tenants:.3f} s each, not part of the figures below).")
    print("tenant_create() by clone, seconds, by how many tenants the database already held\n"
          "(provisioning.schema_clone() reads the template through pg_catalog by oid, never the whole "
          "catalog, so this should stay flat as schemas accumulate):")
    block = max(1, n_tenants // 10)
    rows = []
    for first in range(0, n_tenants, block):
        part = clone_times[first:first + block]
        rows.append([f"{first}-{first + len(part) - 1}", str(len(part)), f"{statistics.median(part):.3f}",
                     f"{max(part):.3f}"])
    print(_support.table(["tenants already present", "count", "median s", "max s"], rows))
    print(f"\nmigrate_schemas covers {n_schemas} tenant schemas ({n_tenants} tenants + the template) "
          f"and public.")

    # 1. The no-op migrate_schemas, our executor.
    if settings.GET_EXECUTOR_FUNCTION != "tenants.migration.get_executor":
        raise RuntimeError(f"GET_EXECUTOR_FUNCTION is {settings.GET_EXECUTOR_FUNCTION}: not what this measures")
    times = []
    for _ in range(runs):
        seconds, _result = _support.timed(call_command, "migrate_schemas", interactive=False, verbosity=0)
        times.append(seconds)
    best, median = min(times), statistics.median(times)
    print(f"\n1. `migrate_schemas --noinput`, nothing to migrate, our executor "
          f"({SkipCurrentExecutor.codename}), {runs} runs:")
    print("   runs:   " + ", ".join(f"{t:.3f} s" for t in times))
    print(f"   best:   {best:.3f} s   median: {median:.3f} s   "
          f"per schema (best / {n_schemas + 1} schemas incl. public): {best / (n_schemas + 1) * 1000:.2f} ms")

    # 2. The up-to-date check alone.
    check_runs = []
    for _ in range(runs):
        seconds, current = _support.timed(lambda: [provisioning.schema_is_current(s) for s in tenant_schemas])
        if not all(current):
            raise RuntimeError("a freshly cloned schema is not up to date")
        check_runs.append(seconds)
    check_best = min(check_runs)
    print(f"\n2. Up-to-date check alone (provisioning.schema_is_current, 2 queries per schema), "
          f"{n_schemas} schemas:")
    print(f"   best of {runs}: {check_best:.3f} s total, {check_best / n_schemas * 1000:.2f} ms per schema")

    # 3. django-tenants' StandardExecutor: Django's migrate in every schema, no skip.
    subset_schemas = bench_schemas[:subset]
    args, options = _capture_executor_call()
    std_times = []
    for _ in range(runs):
        seconds, _result = _support.timed(StandardExecutor(args, options).run_migrations, list(subset_schemas))
        std_times.append(seconds)
    connection.set_schema_to_public()
    std_best, std_median = min(std_times), statistics.median(std_times)
    per_schema = std_best / len(subset_schemas)
    print(f"\n3. django-tenants' StandardExecutor (Django's `migrate` in each schema, no skip), measured "
          f"over {len(subset_schemas)} schemas, {runs} runs:")
    print("   runs:   " + ", ".join(f"{t:.3f} s" for t in std_times))
    print(f"   best:   {std_best:.3f} s   median: {std_median:.3f} s   per schema (best): "
          f"{per_schema * 1000:.1f} ms")
    print(f"   EXTRAPOLATED (not measured) to {n_schemas} tenant schemas: {per_schema * n_schemas:.1f} s "
          f"(per-schema best x {n_schemas}), vs {best:.3f} s measured with the skip (1.): "
          f"{per_schema * n_schemas / best:.0f}x.")
    print(f"   options passed, as captured from migrate_schemas: "
          f"{ {k: v for k, v in sorted(options.items()) if v is not None} }")

    # 4. Catalog footprint of one empty tenant.
    schema = bench_schemas[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relkind, count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s GROUP BY c.relkind ORDER BY c.relkind
            """, [schema])
        kinds = dict(cursor.fetchall())
        cursor.execute(
            """
            SELECT count(*), coalesce(sum(pg_total_relation_size(c.oid)), 0)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
            """, [schema])
        tables, total_bytes = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s
            """, [schema])
        attributes = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class toast ON toast.oid = c.reltoastrelid WHERE n.nspname = %s
            """, [schema])
        toast_tables = cursor.fetchone()[0]
    names = {"r": "tables", "i": "indexes", "S": "sequences", "v": "views", "m": "materialized views",
             "p": "partitioned tables", "I": "partitioned indexes", "t": "TOAST tables", "c": "types"}
    breakdown = ", ".join(f"{count} {names.get(kind, kind)}" for kind, count in kinds.items())
    print(f"\n4. Catalog footprint of one empty tenant (schema {schema}, a fresh clone):")
    print(f"   relations (pg_class rows in the schema): {sum(kinds.values())} ({breakdown})")
    print(f"   plus {toast_tables} TOAST tables and their {toast_tables} indexes, which live in pg_toast")
    print(f"   pg_attribute rows for the schema's relations: {attributes}")
    print(f"   bytes of its {tables} tables (sum of pg_total_relation_size: heap + indexes + TOAST): "
          f"{total_bytes} ({total_bytes / 1024:.0f} KiB); x {n_tenants} tenants: "
          f"{total_bytes * n_tenants / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()

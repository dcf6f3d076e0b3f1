"""How long a new tenant takes to be ready to serve, for three ways of making its schema.

Measured, per tenant: from calling `tenants.services.tenant_create()` until a first real request
on the tenant's host (`GET /api/v1/marketplace` with Host `<slug>.<OSDM_BASE_DOMAIN>`, through the
whole middleware stack via django.test.Client) has answered 200. So it covers the Tenant, Domain
and secret-key rows, the schema, the commit, host resolution and the first query in the schema.

  clone     the template schema is cloned (OSDM_SPARE_POOL_SIZE=0): the default without a pool.
            tenants.provisioning.schema_clone() reads the template through pg_catalog by oid and
            replays it in two scripts, so its cost should not depend on how many schemas exist.
  spare     a spare schema cloned ahead of time is claimed and renamed. The pool is filled with
            N spares first (not timed), then OSDM_SPARE_POOL_SIZE=N. The Celery refill that
            tenant_create queues after a claim is replaced by a no-op here, so the bench needs
            no worker and never queues a task a `make run` worker could pick up.
  migrate   what django-tenants does without cloning: `CREATE SCHEMA` and
            `migrate_schemas --tenant --schema=<schema>` replaying every migration. tenant_create
            runs with the schema step swapped for that, so all else is identical. Slow, so
            fewer tenants (--migrate-count, default min(N, 5)).

With --existing N, N tenants are created first (not timed), so that every strategy is measured
in a database that already holds hundreds of tenant schemas, as production will.

One tenant is made and served before any timing, so imports and first-request set-up are not
billed to the first strategy. Everything happens in a throwaway database of its own,
`osdm_bench_provisioning` (see bench/_support.py); the developer's `osdm` database is not touched.

Run:  make bench
  or: eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"; export OSDM_DEBUG=1
      .venv/bin/python bench/tenant_provisioning.py [--count 30] [--migrate-count 5] [--existing 0]
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import _support

BENCH_DB = "osdm_bench_provisioning"  # not _support's shared `osdm_bench`: other benchmarks may run at once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=30, help="tenants per strategy (default 30)")
    parser.add_argument("--migrate-count", type=int, default=None,
                        help="tenants for the plain-migration strategy (default min(count, 5))")
    parser.add_argument("--existing", type=int, default=0,
                        help="tenants created before any measurement, not timed (default 0)")
    args = parser.parse_args()
    n = args.count
    n_migrate = args.migrate_count if args.migrate_count is not None else min(n, 5)

    _support.BENCH_DB = BENCH_DB  # read by bench_database() when called
    with _support.bench_database():
        run(n, n_migrate, args.existing)


def run(n: int, n_migrate: int, existing: int = 0) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tenants import provisioning, services
    from tenants.models import Tenant

    services._schedule_pool_refill = lambda: None  # no Celery round trip; see the docstring
    client = Client()
    created: list[str] = []

    def ready(slug: str) -> tuple[float, float, bool]:
        """Seconds to create and to serve the first request, and whether a spare was used."""
        start = time.perf_counter()
        made = services.tenant_create(slug=slug, name=f"Bench {slug}")
        made_at = time.perf_counter()
        response = client.get("/api/v1/marketplace", HTTP_HOST=f"{slug}.{settings.OSDM_BASE_DOMAIN}")
        end = time.perf_counter()
        created.append(slug)
        if response.status_code != 200:
            raise RuntimeError(f"{slug}: GET /api/v1/marketplace answered {response.status_code}, "
                               f"not 200: {response.content[:300]!r}")
        # Not timed: the schema each strategy made must be complete, or its figure means nothing.
        missing = provisioning.tables_missing_columns(made.tenant.schema_name)
        if missing or not provisioning.schema_is_current(made.tenant.schema_name):
            raise RuntimeError(f"{slug}: schema incomplete, missing {missing}")
        return end - start, end - made_at, made.used_spare

    def schema_migrate(*, source: str, target: str) -> None:
        """Stands in for provisioning.schema_clone: an empty schema, then every migration."""
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{target}"')
        call_command("migrate_schemas", tenant=True, schema_name=target, interactive=False, verbosity=0)

    @contextmanager
    def schema_step(replacement):
        original = provisioning.schema_clone
        provisioning.schema_clone = replacement
        try:
            yield
        finally:
            provisioning.schema_clone = original

    print(_support.environment())
    settings.OSDM_SPARE_POOL_SIZE = 0
    provisioning.template_ensure()  # migrates the template of the fresh database: not timed
    if existing:
        start = time.perf_counter()
        for i in range(existing):
            services.tenant_create(slug=f"bench-existing-{i:04d}", name=f"Existing {i}")
            created.append(f"bench-existing-{i:04d}")
        print(f"Created {existing} tenants beforehand in {time.perf_counter() - start:.1f} s (not timed).")
    ready("bench-warmup")

    results: dict[str, tuple[list[float], list[float], int, int]] = {}

    def schema_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%' OR nspname LIKE 'spare\\_%'")
            return cursor.fetchone()[0]

    def measure(label: str, slugs: list[str]) -> None:
        schemas_before = schema_count()
        totals, requests, spares = [], [], 0
        for slug in slugs:
            total, request, used_spare = ready(slug)
            totals.append(total)
            requests.append(request)
            spares += used_spare
        results[label] = (totals, requests, spares, schemas_before)

    # (a) clone the template
    settings.OSDM_SPARE_POOL_SIZE = 0
    measure("clone template (pool size 0)", [f"bench-clone-{i}" for i in range(n)])

    # (b) claim a spare: fill the pool first, untimed
    fill_start = time.perf_counter()
    provisioning.pool_refill(n)
    fill_seconds = time.perf_counter() - fill_start
    settings.OSDM_SPARE_POOL_SIZE = n
    measure(f"claim spare (pool of {n})", [f"bench-spare-{i}" for i in range(n)])
    settings.OSDM_SPARE_POOL_SIZE = 0

    # (c) CREATE SCHEMA + every migration
    with schema_step(schema_migrate):
        measure("CREATE SCHEMA + migrate", [f"bench-migrate-{i}" for i in range(n_migrate)])

    print("\nSeconds per new tenant, tenant_create() until GET /api/v1/marketplace on its host "
          "answered 200 (includes that request):\n")
    rows = []
    for label, (totals, requests, _spares, schemas_before) in results.items():
        count, median, p95, worst = _support.summary(totals)
        rows.append([label, str(count), f"{median:.3f}", f"{p95:.3f}", f"{worst:.3f}",
                     f"{_support.summary(requests)[1] * 1000:.1f}", str(schemas_before)])
    print(_support.table(["strategy", "count", "median s", "p95 s", "max s", "of which 1st request (median ms)",
                          "tenant/spare schemas already in the DB"], rows))

    spare_label = f"claim spare (pool of {n})"
    print(f"\nSpare strategy: {results[spare_label][2]} of {n} tenants got a spare "
          f"(tenant_create's used_spare); filling the pool of {n} beforehand took {fill_seconds:.1f} s "
          f"({fill_seconds / n:.3f} s per spare, not in the figures above).")
    print("The Celery pool refill queued after each claim was replaced by a no-op "
          "(tenants.services._schedule_pool_refill), so no task was queued.")
    print("p95 is nearest-rank; with few samples it is the maximum or close to it.")
    print("The last column is how many tenant and spare schemas the database held when the strategy "
          "started (--existing adds more); bench/migrate_many.py shows clone times as 100 tenants "
          "accumulate.")

    start = time.perf_counter()
    for tenant in Tenant.objects.filter(slug__in=created):
        services.tenant_delete(tenant=tenant)
    print(f"\nDeleted the {len(created)} bench tenants (incl. the warm-up one) "
          f"in {time.perf_counter() - start:.1f} s.")


if __name__ == "__main__":
    main()

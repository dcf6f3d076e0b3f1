"""Before/after of listing search in the same conditions: two versions of the code answer the same
requests alternately, one request each in turn, so both see the same load on a shared machine.

Not a benchmark of its own (`devenv.py bench` skips files starting with `_`); it needs the database
`bench/search.py --keep` leaves (`osdm_bench_search_kept`) and the old code somewhere:

    git archive <old commit> | tar -x -C /tmp/search_old
    createdb -T osdm_bench_search_kept osdm_bench_search_old   # then drop indexes the old code lacks
    eval "$(.venv/bin/python scripts/devenv.py env 2>/dev/null)"
    .venv/bin/python bench/_search_ab.py --old /tmp/search_old --old-db osdm_bench_search_old

The parameter sets are those of bench/search.py (same seed), chosen against the kept database; both
sides must return the same facet totals for every one of them (checked during the warm-up pass).
Case (c0) retires the new side's facets cache before each request (the old side has none).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "t_bench_search"


def worker(root: str, db: str, redis_db: str, caching: bool) -> None:
    """Answer requests read from stdin (JSON lines) with the code at `root` on database `db`."""
    sys.path[:0] = [root, f"{root}/platform"]
    os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db
    os.environ["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/" + redis_db
    os.environ.update(DJANGO_SETTINGS_MODULE="osdm.settings", OSDM_DEBUG="1", OSDM_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django_tenants.utils import schema_context

    settings.DEBUG = False
    client, host = Client(), f"bench-search.{settings.OSDM_BASE_DOMAIN}"
    with schema_context(SCHEMA):
        cache.clear()
    for n, line in enumerate(sys.stdin, start=1):
        case, params = json.loads(line)
        if case == "c0" and caching:
            from osdm.catalog.selectors import FACETS_VERSION_KEY

            with schema_context(SCHEMA):
                cache.set(FACETS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        start = time.perf_counter()
        response = client.get("/api/v1/listings/", params, HTTP_HOST=host,
                              REMOTE_ADDR=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
        ms = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content[:300]
        print(json.dumps([ms, response.json()["facets"]["total"]]), flush=True)


def cases() -> dict[str, list[dict]]:
    """bench/search.py's parameter sets, chosen against the kept database."""
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "platform")]
    os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/osdm_bench_search_kept"
    os.environ.update(DJANGO_SETTINGS_MODULE="osdm.settings", OSDM_DEBUG="1")
    import django

    django.setup()
    import search
    from django_tenants.utils import schema_context

    with schema_context(SCHEMA):
        return search.workloads(random.Random(2026), search.leaf_categories())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--old", required=True, help="a directory holding the old code")
    parser.add_argument("--old-db", default="osdm_bench_search_old")
    parser.add_argument("--new-db", default="osdm_bench_search_kept")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per case and side")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        root, db, redis_db, caching = args.worker
        return worker(root, db, redis_db, caching == "1")
    workloads = cases()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    sides = {name: subprocess.Popen([sys.executable, __file__, "--old", ".", "--worker", root, db, redis_db, caching],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd="/")
             for name, root, db, redis_db, caching in (("old", args.old, args.old_db, "11", "0"),
                                                        ("new", str(ROOT), args.new_db, "12", "1"))}

    def ask(side: str, case: str, params: dict) -> list:
        sides[side].stdin.write(json.dumps([case, params]) + "\n")
        sides[side].stdin.flush()
        return json.loads(sides[side].stdout.readline())

    for case, params_list in workloads.items():  # warm-up; both sides must count the same matches
        for params in params_list:
            old, new = ask("old", case, params), ask("new", case, params)
            assert old[1] == new[1], (case, params, old, new)
    load = os.getloadavg()[0]
    results = {}
    for case, params_list in workloads.items():
        order = [params_list[i % len(params_list)] for i in range(args.requests)]
        random.Random(7).shuffle(order)
        times: dict[str, list[float]] = {"old": [], "new": []}
        for i, params in enumerate(order):
            for side in ("old", "new") if i % 2 else ("new", "old"):
                times[side].append(ask(side, case, params)[0])
        results[case] = times
    for process in sides.values():
        process.stdin.close()
        process.wait()

    def p95(values: list[float]) -> float:
        return sorted(values)[-(-95 * len(values) // 100) - 1]

    print(f"Lockstep before/after, {args.requests} requests per case and side, milliseconds "
          f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
    print(f"{'case':5} {'old median':>10} {'old p95':>8} {'new median':>10} {'new p95':>8}")
    for case, times in results.items():
        print(f"{case:5} {statistics.median(times['old']):10.1f} {p95(times['old']):8.1f} "
              f"{statistics.median(times['new']):10.1f} {p95(times['new']):8.1f}")
    return None


if __name__ == "__main__":
    main()

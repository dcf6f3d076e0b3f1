"""Schemas for new tenants, fast: clone a migrated template, or claim a spare cloned ahead of time.

Replaying every migration for each new tenant takes seconds and grows with the codebase; cloning
the template (django-tenants' `clone_schema`, tables, indexes, constraints, sequences and the
`django_migrations` and content-type rows) takes a fraction of that, and renaming a spare schema
takes a millisecond.

Invariant: a clone is only ever taken from a schema whose applied migrations are exactly the code's.
The template and the spares are Tenant rows, so `migrate_schemas` migrates them with everyone else;
and `template_ensure()` re-checks before every clone, so a deploy that forgot to migrate cannot
produce a tenant that silently lacks a column.
"""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

from .models import Tenant

logger = logging.getLogger(__name__)


def schema_name_for(slug: str) -> str:
    # The slug is validated against SLUG_PATTERN before it gets here; the prefix keeps tenant schemas
    # apart from PostgreSQL's and ours (public, pg_*, information_schema, tenant_template).
    return "t_" + slug.replace("-", "_")


@lru_cache(maxsize=1)
def code_migrations() -> frozenset[tuple[str, str]]:
    """Every migration the code has, as (app, name): what a fully migrated schema has applied."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.graph.nodes)


def applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'django_migrations')",
            [schema])
        if not cursor.fetchone()[0]:
            return set()
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608 (validated name)
        return {(app, name) for app, name in cursor.fetchall()}


def schema_is_current(schema: str) -> bool:
    return code_migrations() <= applied_migrations(schema)


def template_ensure() -> Tenant:
    """The template tenant, created and migrated if it is missing or behind the code."""
    name = settings.OSDM_TEMPLATE_SCHEMA
    template = Tenant.objects.filter(schema_name=name).first()
    if template is None:
        template = Tenant(schema_name=name, slug="tenant-template", name="Template",
                          status=Tenant.Status.TEMPLATE)
        template.save()
    if not schema_exists(name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
    if not schema_is_current(name):
        logger.info("migrating the tenant template schema %s", name)
        call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0)
        connection.set_schema_to_public()
    return template


def schema_clone(*, source: str, target: str) -> None:
    CloneSchema().clone_schema(source, target, "DATA", set_connection=False)
    _constraint_names_align(source=source, target=target)


def _constraint_names_align(*, source: str, target: str) -> None:
    """clone_schema re-creates unique constraints under PostgreSQL's default names
    (`<table>_<cols>_key`), not the names Django's migrations gave them. A later migration that
    drops a constraint by name would then miss it in cloned tenants only; rename them back."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, tc.conname, sc.conname
            FROM pg_constraint tc
            JOIN pg_class t ON t.oid = tc.conrelid
            JOIN pg_namespace tn ON tn.oid = t.relnamespace AND tn.nspname = %(target)s
            JOIN pg_class s ON s.relname = t.relname
            JOIN pg_namespace sn ON sn.oid = s.relnamespace AND sn.nspname = %(source)s
            JOIN pg_constraint sc ON sc.conrelid = s.oid AND sc.contype = tc.contype
                 AND replace(pg_get_constraintdef(sc.oid), %(source)s || '.', '')
                   = replace(pg_get_constraintdef(tc.oid), %(target)s || '.', '')
            WHERE tc.conname <> sc.conname
              AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conrelid = tc.conrelid AND x.conname = sc.conname)
            """,
            {"source": source, "target": target},
        )
        for table, current, wanted in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{target}"."{table}" RENAME CONSTRAINT "{current}" TO "{wanted}"')


def spare_create() -> Tenant:
    template = template_ensure()
    token = secrets.token_hex(6)
    schema = f"spare_{token}"
    with transaction.atomic():
        schema_clone(source=template.schema_name, target=schema)
        return Tenant.objects.create(schema_name=schema, slug=f"spare-{token}", name="Spare",
                                     status=Tenant.Status.SPARE)


def spare_claim(*, schema_name: str) -> Tenant | None:
    """Within the caller's transaction: take one up-to-date spare and rename its schema.

    SKIP LOCKED lets concurrent sign-ups claim different spares instead of queueing on one.
    """
    spare = (Tenant.objects.select_for_update(skip_locked=True)
             .filter(status=Tenant.Status.SPARE).order_by("id").first())
    if spare is None:
        return None
    if not schema_is_current(spare.schema_name):
        return None  # migrate_schemas will bring it up to date; never hand out a stale schema
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{spare.schema_name}" RENAME TO "{schema_name}"')
    spare.schema_name = schema_name
    return spare


def pool_refill(size: int | None = None) -> int:
    """Clone spares until the pool holds `size` (default OSDM_SPARE_POOL_SIZE). Returns how many."""
    size = settings.OSDM_SPARE_POOL_SIZE if size is None else size
    made = 0
    while Tenant.objects.filter(status=Tenant.Status.SPARE).count() < size:
        spare_create()
        made += 1
    return made


def tables_missing_columns(schema: str) -> list[str]:
    """Each tenant model's table and column missing from `schema`: empty for a sound tenant."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
                       [schema])
        present = {(t, c) for t, c in cursor.fetchall()}
    tables = {t for t, _ in present}
    missing = []
    for model in _tenant_models():
        table = model._meta.db_table
        if table not in tables:
            missing.append(table)
            continue
        for field in model._meta.local_concrete_fields:
            if (table, field.column) not in present:
                missing.append(f"{table}.{field.column}")
    return missing


def _tenant_models():
    from django.apps import apps

    tenant_apps = set(settings.TENANT_APPS)
    for config in apps.get_app_configs():
        if config.name in tenant_apps:
            for model in config.get_models(include_auto_created=True):
                if model._meta.managed and not model._meta.proxy:
                    yield model

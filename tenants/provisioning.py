"""Schemas for new tenants, fast: clone a migrated template, or claim a spare cloned ahead of time.

Replaying every migration for each new tenant takes seconds and grows with the codebase; cloning
the template (`schema_clone()`: tables, constraints and indexes under the template's names,
sequences, routines, triggers and the template's rows, e.g. `django_migrations` and the content
types) takes a fraction of that, and renaming a spare schema takes a millisecond.

Invariant: a clone is only ever taken from a schema whose applied migrations are exactly the code's.
The template and the spares are Tenant rows, so `migrate_schemas` migrates them with everyone else;
and `template_ensure()` re-checks before every clone, so a deploy that forgot to migrate cannot
produce a tenant that silently lacks a column.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists
from psycopg import sql

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


# --- cloning --------------------------------------------------------------------------------------
# (The SQL below that ruff's S608 flags is built from constant fragments, and from names that come
# from the catalog or are validated, always quoted by _ident() / _literal().)

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# What CREATE TABLE (LIKE ...) copies from each of the template's tables. CHECK constraints, indexes
# and PRIMARY KEY / UNIQUE / EXCLUDE constraints are copied from the template's parse trees, not
# from their text, so they come out exactly as the template's (re-parsing pg_get_indexdef()'s text
# is not always faithful: `x IN ('a', 'b')` on a varchar column comes back with its casts moved).
# LIKE names the copied indexes itself; they are renamed to the template's names afterwards.
# Not IDENTITY: its sequence would be named by PostgreSQL too; identity is added by ALTER TABLE with
# the template's sequence name and parameters instead.
_LIKE_OPTIONS = ("INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING INDEXES "
                 "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS")


class UnsupportedSchemaObject(Exception):
    """The template holds something schema_clone() does not copy."""


def schema_clone(*, source: str, target: str) -> None:
    """Create the schema `target` as an exact copy of `source` (the template), rows included, in the
    caller's transaction (or in one of its own).

    The source is read through pg_catalog only, from its namespace's oid through indexes (pg_depend's
    reference index lists the schema's tables, sequences and routines), so the cost does not grow
    with the number of schemas in the database, unlike django-tenants' clone_schema(), which scans
    information_schema views. Then two scripts, one round trip each:

      1. the schema, its standalone sequences (same parameters), and its tables by CREATE TABLE
         (LIKE ...): columns, defaults, generated columns, CHECK and NOT NULL constraints under their
         names, indexes and PRIMARY KEY / UNIQUE / EXCLUDE constraints, storage, comments;
      2. the indexes renamed to the template's names (paired by definition), routines
         (pg_get_functiondef), identity columns with the template's sequence names and parameters,
         every table's rows, every sequence's position, triggers, foreign keys (validated against
         the copied rows), and comments, owners and privileges where the template has any.

    Definitions are deparsed with an empty search_path, as pg_dump does, so every name outside
    pg_catalog comes out schema-qualified (`public.gin_trgm_ops`, `tenant_template.x`) and means the
    same wherever it is replayed; only the source schema's qualifier is swapped for the target's.
    What LIKE copied pointing into the template (a default calling nextval() of a schema sequence,
    an index on a schema function) is made again from its definition. Anything else the template
    may hold (views, types, rules, policies, ...) raises UnsupportedSchemaObject rather than yielding
    a tenant that silently lacks it.
    """
    _schema_name_check(source)
    _schema_name_check(target)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path'), current_setting('check_function_bodies')")
        saved = list(cursor.fetchone())
        # Local to the transaction (undone with it, or with the savepoint, on error); restored below.
        cursor.execute("SELECT set_config('search_path', '', true), "
                       "set_config('check_function_bodies', 'off', true)")
        _Clone(cursor, source=source, target=target).run()
        cursor.execute("SELECT set_config('search_path', %s, true), "
                       "set_config('check_function_bodies', %s, true)", saved)


def _schema_name_check(name: str) -> None:
    if not _SCHEMA_NAME.fullmatch(name) or name.startswith("pg_") or name in ("public", "information_schema"):
        raise ValueError(f"not a tenant schema name: {name!r}")


def _ident(*parts: str) -> str:
    return ".".join(sql.Identifier(part).as_string() for part in parts)


def _literal(value: object) -> str:
    return sql.Literal(value).as_string()


def _grants(acl: str) -> str:
    """SQL: the entries of an ACL column, in order, as `<privilege> TO <role>` (NULL if none)."""
    return f"""(
        SELECT array_agg(format('%%s TO %%s%%s', a.privilege_type,
                                CASE a.grantee WHEN 0 THEN 'PUBLIC'
                                               ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                                CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) ORDER BY a.n)
        FROM aclexplode({acl}) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, n)
    )"""  # noqa: S608


def _description(oid: str, catalog: str) -> str:
    """SQL: the comment on an object (obj_description() runs a SQL function per row: ten times slower)."""
    return (f"(SELECT ds.description FROM pg_description ds WHERE ds.objoid = {oid} "  # noqa: S608
            f"AND ds.classoid = '{catalog}'::regclass AND ds.objsubid = 0)")


def _into_source(catalog: str, oid: str, own_table: str) -> str:
    """SQL: the object (`catalog`, `oid`) depends on a relation or routine of the source schema other
    than `own_table`: a copy of it made by LIKE would still point into the template."""
    return f"""EXISTS (
        SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {oid}
          AND ((e.refclassid = 'pg_class'::regclass AND e.refobjid = ANY(%(relations)s::oid[])
                AND e.refobjid <> {own_table})
               OR (e.refclassid = 'pg_proc'::regclass AND e.refobjid = ANY(%(routines)s::oid[])))
    )"""  # noqa: S608


class _Index(NamedTuple):
    table: str
    name: str
    key: str  # the definition without the index's name and schema, plus the constraint it backs
    definition: str
    constraint_type: str | None
    constraint_definition: str | None
    into_source: bool  # on a routine of the source schema
    comment: str | None


class _Clone:
    """One schema_clone(): read the source, build the two scripts, run them."""

    def __init__(self, cursor, *, source: str, target: str) -> None:
        self.cursor, self.source, self.target = cursor, source, target
        self.tgt = _ident(target)
        self.first: list[str] = [f"CREATE SCHEMA {self.tgt}"]  # schema, standalone sequences, tables
        self.routines: list[str] = []
        self.alter: dict[str, list[str]] = {}  # per table: identity, expressions into the template
        self.sequences: list[str] = []  # types and ownership of sequences
        self.rows: list[str] = []
        self.positions: list[str] = []
        self.triggers: list[str] = []
        self.foreign: dict[str, list[str]] = {}  # per table: foreign keys
        self.extras: list[str] = []  # comments, owners, privileges

    def run(self) -> None:
        self._schema()
        self._tables()
        self._sequences()
        self._routines()
        self._expressions()
        self._constraints()
        self._triggers()
        source_indexes = self._indexes(self.source)
        self.cursor.execute(";\n".join(self.first))
        renames, remade = self._indexes_match(source_indexes, self._indexes(self.target))
        self.cursor.execute(";\n".join([
            *renames, *self.routines, *self._alter_tables(self.alter), *remade, *self.sequences,
            *self.rows, *self.positions, *self.triggers, *self._alter_tables(self.foreign), *self.extras]))

    def _alter_tables(self, commands: dict[str, list[str]]) -> list[str]:
        return [f"ALTER TABLE {_ident(self.target, table)} " + ", ".join(table_commands)
                for table, table_commands in sorted(commands.items())]

    def _query(self, query: str, params=None) -> list[tuple]:
        self.cursor.execute(query, params)
        return self.cursor.fetchall()

    def _swap(self, definition: str) -> str:
        """`definition` with the source schema's qualifier replaced by the target's."""
        return self.qualifier.sub(lambda _match: self.tgt + ".", definition)

    def _owner_and_privileges(self, kind: str, name: str, owner: str, has_acl: bool,
                              grants: list[str] | None, *, owned_by_table: bool = False) -> None:
        if owner != self.me and not owned_by_table:  # a table's sequences follow its owner
            self.extras.append(f"ALTER {kind} {name} OWNER TO {_ident(owner)}")
        if has_acl:
            self.extras.append(f"REVOKE ALL ON {kind} {name} FROM PUBLIC, {_ident(owner)}")
            for grant in grants or []:
                privilege, grantee = grant.split(" TO ", 1)
                self.extras.append(f"GRANT {privilege} ON {kind} {name} TO {grantee}")

    def _comment(self, kind: str, name: str, text: str | None) -> None:
        if text is not None:
            self.extras.append(f"COMMENT ON {kind} {name} IS {_literal(text)}")

    def _schema(self) -> None:
        found = self._query(f"""
            SELECT n.oid, quote_ident(n.nspname), pg_get_userbyid(n.nspowner), current_user,
                   n.nspacl IS NOT NULL, {_grants('n.nspacl')}, {_description('n.oid', 'pg_namespace')}
            FROM pg_namespace n WHERE n.nspname = %s""", [self.source])  # noqa: S608
        if not found:
            raise ValueError(f"schema {self.source} does not exist")
        nsp, qualifier, owner, self.me, has_acl, grants, comment = found[0]
        self.qualifier = re.compile(r'(?<![\w$"])' + re.escape(qualifier) + r"\.")
        self._owner_and_privileges("SCHEMA", self.tgt, owner, has_acl, grants)
        self._comment("SCHEMA", self.tgt, comment)

        # Every object of a schema records a dependency on it: one index scan lists them (not the
        # indexes, constraints and triggers, which depend on their tables).
        tables, sequences, routines, unsupported = [], [], [], []
        for catalog, oid, kind, description in self._query("""
                SELECT d.classid::regclass::text, d.objid, coalesce(c.relkind::text, p.prokind::text, ''),
                       pg_describe_object(d.classid, d.objid, 0)
                FROM pg_depend d
                LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
                LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
                WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %s AND d.deptype = 'n'""",
                [nsp]):
            if catalog == "pg_class" and kind in ("r", "S"):
                (tables if kind == "r" else sequences).append(oid)
            elif catalog == "pg_proc" and kind in ("f", "p"):
                routines.append(oid)
            else:
                unsupported.append(description)
        self.ids = {"tables": tables, "sequences": sequences, "relations": tables + sequences,
                    "routines": routines}
        unsupported += [description for (description,) in self._query("""
            SELECT format('policy %%s on %%s', p.polname, p.polrelid::regclass)
            FROM pg_policy p WHERE p.polrelid = ANY(%(tables)s::oid[])
            UNION ALL
            SELECT format('row-level security on %%s', c.oid::regclass) FROM pg_class c
            WHERE c.oid = ANY(%(tables)s::oid[]) AND (c.relrowsecurity OR c.relforcerowsecurity)
            UNION ALL
            SELECT format('replica identity of %%s', c.oid::regclass) FROM pg_class c
            WHERE c.oid = ANY(%(tables)s::oid[]) AND c.relreplident <> 'd'
            UNION ALL
            SELECT format('rule %%s on %%s', r.rulename, r.ev_class::regclass)
            FROM pg_rewrite r WHERE r.ev_class = ANY(%(tables)s::oid[])
            UNION ALL
            SELECT format('inheritance of %%s', i.inhrelid::regclass) FROM pg_inherits i
            WHERE i.inhrelid = ANY(%(tables)s::oid[]) OR i.inhparent = ANY(%(tables)s::oid[])
            UNION ALL
            SELECT format('column privileges on %%s.%%I', a.attrelid::regclass, a.attname) FROM pg_attribute a
            WHERE a.attrelid = ANY(%(tables)s::oid[]) AND a.attacl IS NOT NULL
            UNION ALL
            SELECT format('clustered index %%s', x.indexrelid::regclass) FROM pg_index x
            WHERE x.indrelid = ANY(%(tables)s::oid[]) AND x.indisclustered""", self.ids)]
        if unsupported:
            raise UnsupportedSchemaObject(f"schema_clone() cannot copy, in {self.source}: "
                                          + "; ".join(sorted(unsupported)))

    def _tables(self) -> None:
        for table, unlogged, options, toast_options, columns, identity, owner, has_acl, grants, comment in (
                self._query(f"""
                    SELECT c.relname, c.relpersistence = 'u', c.reloptions,
                           ARRAY(SELECT unnest(t.reloptions)),
                           ARRAY(SELECT a.attname FROM pg_attribute a
                                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                   AND a.attgenerated = '' ORDER BY a.attnum),
                           EXISTS (SELECT 1 FROM pg_attribute a
                                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attidentity <> ''),
                           pg_get_userbyid(c.relowner), c.relacl IS NOT NULL, {_grants('c.relacl')},
                           {_description('c.oid', 'pg_class')}
                    FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
                    WHERE c.oid = ANY(%(tables)s::oid[]) ORDER BY c.relname""", self.ids)):  # noqa: S608
            src, dst = _ident(self.source, table), _ident(self.target, table)
            storage = [option.split("=", 1) for option in
                       [*(options or []), *(f"toast.{option}" for option in toast_options)]]
            with_storage = (" WITH (" + ", ".join(f"{_ident(*key.split('.'))} = {_literal(value)}"
                                                  for key, value in storage) + ")") if storage else ""
            self.first.append(f"CREATE {'UNLOGGED ' if unlogged else ''}TABLE {dst} "
                              f"(LIKE {src} {_LIKE_OPTIONS}){with_storage}")
            # Generated columns are computed again; OVERRIDING keeps GENERATED ALWAYS identity values.
            listed = ", ".join(_ident(column) for column in columns)
            overriding = " OVERRIDING SYSTEM VALUE" if identity else ""
            insert = f"INSERT INTO {dst} ({listed}){overriding} SELECT {listed} FROM {src}"  # noqa: S608
            self.rows.append(insert)
            self._owner_and_privileges("TABLE", dst, owner, has_acl, grants)
            self._comment("TABLE", dst, comment)

    def _sequences(self) -> None:
        for (name, unlogged, seq_type, start, increment, minimum, maximum, cache, cycle, dependency, table,
             table_here, column, identity, column_type, owner, has_acl, grants, comment) in self._query(f"""
                SELECT s.relname, s.relpersistence = 'u', format_type(q.seqtypid, NULL), q.seqstart,
                       q.seqincrement, q.seqmin, q.seqmax, q.seqcache, q.seqcycle,
                       d.deptype, t.relname, t.oid = ANY(%(tables)s::oid[]), a.attname, a.attidentity,
                       format_type(a.atttypid, NULL), pg_get_userbyid(s.relowner), s.relacl IS NOT NULL,
                       {_grants('s.relacl')}, {_description('s.oid', 'pg_class')}
                FROM unnest(%(sequences)s::oid[]) o
                JOIN pg_class s ON s.oid = o JOIN pg_sequence q ON q.seqrelid = o
                LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                     AND d.objsubid = 0 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                LEFT JOIN pg_class t ON t.oid = d.refobjid
                LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                ORDER BY s.relname""", self.ids):  # noqa: S608
            if dependency is not None and not table_here:
                raise UnsupportedSchemaObject(f"schema_clone() cannot copy, in {self.source}: sequence "
                                              f"{name} owned by a column of another schema")
            src, dst = _ident(self.source, name), _ident(self.target, name)
            parameters = (f"INCREMENT BY {increment} MINVALUE {minimum} MAXVALUE {maximum} "
                          f"START WITH {start} CACHE {cache} {'' if cycle else 'NO '}CYCLE")
            position = (f"SELECT pg_catalog.setval({_literal(dst)}, s.last_value, s.is_called) "  # noqa: S608
                        f"FROM {src} s")
            if dependency == "i":
                kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
                self.alter.setdefault(table, []).append(
                    f"ALTER COLUMN {_ident(column)} ADD GENERATED {kind} AS IDENTITY "
                    f"(SEQUENCE NAME {dst} {parameters})")
                if seq_type != column_type:  # identity takes the column's type; AS is refused there
                    self.sequences.append(f"ALTER SEQUENCE {dst} AS {seq_type}")
                if increment > 0:  # the template's position, and past the copied rows whatever it says
                    copied_max = f"SELECT max({_ident(column)}) FROM {_ident(self.target, table)}"  # noqa: S608
                    position = (f"SELECT pg_catalog.setval({_literal(dst)}, greatest(s.last_value, m.v), "  # noqa: S608
                                "s.is_called OR coalesce(m.v >= s.last_value, false)) "
                                f"FROM {src} s, ({copied_max}) m(v)")
            else:
                self.first.append(f"CREATE {'UNLOGGED ' if unlogged else ''}SEQUENCE {dst} AS {seq_type} "
                                  f"{parameters}")
                if dependency == "a":  # serial
                    owner_column = _ident(self.target, table, column)
                    self.sequences.append(f"ALTER SEQUENCE {dst} OWNED BY {owner_column}")
            self.positions.append(position)
            self._owner_and_privileges("SEQUENCE", dst, owner, has_acl, grants, owned_by_table=bool(dependency))
            self._comment("SEQUENCE", dst, comment)

    def _routines(self) -> None:
        for definition, arguments, name, owner, has_acl, grants, comment in self._query(f"""
                SELECT pg_get_functiondef(p.oid), pg_get_function_identity_arguments(p.oid), p.proname,
                       pg_get_userbyid(p.proowner), p.proacl IS NOT NULL, {_grants('p.proacl')},
                       {_description('p.oid', 'pg_proc')}
                FROM pg_proc p
                WHERE p.oid = ANY(%(routines)s::oid[]) ORDER BY p.oid""", self.ids):  # noqa: S608
            self.routines.append(self._swap(definition))
            signature = f"{_ident(self.target, name)}({self._swap(arguments)})"
            self._owner_and_privileges("ROUTINE", signature, owner, has_acl, grants)
            self._comment("ROUTINE", signature, comment)

    def _expressions(self) -> None:
        """Defaults, generated columns and CHECK constraints that LIKE copied pointing into the
        template (nextval() of a schema sequence, a schema function): made again from their text."""
        for kind, table, name, definition, comment in self._query(f"""
                SELECT CASE WHEN a.attgenerated = '' THEN 'default' ELSE 'generated' END, c.relname,
                       a.attname, pg_get_expr(ad.adbin, ad.adrelid), NULL
                FROM unnest(%(tables)s::oid[]) r JOIN pg_attrdef ad ON ad.adrelid = r
                JOIN pg_class c ON c.oid = r JOIN pg_attribute a ON a.attrelid = r AND a.attnum = ad.adnum
                WHERE {_into_source('pg_attrdef', 'ad.oid', 'ad.adrelid')}
                UNION ALL
                SELECT 'check', c.relname, k.conname, pg_get_constraintdef(k.oid),
                       {_description('k.oid', 'pg_constraint')}
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                WHERE k.conrelid = ANY(%(tables)s::oid[]) AND k.contype = 'c'
                  AND {_into_source('pg_constraint', 'k.oid', 'k.conrelid')}""", self.ids):  # noqa: S608
            commands = self.alter.setdefault(table, [])
            if kind == "default":
                commands.append(f"ALTER COLUMN {_ident(name)} SET DEFAULT {self._swap(definition)}")
            elif kind == "generated":
                commands.append(f"ALTER COLUMN {_ident(name)} SET EXPRESSION AS ({self._swap(definition)})")
            else:
                commands += [f"DROP CONSTRAINT {_ident(name)}",
                             f"ADD CONSTRAINT {_ident(name)} {self._swap(definition)}"]
                self._comment("CONSTRAINT", f"{_ident(name)} ON {_ident(self.target, table)}", comment)

    def _constraints(self) -> None:
        """Foreign keys, added after the rows; comments of the constraints LIKE made with indexes."""
        for table, name, kind, definition, comment in self._query(f"""
                SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid),
                       {_description('k.oid', 'pg_constraint')}
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                WHERE k.conrelid = ANY(%(tables)s::oid[]) AND k.contype IN ('p', 'u', 'x', 'f')
                ORDER BY c.relname, k.conname""", self.ids):  # noqa: S608
            if kind == "f":
                self.foreign.setdefault(table, []).append(
                    f"ADD CONSTRAINT {_ident(name)} {self._swap(definition)}")
            self._comment("CONSTRAINT", f"{_ident(name)} ON {_ident(self.target, table)}", comment)

    def _triggers(self) -> None:
        enable = {"D": "DISABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "A": "ENABLE ALWAYS TRIGGER"}
        for table, name, definition, enabled, comment in self._query(f"""
                SELECT c.relname, g.tgname, pg_get_triggerdef(g.oid), g.tgenabled,
                       {_description('g.oid', 'pg_trigger')}
                FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                WHERE g.tgrelid = ANY(%(tables)s::oid[]) AND NOT g.tgisinternal
                ORDER BY c.relname, g.tgname""", self.ids):  # noqa: S608
            self.triggers.append(self._swap(definition))
            if enabled in enable:
                self.triggers.append(f"ALTER TABLE {_ident(self.target, table)} {enable[enabled]} "
                                     f"{_ident(name)}")
            self._comment("TRIGGER", f"{_ident(name)} ON {_ident(self.target, table)}", comment)

    def _indexes(self, schema: str) -> list[_Index]:
        """The indexes of the schema's tables, in creation order (LIKE copies them in that order)."""
        return [_Index(*row) for row in self._query(f"""
            SELECT t.relname, i.relname,
                   replace(pg_get_indexdef(i.oid),
                           'INDEX ' || quote_ident(i.relname) || ' ON ' || quote_ident(n.nspname) || '.',
                           'INDEX ON ')
                   || CASE WHEN k.oid IS NULL THEN ''
                           ELSE format(' (%%s %%s %%s)', k.contype, k.condeferrable, k.condeferred) END,
                   pg_get_indexdef(i.oid), k.contype, pg_get_constraintdef(k.oid),
                   EXISTS (SELECT 1 FROM pg_depend e
                           WHERE e.classid = 'pg_class'::regclass AND e.objid = i.oid
                             AND e.refclassid = 'pg_proc'::regclass
                             AND e.refobjid = ANY(%(routines)s::oid[])),
                   {_description('i.oid', 'pg_class')}
            FROM pg_namespace n
            JOIN pg_depend d ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid
                 AND d.deptype = 'n' AND d.classid = 'pg_class'::regclass
            JOIN pg_class t ON t.oid = d.objid AND t.relkind = 'r'
            JOIN pg_index x ON x.indrelid = t.oid
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_constraint k ON k.conrelid = t.oid AND k.conindid = i.oid
                 AND k.contype IN ('p', 'u', 'x')
            WHERE n.nspname = %(schema)s ORDER BY i.oid""", {**self.ids, "schema": schema})]  # noqa: S608

    def _indexes_match(self, source: list[_Index], target: list[_Index]) -> tuple[list[str], list[str]]:
        """Statements renaming the indexes LIKE made to their names in the template (a constraint is
        renamed with its index), and making again those on the template's own routines."""
        def paired(indexes: list[_Index]) -> dict[tuple[str, str, int], _Index]:
            seen: Counter[tuple[str, str]] = Counter()
            out = {}
            for index in indexes:  # identical definitions are told apart by their order
                out[index.table, index.key, seen[index.table, index.key]] = index
                seen[index.table, index.key] += 1
            return out

        wanted, made = paired(source), paired(target)
        if wanted.keys() != made.keys():
            raise RuntimeError(f"schema_clone(): the indexes copied into {self.target} do not match "
                               f"{self.source}'s: {sorted(set(wanted) ^ set(made))}")
        moves = [(made[key].name, index.name) for key, index in wanted.items()
                 if made[key].name != index.name]
        renames = []
        if {current for current, _ in moves} & {index.name for index in source}:  # free those names first
            renames += [f"ALTER INDEX {_ident(self.target, current)} RENAME TO {_ident(f'osdm_clone_{n}')}"
                        for n, (current, _) in enumerate(moves)]
            moves = [(f"osdm_clone_{n}", name) for n, (_, name) in enumerate(moves)]
        renames += [f"ALTER INDEX {_ident(self.target, current)} RENAME TO {_ident(name)}"
                    for current, name in moves]
        remade = []
        for key, index in wanted.items():
            qualified = _ident(self.target, index.name)
            if index.into_source and index.constraint_type:
                definition = self._swap(index.constraint_definition)
                name = _ident(index.name)
                remade.append(f"ALTER TABLE {_ident(self.target, index.table)} "
                              f"DROP CONSTRAINT {name}, ADD CONSTRAINT {name} {definition}")
            elif index.into_source:
                remade += [f"DROP INDEX {qualified}", self._swap(index.definition)]
            if index.comment != made[key].comment or (index.into_source and index.comment is not None):
                text = "NULL" if index.comment is None else _literal(index.comment)
                self.extras.append(f"COMMENT ON INDEX {qualified} IS {text}")
        return renames, remade


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

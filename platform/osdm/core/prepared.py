"""Querysets compiled once per process: the hot reads of a request without the ORM's SQL compiler.

Django compiles a queryset to SQL on every evaluation, and for a typical lookup by primary key (with a
`select_related`, an annotation or a row lock) that compilation costs 0.2–0.5 ms of Python, more than
PostgreSQL needs to answer it. Profiles of the checkout (docs/payments.md#figures) found a quarter of
the API's CPU there. A `Prepared` query keeps the queryset's shape and compiles it once; each call
binds new values and builds model instances exactly as `QuerySet` iteration does (select_related
objects, deferred fields, annotations, database converters).

    _user_active = Prepared(lambda p: User.objects.select_related("seller_profile")
                            .filter(pk=p.uuid("id"), is_active=True)[:1])
    user = _user_active.first(id=user_id)

The builder receives a `Params` and marks each value that varies between calls with `p.uuid(name)`,
`p.str(name)`, `p.int(name)` or `p.datetime(name)` (`p.uuids(name)` / `p.strs(name)` for the list of
an `__in` lookup, compiled once per length): placeholders of that type that the compiler passes
through unchanged, found again among the compiled SQL's parameters. A placeholder the ORM
transforms on its way (`__icontains`, an expression around it) is not found, and compiling fails
loudly. Everything else in the builder is a constant of the shape.

Invariants kept: the same SQL text as the ORM would send (the query log, `CaptureQueriesContext` and
`DEBUG` see it as any other query, and it runs on the tenant's `search_path`); a prepared row lock
(`select_for_update`) refuses to run outside a transaction, as the ORM's does; prefetching is not
supported (it is a second query: prefetch with `prefetch_related_objects` on the result).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from django.db import DatabaseError, connections
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

_UUID_BASE = 0x05D3_0000_0000_0000_0000_0000_0000_0000  # placeholders: UUIDs nobody generates (version nibble 0)
_INT_BASE = -2_000_000_000  # inside the 32-bit range: Django drops out-of-range integer lookups
_DATETIME_BASE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


class Params:
    """Placeholders for the values of one prepared query, recorded by name (a list's by name and
    position)."""

    def __init__(self, lengths: dict[str, int]) -> None:
        self.lengths = lengths
        self.kinds: dict[str, Callable[[Any], Any]] = {}
        self.names: dict[Any, tuple[str, int | None]] = {}

    def _mark(self, name: str, make: Callable[[int], Any], coerce: Callable[[Any], Any], many: bool) -> Any:
        if name in self.kinds:
            raise ValueError(f"prepared query: parameter {name!r} is marked twice")
        self.kinds[name] = coerce
        if not many:
            value = make(len(self.names))
            self.names[value] = (name, None)
            return value
        values = []
        for index in range(self.lengths.get(name, 1)):
            values.append(make(len(self.names)))
            self.names[values[-1]] = (name, index)
        return values

    def uuid(self, name: str) -> uuid.UUID:
        return self._mark(name, _uuid_marker, _to_uuid, False)

    def uuids(self, name: str) -> list[uuid.UUID]:
        """For `field__in`: each length of list the calls give compiles once."""
        return self._mark(name, _uuid_marker, _to_uuid, True)

    def str(self, name: str) -> str:
        return self._mark(name, _str_marker, str, False)

    def strs(self, name: str) -> list[str]:
        return self._mark(name, _str_marker, str, True)

    def int(self, name: str) -> int:
        return self._mark(name, lambda n: _INT_BASE - n, int, False)

    def datetime(self, name: str) -> dt.datetime:
        return self._mark(name, lambda n: _DATETIME_BASE + dt.timedelta(seconds=n), _to_datetime, False)


def _uuid_marker(n: int) -> uuid.UUID:
    return uuid.UUID(int=_UUID_BASE + n)


def _str_marker(n: int) -> str:
    return f"\x1fosdm-prepared:{n}\x1f"


def _to_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _to_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"prepared query: expected a datetime, got {type(value).__name__}")
    return value


class _Plan:
    """One compiled shape: SQL, where each parameter comes from, and how rows become instances."""

    __slots__ = (
        "annotations",
        "coerce",
        "col_count",
        "converters",
        "db",
        "end",
        "for_update",
        "init_list",
        "model",
        "populators",
        "slots",
        "sql",
        "start",
    )

    def __init__(self, queryset: QuerySet, params: Params) -> None:
        query = queryset.query
        if queryset._prefetch_related_lookups:
            raise ValueError("prepared query: prefetch_related is a second query; prefetch the result instead")
        if queryset._iterable_class.__name__ != "ModelIterable":
            raise ValueError("prepared query: only querysets of model instances (no values()/values_list())")
        self.db = queryset.db
        compiler = query.get_compiler(using=self.db)
        self.sql, compiled = compiler.as_sql()
        self.slots: list[tuple[str | None, int | None, Any]] = []
        found = set()
        for value in compiled:
            name, index = params.names.get(value, (None, None)) if _hashable(value) else (None, None)
            self.slots.append((name, index, value))
            found.add(name)
        missing = set(params.kinds) - found
        if missing:
            raise ValueError(f"prepared query: parameters {sorted(missing)} are transformed by the ORM or unused; "
                             "prepare only plain comparisons with them")
        self.coerce = params.kinds
        self.for_update = query.select_for_update
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.annotations = list((compiler.annotation_col_map or {}).items())
        self.col_count = compiler.col_count if compiler.has_extra_select else None
        self.converters = list(compiler.get_converters([s[0] for s in select[:compiler.col_count]]).items())

    def run(self, values: dict[str, Any]) -> list[Model]:
        if values.keys() != self.coerce.keys():
            raise TypeError(f"prepared query: expected the parameters {sorted(self.coerce)}, got {sorted(values)}")
        params = [value if name is None else self.coerce[name](values[name] if index is None else values[name][index])
                  for name, index, value in self.slots]
        connection = connections[self.db]
        if self.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        rows, _count = _execute(connection, self.sql, params, fetch=True)
        return [self._instance(row, connection) for row in rows]

    def _instance(self, row, connection) -> Model:
        if self.col_count is not None:
            row = row[:self.col_count]
        if self.converters:
            row = list(row)
            for pos, (convs, expression) in self.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
        obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        for name, pos in self.annotations:
            setattr(obj, name, row[pos])
        return obj


def _execute(connection, sql: str, params: list, *, fetch: bool) -> tuple[list[tuple], int]:
    """Run one statement, prepared on the server, as Django would run it (on the tenant's search_path,
    through the execute wrappers, its errors turned into Django's, in DEBUG's query log with its
    values): its rows (if `fetch`) and its row count."""
    native = _NATIVE.get(sql) or _native(sql)
    with connection.cursor() as cursor:  # the tenant's search_path set, as for any query
        prepared = _PreparingCursor(cursor.cursor.connection)
        started = time.monotonic()
        try:
            connection.make_cursor(prepared).execute(native, params)
        finally:
            if connection.queries_logged:
                connection.queries_log.append({"sql": connection.ops.compose_sql(sql, params),
                                               "time": f"{time.monotonic() - started:.3f}"})
        return (prepared.fetchall() if fetch else []), prepared.rowcount


# Django's SQL has %s placeholders (and %% for a literal %); PostgreSQL's own are $1, $2... Written
# once per statement, so psycopg does not split the text on every call (it caches that only for
# statements under 4 kB and 50 values: not a row with its joins, nor a multi-row insert).
_placeholders = re.compile(r"%(%|s)")
_NATIVE: dict[str, str] = {}


def _native(sql: str) -> str:
    numbers = itertools.count(1)
    _NATIVE[sql] = native = _placeholders.sub(lambda m: "%" if m[1] == "%" else f"${next(numbers)}", sql)
    return native


class _PreparingCursor(psycopg.RawCursor):
    """Server-side binding, $n placeholders, and a statement PostgreSQL parses and plans once per
    session (Django's cursors bind on the client, so each query would be parsed and planned again)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, uuid.UUID, dt.datetime))


class Prepared:
    """A queryset shape compiled on first use and reused by every later call (threads share it: a
    plan is read-only once built, and two threads building the first one at once build the same).
    A shape with lists (`p.uuids`) compiles once per length of list it is called with."""

    def __init__(self, build: Callable[[Params], QuerySet]) -> None:
        self._build = build
        self._plans: dict[tuple, _Plan] = {}

    def all(self, **values: Any) -> list[Model]:
        lists = tuple((name, len(value)) for name, value in values.items() if isinstance(value, (list, tuple)))
        plan = self._plans.get(lists)
        if plan is None:
            if any(not length for _name, length in lists):
                return []  # `__in` an empty list matches nothing, and the ORM sends no query either
            params = Params(dict(lists))
            plan = self._plans[lists] = _Plan(self._build(params), params)
        return plan.run(values)

    def first(self, **values: Any) -> Model | None:
        """The first row's instance, or None: give the builder its `[:1]` (and an order if it matters)."""
        found = self.all(**values)
        return found[0] if found else None


def prefetched(instance: Model, name: str, rows: list[Model]) -> None:
    """Give `instance.<name>.all()` these rows of a reverse foreign key without a query, as
    `prefetch_related` would: each row's own link back to the instance is set too."""
    manager = getattr(instance, name)
    queryset = manager.get_queryset()
    queryset._result_cache, queryset._prefetch_done = rows, True
    for row in rows:
        manager.field.set_cached_value(row, instance)
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[manager.field.remote_field.cache_name] = queryset


# --- writes --------------------------------------------------------------------------------------
#
# `Model.save()` and `QuerySet.bulk_create()` compile their INSERT or UPDATE on every call (0.1–0.2 ms
# of Python before PostgreSQL sees it, and PostgreSQL plans it again each time). For the rows every
# checkout writes, `save_fields` and `insert` build each statement once per model and column list and
# run it prepared: the same columns, the same values (each field's `pre_save` and `get_db_prep_save`,
# so `auto_now` and JSON behave as in `save()`). A model with its own `save()`, `pre_save`/`post_save`
# receivers, parents or database defaults is saved by Django as usual, so nothing it relies on is
# skipped; so is a value that is an expression (`F("n") + 1`).

_statements: dict[tuple, tuple[str, list, list] | None] = {}


def _plain(model: type[Model]) -> bool:
    """Nothing of Django's save() would be skipped (receivers are checked on every call: one may connect later)."""
    return (model.save is Model.save and model.save_base is Model.save_base and not model._meta.parents
            and not signals.pre_save.has_listeners(model) and not signals.post_save.has_listeners(model))


def _update_statement(model: type[Model], names: tuple[str, ...]):
    key = ("update", model, names)
    if key not in _statements:
        meta = model._meta
        fields = [meta.get_field(name) for name in names]
        if any(f.primary_key or not f.concrete or hasattr(f, "get_placeholder") for f in fields):
            _statements[key] = None
        else:
            quote = connections["default"].ops.quote_name
            sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "  # noqa: S608
                   f"WHERE {quote(meta.db_table)}.{quote(meta.pk.column)} = %s")
            _statements[key] = (sql, fields, [])
    return _statements[key]


def save_fields(instance: Model, fields: list[str]) -> None:
    """`instance.save(update_fields=fields)` (add "updated_at" yourself, as with `save()`)."""
    statement = _update_statement(type(instance), tuple(dict.fromkeys(fields))) if _plain(type(instance)) else None
    if statement is None:
        instance.save(update_fields=fields)
        return
    sql, columns, _returning = statement
    connection = connections["default"]
    values = [field.pre_save(instance, False) for field in columns]
    if any(hasattr(value, "resolve_expression") for value in values):
        instance.save(update_fields=fields)
        return
    params = [field.get_db_prep_save(value, connection) for field, value in zip(columns, values, strict=True)]
    params.append(type(instance)._meta.pk.get_db_prep_value(instance.pk, connection))
    _rows, count = _execute(connection, sql, params, fetch=False)
    if count != 1:
        raise DatabaseError("Save with update_fields did not affect any rows.")


def _insert_statement(model: type[Model], rows: int, with_pk: bool):
    key = ("insert", model, rows, with_pk)
    if key not in _statements:
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated and (with_pk or f is not meta.pk)]
        if any(hasattr(f, "get_placeholder") or f.has_db_default() for f in fields):
            _statements[key] = None
        else:
            quote = connections["default"].ops.quote_name
            returning = [] if with_pk else [f for f in meta.db_returning_fields]
            row = f"({', '.join(['%s'] * len(fields))})"
            sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
                   f"VALUES {', '.join([row] * rows)}"
                   + (f" RETURNING {', '.join(quote(f.column) for f in returning)}" if returning else ""))
            _statements[key] = (sql, fields, returning)
    return _statements[key]


def insert(*instances: Model) -> None:
    """Insert these new rows of one model in one statement, as `save(force_insert=True)` would each
    (database-generated keys are set on them)."""
    if not instances:
        return
    model = type(instances[0])
    with_pk = instances[0].pk is not None
    statement = _insert_statement(model, len(instances), with_pk) if _plain(model) else None
    if statement is None or any(type(i) is not model or (i.pk is not None) != with_pk for i in instances):
        _save_each(instances)
        return
    sql, columns, returning = statement
    connection = connections["default"]
    params = []
    for instance in instances:
        values = [field.pre_save(instance, True) for field in columns]
        if any(hasattr(value, "resolve_expression") for value in values):
            _save_each(instances)
            return
        params += [field.get_db_prep_save(value, connection) for field, value in zip(columns, values, strict=True)]
    rows, _count = _execute(connection, sql, params, fetch=bool(returning))
    for position, instance in enumerate(instances):
        for field, value in zip(returning, rows[position] if returning else (), strict=True):
            setattr(instance, field.attname, value)
        instance._state.adding, instance._state.db = False, connection.alias


def execute(sql: str, params: list) -> int:
    """One statement of your own (`%s` placeholders), prepared as the others; its row count."""
    return _execute(connections["default"], sql, params, fetch=False)[1]


def _save_each(instances) -> None:
    """Django's own way, signals and all."""
    for instance in instances:
        instance.save(force_insert=True)

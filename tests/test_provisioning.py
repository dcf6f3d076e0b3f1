"""Fast provisioning: clones and spares match the code's migrations; a stale template is caught."""

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists

from tenants import provisioning, services
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def _columns(schema: str) -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                       "WHERE table_schema = %s", [schema])
        return set(cursor.fetchall())


def _constraints(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint c "
                       "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s", [schema])
        return {(table.split(".")[-1], name) for table, name in cursor.fetchall()}


def _indexes(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", [schema])
        return {(name, definition.replace(f"{schema}.", "")) for name, definition in cursor.fetchall()}


def _rows(schema: str, query: str) -> set[tuple]:
    """The rows of a catalog query on `schema` (bound to %(schema)s), its name taken out of every text."""
    with connection.cursor() as cursor:
        cursor.execute(query, {"schema": schema})
        return {tuple(value.replace(f"{schema}.", "") if isinstance(value, str) else value for value in row)
                for row in cursor.fetchall()}


def _sequences(schema: str) -> set[tuple]:
    return _rows(schema, """
        SELECT s.relname, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmin, q.seqmax,
               q.seqcache, q.seqcycle, s.relpersistence, d.deptype, t.relname, a.attname
        FROM pg_class s JOIN pg_sequence q ON q.seqrelid = s.oid
        LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_class t ON t.oid = d.refobjid
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE s.relnamespace = %(schema)s::regnamespace""")


def _sequence_positions(schema: str) -> set[tuple]:
    return _rows(schema, "SELECT c.relname, pg_sequence_last_value(c.oid) FROM pg_class c "
                         "WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'S'")


def _functions(schema: str) -> set[tuple]:
    return _rows(schema, "SELECT p.proname, pg_get_functiondef(p.oid), p.proacl::text, "
                         "obj_description(p.oid, 'pg_proc') FROM pg_proc p "
                         "WHERE p.pronamespace = %(schema)s::regnamespace")


def _triggers(schema: str) -> set[tuple]:
    return _rows(schema, "SELECT c.relname, g.tgname, pg_get_triggerdef(g.oid), g.tgenabled "
                         "FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
                         "WHERE c.relnamespace = %(schema)s::regnamespace AND NOT g.tgisinternal")


def _column_details(schema: str) -> set[tuple]:
    """Every column: position among the live columns, type, nullability, default, identity, generation,
    collation, storage, compression, comment."""
    return _rows(schema, """
        SELECT c.relname, a.attname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
               format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
               a.attidentity, a.attgenerated, a.attcollation, a.attstorage, a.attcompression,
               col_description(c.oid, a.attnum)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0
          AND NOT a.attisdropped""")


def _relation_details(schema: str) -> set[tuple]:
    """Kind, persistence, storage options, privileges and comment of every relation, and every
    constraint's definition, timing, validity and comment."""
    return _rows(schema, """
        SELECT c.relname::text, c.relkind::text, c.relpersistence::text, c.reloptions::text, c.relacl::text,
               obj_description(c.oid, 'pg_class')
        FROM pg_class c WHERE c.relnamespace = %(schema)s::regnamespace
        UNION ALL
        SELECT k.conrelid::regclass::text || ' ' || k.conname, k.contype::text, pg_get_constraintdef(k.oid),
               concat_ws(' ', k.condeferrable, k.condeferred, k.convalidated), NULL,
               obj_description(k.oid, 'pg_constraint')
        FROM pg_constraint k WHERE k.connamespace = %(schema)s::regnamespace""")


def _row_counts(schema: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'",
                       [schema])
        counts = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            counts[table] = cursor.fetchone()[0]
        return counts


def _structure(schema: str) -> dict[str, set]:
    return {"columns": _columns(schema), "constraints": _constraints(schema), "indexes": _indexes(schema),
            "sequences": _sequences(schema), "functions": _functions(schema), "triggers": _triggers(schema),
            "column details": _column_details(schema), "relation details": _relation_details(schema)}


def _assert_same_structure(schema: str, template: str) -> None:
    expected = _structure(template)
    for aspect, found in _structure(schema).items():
        assert found == expected[aspect], aspect


def _fresh_clone(name: str = "t_fresh_clone") -> tuple[str, str]:
    """The template and a clone of it made in the test's transaction (rolled back with it)."""
    template = provisioning.template_ensure().schema_name
    provisioning.schema_clone(source=template, target=name)
    return template, name


def _dependencies_on(schema: str, *, source: str) -> list[tuple[str, str]]:
    """Objects of `schema` that depend on an object of `source`: a clone must stand on its own."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_describe_object(d.classid, d.objid, d.objsubid),
                   pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
            FROM pg_depend d
            WHERE (d.refclassid = 'pg_class'::regclass
                   AND d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = %(source)s::regnamespace))
               OR (d.refclassid = 'pg_proc'::regclass
                   AND d.refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = %(source)s::regnamespace))
            """, {"source": source})
        return [row for row in cursor.fetchall() if f"{schema}." in row[0]]


def test_a_fresh_tenant_matches_its_migrations(alpha):
    schema = alpha.tenant.schema_name
    template = provisioning.template_ensure().schema_name
    assert provisioning.tables_missing_columns(schema) == []
    assert provisioning.applied_migrations(schema) == set(provisioning.code_migrations())
    assert _columns(schema) == _columns(template)
    assert _constraints(schema) == _constraints(template)
    assert _indexes(schema) == _indexes(template)
    # Sequences, routines, triggers, defaults and identity, storage, comments, privileges.
    _assert_same_structure(schema, template)
    assert _functions(schema), "the template's audit_record_immutable() was not cloned"
    assert _triggers(schema), "the template's audit triggers were not cloned"
    sequence_names = {name for name, *_ in _sequences(schema)}
    assert sequence_names >= {"orders_order_number_seq", "django_migrations_id_seq"}
    assert _dependencies_on(schema, source=template) == []
    # A clone made now holds exactly the template's rows, its sequences where the template's are.
    template, fresh = _fresh_clone()
    _assert_same_structure(fresh, template)
    assert _row_counts(fresh) == _row_counts(template)
    assert _row_counts(fresh)["django_migrations"] == len(provisioning.code_migrations())
    assert _row_counts(fresh)["auth_permission"] > 0
    assert _sequence_positions(fresh) == _sequence_positions(template)
    assert _dependencies_on(fresh, source=template) == []


def test_identity_sequences_of_a_clone_continue_after_the_copied_rows():
    template, fresh = _fresh_clone()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT max(id) FROM "{template}".django_content_type')
        content_type_max = cursor.fetchone()[0]
        cursor.execute(f'SELECT max(id) FROM "{template}".auth_permission')
        permission_max = cursor.fetchone()[0]
        assert content_type_max
        assert permission_max
        cursor.execute(f"INSERT INTO \"{fresh}\".django_content_type (app_label, model) "
                       "VALUES ('probe', 'probe') RETURNING id")
        content_type = cursor.fetchone()[0]
        cursor.execute(f"INSERT INTO \"{fresh}\".auth_permission (name, content_type_id, codename) "
                       "VALUES ('Probe', %s, 'probe') RETURNING id", [content_type])
        permission = cursor.fetchone()[0]
    assert content_type > content_type_max
    assert permission > permission_max


def test_the_audit_log_of_a_clone_is_append_only(alpha):
    schema = alpha.tenant.schema_name
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema}".audit_auditrecord')
        assert cursor.fetchone()[0] > 0  # tenant_create audited the marketplace's creation
        for statement in (f"UPDATE \"{schema}\".audit_auditrecord SET action = 'rewritten'",
                          f'DELETE FROM "{schema}".audit_auditrecord',
                          f'TRUNCATE "{schema}".audit_auditrecord'):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute(statement)


def test_a_clone_copies_what_migrations_rarely_make():
    """Serial columns, generated and GENERATED ALWAYS identity columns, unlogged tables, storage
    options, exclusion constraints, defaults, generated columns, CHECK constraints, indexes and
    exclusion constraints on the schema's own functions, disabled triggers, comments and privileges:
    copied, and pointing at the clone's own objects, not the template's."""
    template = provisioning.template_ensure().schema_name
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SET LOCAL search_path = "{template}", public;
            CREATE FUNCTION double_it(integer) RETURNS integer IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
            CREATE TABLE legacy (
                id serial PRIMARY KEY,
                n integer NOT NULL CONSTRAINT legacy_n_positive CHECK (n > 0),
                twice integer GENERATED ALWAYS AS (n * 2) STORED,
                quad integer GENERATED ALWAYS AS (double_it(n) * 2) STORED,
                code integer DEFAULT double_it(21),
                during int4range,
                CONSTRAINT legacy_no_overlap EXCLUDE USING gist (during WITH &&),
                CONSTRAINT legacy_double_small CHECK (double_it(n) < 1000),
                CONSTRAINT legacy_double_apart
                    EXCLUDE USING gist (int4range(double_it(n), double_it(n) + 1) WITH &&)
            ) WITH (fillfactor = 70, autovacuum_enabled = false);
            CREATE INDEX legacy_double_idx ON legacy (double_it(n)) WHERE n > 1;
            CREATE UNLOGGED TABLE scratch (
                id bigint GENERATED ALWAYS AS IDENTITY (START WITH 50 INCREMENT BY 5) PRIMARY KEY,
                legacy_id integer REFERENCES legacy ON DELETE CASCADE);
            INSERT INTO legacy (n, during) VALUES (1, '[1,5)'), (2, '[5,9)'), (3, NULL);
            INSERT INTO scratch (legacy_id) VALUES (1), (2);
            CREATE FUNCTION legacy_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE TRIGGER legacy_touch BEFORE UPDATE ON legacy FOR EACH ROW EXECUTE FUNCTION legacy_touch();
            ALTER TABLE legacy DISABLE TRIGGER legacy_touch;
            COMMENT ON TABLE legacy IS 'legacy rows';
            COMMENT ON COLUMN legacy.n IS 'a positive number';
            COMMENT ON INDEX legacy_double_idx IS 'doubled';
            COMMENT ON CONSTRAINT legacy_no_overlap ON legacy IS 'no two overlap';
            COMMENT ON CONSTRAINT legacy_double_small ON legacy IS 'small';
            COMMENT ON INDEX legacy_double_apart IS 'apart';
            COMMENT ON FUNCTION double_it(integer) IS 'times two';
            GRANT SELECT, INSERT ON legacy TO PUBLIC;
            GRANT USAGE ON SEQUENCE legacy_id_seq, scratch_id_seq TO PUBLIC;
            REVOKE EXECUTE ON FUNCTION double_it(integer) FROM PUBLIC;
            SELECT nextval('legacy_id_seq');
        """)
    connection.set_schema_to_public()  # django-tenants sets the search_path again for the next cursor
    template, fresh = _fresh_clone()
    _assert_same_structure(fresh, template)
    assert _row_counts(fresh) == _row_counts(template)
    assert _sequence_positions(fresh) == _sequence_positions(template)
    assert _dependencies_on(fresh, source=template) == []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_get_serial_sequence('\"{fresh}\".legacy', 'id'), "
                       f"pg_get_serial_sequence('\"{fresh}\".scratch', 'id')")
        assert cursor.fetchone() == (f"{fresh}.legacy_id_seq", f"{fresh}.scratch_id_seq")
        cursor.execute(f'INSERT INTO "{fresh}".legacy (n) VALUES (4) RETURNING id, twice, quad, code')
        assert cursor.fetchone() == (5, 8, 16, 42)  # the template's sequence had been moved on to 4
        cursor.execute(f'INSERT INTO "{fresh}".scratch (legacy_id) VALUES (5) RETURNING id')
        assert cursor.fetchone() == (60,)


def test_a_template_object_the_clone_cannot_copy_fails_loudly():
    template = provisioning.template_ensure().schema_name
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE VIEW "{template}".recent_orders AS SELECT id FROM "{template}".orders_order')
    with pytest.raises(provisioning.UnsupportedSchemaObject, match="recent_orders"):
        provisioning.schema_clone(source=template, target="t_not_made")
    assert not schema_exists("t_not_made")


def test_sequences_in_a_clone_are_its_own(alpha, beta):
    # Rows created in one clone must not advance the other's sequences.
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT nextval(\'"{alpha.tenant.schema_name}".auth_group_id_seq\')')
        a = cursor.fetchone()[0]
        cursor.execute(f'SELECT nextval(\'"{alpha.tenant.schema_name}".auth_group_id_seq\')')
        cursor.execute(f'SELECT last_value FROM "{beta.tenant.schema_name}".auth_group_id_seq')
        assert cursor.fetchone()[0] < a + 1


def _has_sequence(schema: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'S'", [schema, name])
        return cursor.fetchone() is not None


def test_a_stale_template_is_migrated_before_it_is_cloned():
    template = provisioning.template_ensure().schema_name
    # Make the template look like it was migrated before orders' migration 0002 (a RunSQL creating a
    # sequence) existed: unapply it, and whatever depends on it, for real.
    call_command("migrate_schemas", "orders", "0001_initial", schema_name=template, interactive=False,
                 verbosity=0)
    connection.set_schema_to_public()
    assert not _has_sequence(template, "orders_order_number_seq")
    assert not provisioning.schema_is_current(template)
    made = services.tenant_create(slug="afterstale", name="After Stale")
    assert provisioning.tables_missing_columns(made.tenant.schema_name) == []
    assert _has_sequence(made.tenant.schema_name, "orders_order_number_seq")
    assert provisioning.schema_is_current(template)


def test_a_missing_template_is_rebuilt():
    template = provisioning.template_ensure().schema_name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{template}" CASCADE')
    made = services.tenant_create(slug="afterdrop", name="After Drop")
    assert schema_exists(template)
    assert provisioning.tables_missing_columns(made.tenant.schema_name) == []


def test_spares_are_claimed_and_renamed(settings):
    settings.OSDM_SPARE_POOL_SIZE = 2
    assert provisioning.pool_refill() == 2
    spare_schemas = set(Tenant.objects.filter(status="spare").values_list("schema_name", flat=True))
    made = services.tenant_create(slug="fromspare", name="From Spare")
    assert made.used_spare
    assert made.tenant.schema_name == "t_fromspare"
    assert schema_exists("t_fromspare")
    assert provisioning.tables_missing_columns("t_fromspare") == []
    remaining = set(Tenant.objects.filter(status="spare").values_list("schema_name", flat=True))
    assert len(remaining) == 1
    assert remaining < spare_schemas
    assert provisioning.pool_refill() == 1


def test_a_stale_spare_is_never_handed_out(settings):
    settings.OSDM_SPARE_POOL_SIZE = 1
    provisioning.pool_refill()
    spare = Tenant.objects.get(status="spare")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM \"{spare.schema_name}\".django_migrations WHERE app = 'accounts'")
    made = services.tenant_create(slug="notstale", name="Not Stale")
    assert not made.used_spare
    assert provisioning.tables_missing_columns(made.tenant.schema_name) == []


def _leaf_migration() -> tuple[str, str]:
    """A tenant app's migration that no other migration depends on: a schema without its row still
    has a consistent history."""
    tenant_labels = {config.label for config in apps.get_app_configs()
                     if config.name in django_settings.TENANT_APPS}
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(node for node in graph.leaf_nodes() if node[0] in tenant_labels)[-1]


def test_migrate_schemas_skips_schemas_already_up_to_date(capsys, alpha, beta):
    call_command("migrate_schemas", "--noinput", verbosity=1)
    out = capsys.readouterr().out
    assert "Starting migration" not in out  # every schema is current: nothing is run
    app, name = _leaf_migration()
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{beta.tenant.schema_name}".django_migrations '
                       "WHERE app = %s AND name = %s", [app, name])
    assert not provisioning.schema_is_current(beta.tenant.schema_name)
    call_command("migrate_schemas", "--noinput", "--fake", "--schema", beta.tenant.schema_name, app, name,
                 verbosity=1)
    assert provisioning.schema_is_current(beta.tenant.schema_name)
    call_command("migrate_schemas", "--noinput", verbosity=1)
    out = capsys.readouterr().out
    assert "Starting migration" not in out.split("--fake")[-1] or out.count("Starting migration") <= 1


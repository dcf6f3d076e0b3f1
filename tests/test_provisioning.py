"""Fast provisioning: clones and spares match the code's migrations; a stale template is caught."""

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
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


def test_a_fresh_tenant_matches_its_migrations(alpha):
    schema = alpha.tenant.schema_name
    assert provisioning.tables_missing_columns(schema) == []
    assert provisioning.applied_migrations(schema) == set(provisioning.code_migrations())
    assert _columns(schema) == _columns(provisioning.template_ensure().schema_name)
    assert _constraints(schema) == _constraints(provisioning.template_ensure().schema_name)
    assert _indexes(schema) == _indexes(provisioning.template_ensure().schema_name)


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

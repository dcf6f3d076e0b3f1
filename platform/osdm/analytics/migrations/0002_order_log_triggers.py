"""Statement triggers on orders_order and orders_milestone write the dashboards' facts that each
statement changed to analytics_orderlog, in its transaction (see osdm.analytics.models).

Statement-level with transition tables: a bulk UPDATE of many orders costs one INSERT .. SELECT, and
an UPDATE that touches no fact (delivered_at, revisions_used, updated_at) writes nothing. The log
table is named through TG_TABLE_SCHEMA, so the function works whatever the session's search_path
and comes out right in every schema cloned from the template. A contract's listing, kind and
creation time are never changed (nothing updates them); its milestones' facts carry them. A
TRUNCATE of either table forgets the day tables' state, so they are rebuilt before the next read.
"""

from django.db import migrations

ORDER_FACT = """{sign}, {r}.kind, {r}.status, {r}.listing_id, {r}.created_at, {r}.paid_at, 1,
    CASE WHEN {r}.kind = 'contract' THEN 0 ELSE {r}.total END,
    CASE WHEN {r}.kind = 'contract' THEN 0 ELSE {r}.commission END"""
ORDER_CHANGED = """(o.kind, o.status, o.listing_id, o.created_at, o.paid_at, o.total, o.commission)
    IS DISTINCT FROM (n.kind, n.status, n.listing_id, n.created_at, n.paid_at, n.total, n.commission)"""
MILESTONE_CHANGED = """(o.order_id, o.funded_at, o.amount, o.commission)
    IS DISTINCT FROM (n.order_id, n.funded_at, n.amount, n.commission)"""
COLUMNS = "(sign, kind, status, listing_id, created_at, paid_at, orders, total, commission)"

SQL = f"""
CREATE FUNCTION analytics_order_log() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format($q$INSERT INTO %I.analytics_orderlog {COLUMNS}
            SELECT {ORDER_FACT.format(sign=1, r="n")} FROM new_rows n$q$, TG_TABLE_SCHEMA);
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format($q$INSERT INTO %I.analytics_orderlog {COLUMNS}
            SELECT {ORDER_FACT.format(sign=-1, r="o")} FROM old_rows o$q$, TG_TABLE_SCHEMA);
    ELSE
        EXECUTE format($q$INSERT INTO %I.analytics_orderlog {COLUMNS}
            SELECT {ORDER_FACT.format(sign=-1, r="o")} FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE {ORDER_CHANGED}
            UNION ALL
            SELECT {ORDER_FACT.format(sign=1, r="n")} FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE {ORDER_CHANGED}$q$, TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION analytics_milestone_log() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    -- (sign, milestone) pairs that changed; a milestone's fact exists while it is funded.
    EXECUTE format($q$INSERT INTO %1$I.analytics_orderlog {COLUMNS}
        SELECT m.sign, c.kind, NULL, c.listing_id, c.created_at, m.funded_at, 0, m.amount, m.commission
        FROM (%2$s) m JOIN %1$I.orders_order c ON c.id = m.order_id
        WHERE m.funded_at IS NOT NULL$q$, TG_TABLE_SCHEMA, CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT 1 AS sign, order_id, funded_at, amount, commission FROM new_rows'
            WHEN 'DELETE' THEN 'SELECT -1 AS sign, order_id, funded_at, amount, commission FROM old_rows'
            ELSE 'SELECT -1 AS sign, o.order_id, o.funded_at, o.amount, o.commission FROM old_rows o
                  JOIN new_rows n ON n.id = o.id WHERE {MILESTONE_CHANGED}
                  UNION ALL
                  SELECT 1, n.order_id, n.funded_at, n.amount, n.commission FROM old_rows o
                  JOIN new_rows n ON n.id = o.id WHERE {MILESTONE_CHANGED}' END);
    RETURN NULL;
END
$fn$;

-- TRUNCATE fires no row or statement trigger of its own kind: the day tables are marked for a rebuild.
CREATE FUNCTION analytics_reset() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('DELETE FROM %I.analytics_dashboardstate', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$fn$;

CREATE TRIGGER analytics_order_truncate AFTER TRUNCATE ON orders_order
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_reset();
CREATE TRIGGER analytics_milestone_truncate AFTER TRUNCATE ON orders_milestone
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_reset();
CREATE TRIGGER analytics_order_insert AFTER INSERT ON orders_order REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_order_log();
CREATE TRIGGER analytics_order_update AFTER UPDATE ON orders_order
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_order_log();
CREATE TRIGGER analytics_order_delete AFTER DELETE ON orders_order REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_order_log();
CREATE TRIGGER analytics_milestone_insert AFTER INSERT ON orders_milestone REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_milestone_log();
CREATE TRIGGER analytics_milestone_update AFTER UPDATE ON orders_milestone
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_milestone_log();
CREATE TRIGGER analytics_milestone_delete AFTER DELETE ON orders_milestone REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_milestone_log();
"""

REVERSE = """
DROP TRIGGER analytics_milestone_truncate ON orders_milestone;
DROP TRIGGER analytics_order_truncate ON orders_order;
DROP TRIGGER analytics_milestone_delete ON orders_milestone;
DROP TRIGGER analytics_milestone_update ON orders_milestone;
DROP TRIGGER analytics_milestone_insert ON orders_milestone;
DROP TRIGGER analytics_order_delete ON orders_order;
DROP TRIGGER analytics_order_update ON orders_order;
DROP TRIGGER analytics_order_insert ON orders_order;
DROP FUNCTION analytics_milestone_log();
DROP FUNCTION analytics_order_log();
DROP FUNCTION analytics_reset();
"""


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("orders", "0003_dashboard_indexes")]
    operations = [migrations.RunSQL(SQL, REVERSE)]

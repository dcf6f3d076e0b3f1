"""Transfers are immutable: the database refuses UPDATE, DELETE and TRUNCATE of ledger transfers.
Mistakes are corrected by new transfers, so the books always show what happened."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION ledger_transfer_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger transfers are immutable (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_transfer_no_update_delete BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_immutable();
CREATE TRIGGER ledger_transfer_no_truncate BEFORE TRUNCATE ON ledger_transfer
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_immutable();
"""
REVERSE = """
DROP TRIGGER IF EXISTS ledger_transfer_no_truncate ON ledger_transfer;
DROP TRIGGER IF EXISTS ledger_transfer_no_update_delete ON ledger_transfer;
DROP FUNCTION IF EXISTS ledger_transfer_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]

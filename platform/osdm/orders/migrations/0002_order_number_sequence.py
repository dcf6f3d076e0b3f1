"""Order numbers: a sequence per marketplace schema, so numbers are short, ordered and never reused."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [
        migrations.RunSQL("CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq START 1001",
                          "DROP SEQUENCE IF EXISTS orders_order_number_seq"),
    ]

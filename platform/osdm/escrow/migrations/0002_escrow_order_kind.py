"""The order's kind on each escrow (set by escrow_open; here for the escrows opened before), and an
index of the held ones by kind: the money pending per market without reading the orders."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("escrow", "0001_initial"), ("orders", "0003_dashboard_indexes")]

    operations = [
        migrations.AddField(model_name="escrow", name="order_kind", field=models.CharField(default="", max_length=16),
                            preserve_default=False),
        migrations.RunSQL("UPDATE escrow_escrow e SET order_kind = o.kind FROM orders_order o WHERE o.id = e.order_id",
                          migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="escrow",
            index=models.Index(condition=models.Q(("status__in", ["held", "disputed"])), fields=["order_kind"],
                               include=("amount",), name="escrow_pending_kind_idx"),
        ),
    ]

"""Indexes for the dashboards (index-only scans of a user's, or a window's edges', created and paid
orders), and contracts paid: `paid_at` is their first milestone's funding, set from now on by
milestone_mark_funded and here for the contracts funded before."""


from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
        ('orders', '0002_order_number_sequence'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL("""
            UPDATE orders_order o SET paid_at = m.first FROM (
                SELECT order_id, min(funded_at) AS first FROM orders_milestone WHERE funded_at IS NOT NULL
                GROUP BY order_id) m
            WHERE o.id = m.order_id AND o.kind = 'contract' AND o.paid_at IS NULL""", migrations.RunSQL.noop),
        migrations.RemoveIndex(
            model_name='order',
            name='order_buyer_idx',
        ),
        migrations.RemoveIndex(
            model_name='order',
            name='order_seller_idx',
        ),
        migrations.AlterField(
            model_name='order',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AddIndex(
            model_name='milestone',
            index=models.Index(condition=models.Q(('funded_at__isnull', False)), fields=['funded_at'], name='milestone_funded_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['buyer', 'created_at'], include=('kind', 'status'), name='order_buyer_created_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['seller', 'created_at'], include=('kind', 'status'), name='order_seller_created_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['created_at'], include=('kind', 'status'), name='order_created_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('paid_at__isnull', False)), fields=['buyer', 'paid_at'], include=('kind', 'total', 'listing'), name='order_buyer_paid_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('paid_at__isnull', False)), fields=['seller', 'paid_at'], include=('kind', 'total', 'seller_amount', 'listing'), name='order_seller_paid_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('paid_at__isnull', False)), fields=['paid_at'], include=('kind', 'total', 'commission', 'listing', 'created_at'), name='order_paid_idx'),
        ),
    ]

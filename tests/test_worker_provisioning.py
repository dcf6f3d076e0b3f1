"""The spare pool refilled by a real Celery worker, on committed data (no test transaction here)."""

from tenants import provisioning, services
from tenants.models import Tenant
from tenants.tasks import spare_pool_refill

from .conftest import wait_for


def test_the_worker_refills_the_spare_pool_after_a_claim(celery_worker, committed, settings):
    settings.OSDM_SPARE_POOL_SIZE = 1
    try:
        spare_pool_refill.delay(size=1)
        first = wait_for(lambda: Tenant.objects.filter(status="spare").first())
        made = services.tenant_create(slug="pooled", name="Pooled")  # claims it, then queues a refill
        assert made.used_spare
        assert made.tenant.pk == first.pk
        # The worker runs with its own pool size (0 in test settings), so ask for one explicitly too.
        spare_pool_refill.delay(size=1)
        refilled = wait_for(lambda: Tenant.objects.filter(status="spare").first())
        assert refilled.pk != first.pk
        assert Tenant.objects.filter(status="spare").count() == 1  # the claim's own refill added none
        assert provisioning.tables_missing_columns(refilled.schema_name) == []
    finally:
        for tenant in Tenant.objects.filter(status="spare") | Tenant.objects.filter(slug="pooled"):
            services.tenant_delete(tenant=tenant)

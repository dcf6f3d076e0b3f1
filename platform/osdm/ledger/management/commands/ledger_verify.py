"""Recompute every balance from its transfers and check the ledger's invariants, in every
marketplace (or one with --tenant). Reports differences; never fixes anything. Exit code 1 if any."""

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from osdm.ledger.services import verify
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Verify the ledger of every marketplace."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="one marketplace's slug")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED])
        if tenant:
            tenants = tenants.filter(slug=tenant)
        failures = 0
        for item in tenants:
            with schema_context(item.schema_name):
                problems = verify()
            for problem in problems:
                self.stdout.write(f"{item.slug}: {problem}")
            failures += len(problems)
            if not problems:
                self.stdout.write(f"{item.slug}: ok")
        if failures:
            raise SystemExit(1)

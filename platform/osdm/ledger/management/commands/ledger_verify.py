"""Recompute every balance from its transfers, check the ledger's invariants, and compare captured
payments with their gateways, in every marketplace (or one with --tenant). Reports differences;
never fixes anything. Exit code 1 if any."""

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from osdm.ledger.reconciliation import reconcile
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Verify the ledger of every marketplace."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="one marketplace's slug")
        parser.add_argument("--no-gateways", action="store_true", help="check the books only, ask no gateway")

    def handle(self, *args, tenant=None, no_gateways=False, **options):
        tenants = Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED])
        if tenant:
            tenants = tenants.filter(slug=tenant)
        failures = 0
        for item in tenants:
            with schema_context(item.schema_name):
                report = reconcile(check_gateways=not no_gateways)
            problems = report["ledger"] + [f"payment {g['payment_id']}: {g['problem']}" for g in report["gateways"]]
            for unreachable in report["unreachable"]:
                self.stdout.write(f"{item.slug}: could not ask {unreachable}")
            for problem in problems:
                self.stdout.write(f"{item.slug}: {problem}")
            failures += len(problems)
            if not problems:
                self.stdout.write(f"{item.slug}: ok")
        if failures:
            raise SystemExit(1)

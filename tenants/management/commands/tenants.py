"""Tenant administration from the command line (the platform API's twin for operators with shell access).

    manage.py tenants create acme --name "Acme Market" [--sample-data] [--currency SAR] ...
    manage.py tenants list
    manage.py tenants suspend acme [--reason "..."] | activate acme | delete acme --yes
    manage.py tenants create-key acme [--name ci]
    manage.py tenants refill-pool [--size N]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from osdm.audit.services import Actor
from osdm.core.errors import ApplicationError
from tenants import provisioning, sample_data, selectors, services

CLI = Actor.system("cli")


class Command(BaseCommand):
    help = "Create, list, suspend, activate and delete marketplaces; issue secret keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--currency")
        create.add_argument("--default-locale", choices=["ar", "en"])
        create.add_argument("--commission-bps", type=int)
        create.add_argument("--sample-data", action="store_true")
        create.add_argument("--no-categories", action="store_true", help="start without the default taxonomy")
        sub.add_parser("list")
        suspend = sub.add_parser("suspend")
        suspend.add_argument("slug")
        suspend.add_argument("--reason", default="")
        activate = sub.add_parser("activate")
        activate.add_argument("slug")
        delete = sub.add_parser("delete")
        delete.add_argument("slug")
        delete.add_argument("--yes", action="store_true", help="confirm dropping the schema and all its data")
        key = sub.add_parser("create-key")
        key.add_argument("slug")
        key.add_argument("--name", default="cli")
        refill = sub.add_parser("refill-pool")
        refill.add_argument("--size", type=int)

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except ApplicationError as exc:
            details = f" {exc.fields}" if exc.fields else ""
            raise CommandError(f"{exc.code}: {exc.message}{details}") from exc

    def _create(self, slug, name, currency, default_locale, commission_bps, sample_data, no_categories, **_):
        values = {k: v for k, v in {"currency": currency, "default_locale": default_locale,
                                    "commission_bps": commission_bps}.items() if v is not None}
        made = services.tenant_create(slug=slug, name=name, actor=CLI, **values)
        if not no_categories or sample_data:
            sample_data_module.categories(tenant=made.tenant)
        if sample_data:
            sample_data_module.load(tenant=made.tenant)
        self.stdout.write(f"created {made.tenant.slug} at {made.tenant.host} (schema {made.tenant.schema_name})")
        self.stdout.write(f"secret key (shown once): {made.secret_key}")

    def _list(self, **_):
        for tenant in selectors.tenant_list():
            self.stdout.write(f"{tenant.slug}\t{tenant.status}\t{tenant.host}\t{tenant.name}")

    def _suspend(self, slug, reason, **_):
        services.tenant_suspend(tenant=selectors.tenant_get(slug=slug), actor=CLI, reason=reason)
        self.stdout.write(f"suspended {slug}")

    def _activate(self, slug, **_):
        services.tenant_activate(tenant=selectors.tenant_get(slug=slug), actor=CLI)
        self.stdout.write(f"activated {slug}")

    def _delete(self, slug, yes, **_):
        if not yes:
            raise CommandError("Deleting drops the schema and all its data: pass --yes to confirm.")
        services.tenant_delete(tenant=selectors.tenant_get(slug=slug))
        self.stdout.write(f"deleted {slug}")

    def _create_key(self, slug, name, **_):
        _key, raw = services.secret_key_create(tenant=selectors.tenant_get(slug=slug), actor=CLI, name=name)
        self.stdout.write(raw)

    def _refill_pool(self, size, **_):
        made = provisioning.pool_refill(size)
        self.stdout.write(f"cloned {made} spare schema(s)")


sample_data_module = sample_data

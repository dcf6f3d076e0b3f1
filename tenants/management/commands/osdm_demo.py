"""Provision (or refresh) the `demo` marketplace with sample data and print how to use it.

Idempotent: the demo tenant is created once; its demo secret key is kept under .osdm/ so every
`make run` prints a key that works.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from osdm.audit.services import Actor
from tenants import provisioning, sample_data, services
from tenants.models import SecretKey, Tenant, hash_secret

KEY_FILE = Path(settings.ROOT_DIR) / ".osdm" / "demo_secret_key"


class Command(BaseCommand):
    help = "Create the demo marketplace with sample users and print the URLs and keys."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--slug", default="demo")

    def handle(self, *args, port: str, slug: str, **options):
        provisioning.template_ensure()
        tenant = Tenant.objects.filter(slug=slug).first()
        raw = KEY_FILE.read_text().strip() if KEY_FILE.exists() else None
        if tenant is None:
            made = services.tenant_create(slug=slug, name="OSDM Demo", display_name_en="OSDM Demo Market",
                                          display_name_ar="سوق OSDM التجريبي")
            tenant, raw = made.tenant, made.secret_key
        elif not raw or not SecretKey.objects.usable().filter(tenant=tenant, key_hash=hash_secret(raw)).exists():
            _key, raw = services.secret_key_create(tenant=tenant, actor=Actor.system("demo"), name="demo")
        KEY_FILE.parent.mkdir(exist_ok=True)
        KEY_FILE.write_text(raw)
        KEY_FILE.chmod(0o600)
        if tenant.status != Tenant.Status.ACTIVE:
            services.tenant_activate(tenant=tenant, actor=Actor.system("demo"))
        emails = sample_data.load(tenant=tenant)
        provisioning.pool_refill()
        gateways = self._payments(tenant, port)

        base = settings.OSDM_BASE_DOMAIN
        api = f"http://{slug}.{base}:{port}/api/v1"
        self.stdout.write(f"""
  Platform API     http://{base}:{port}/platform/v1/tenants/     (docs: http://{base}:{port}/platform/v1/docs/)
  Platform key     {settings.OSDM_PLATFORM_KEY}
  Demo marketplace {api}/     (docs: {api}/docs/)
  Demo secret key  {raw}
  Demo buyer       {emails[0]} / {sample_data.DEMO_PASSWORD}
  Demo seller      {emails[1]} / {sample_data.DEMO_PASSWORD}

  Try:
    curl -s {api}/marketplace
    curl -s -X POST {api}/auth/token -H 'Content-Type: application/json' \\
         -d '{{"email": "{emails[0]}", "password": "{sample_data.DEMO_PASSWORD}"}}'
    curl -s {api}/users/ -H 'Authorization: Bearer {raw}'
  Python clients: connect to 127.0.0.1:{port} and send 'Host: {slug}.{base}'.
  Payments: {", ".join(gateways) or "no simulators running"} (offline simulators; cards and wallets pay on the
  sandbox page, STC Pay OTP 123456). See docs/payments.md.
""")

    def _payments(self, tenant, port: str) -> list[str]:
        """Point the demo's gateways at the simulators `make run` started, if it did."""
        import json

        from django.urls import reverse
        from django_tenants.utils import schema_context

        from osdm.payments.demo import configure_demo

        state = Path(settings.ROOT_DIR) / ".osdm" / "simulators.json"
        if not state.exists():
            return []
        simulators = json.loads(state.read_text())
        base = f"http://{tenant.host}:{port}"
        with schema_context(tenant.schema_name):
            return configure_demo(simulators=simulators, callback_url_for=lambda slug: base + reverse(
                "payment-callback", kwargs={"gateway": slug}))
